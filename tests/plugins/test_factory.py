"""Factory plugin: Droid CLI login (AES-GCM auth.v2.file, auth.json), WorkOS refresh, API key."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
from helpers import deeply_nested, expect, fixtures, ready
from pluginharness import make_jwt

from usagestat.core import ciphers

fixture = fixtures("factory")
LIMITS = "https://api.factory.ai/api/billing/limits"
ME = "https://api.factory.ai/api/app/auth/me"
USAGE = "https://api.factory.ai/api/organization/subscription/usage"
WORKOS = "https://api.workos.com/user_management/authenticate"
V2_FILE = ".factory/auth.v2.file"
V2_KEY = ".factory/auth.v2.key"
REFRESH = "workos-refresh-token-original-1"
HOUR_MS = 3_600_000


def jwt(exp_offset: float = 3600, sub: str = "user_01EXAMPLE") -> str:
    return make_jwt({"sub": sub, "exp": int(time.time() + exp_offset), "org_id": "org_01EXAMPLE"})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_v2(env, payload: dict, key: bytes) -> Path:
    iv = os.urandom(16)
    ct, tag = ciphers.aes_gcm_encrypt(key, iv, json.dumps(payload).encode())
    env.file(V2_KEY, b64(key))
    return env.file(V2_FILE, f"{b64(iv)}:{b64(tag)}:{b64(ct)}")


def read_v2(path: Path, key: bytes) -> tuple[dict, bytes]:
    iv, tag, ct = (base64.b64decode(p) for p in path.read_text().strip().split(":"))
    return json.loads(ciphers.aes_gcm_decrypt(key, iv, ct, tag)), iv


def login_v2(env, access: str, key: bytes | None = None) -> tuple[Path, bytes]:
    key = key or os.urandom(32)
    payload = {
        "access_token": access,
        "refresh_token": REFRESH,
        "active_organization_id": "org_01EXAMPLE",
        "v": 2,
    }
    return write_v2(env, payload, key), key


def limits_routes(env) -> None:
    env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    env.web.add("GET", ME, json=fixture("auth-me.json"))


def test_token_rate_limit_windows_from_the_encrypted_login(plugin_env):
    access = jwt()
    path, _key = login_v2(plugin_env, access)
    before = path.read_bytes()
    limits_routes(plugin_env)
    run = ready(plugin_env.probe("factory"), source="oauth", plan="Max")
    session = run.metric("Session")
    assert (session["used"], session["limit"], session["format"]) == (
        12.5,
        100.0,
        {"kind": "percent"},
    )
    assert (
        session["resetsAt"] == "2030-01-01T05:00:00Z" and session["periodDurationMs"] == 5 * HOUR_MS
    )
    weekly = run.metric("Weekly")  # windowEnd in epoch seconds
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        40.0,
        "2030-01-08T00:00:00Z",
        7 * 24 * HOUR_MS,
    )
    monthly = run.metric("Monthly")  # windowEnd in epoch ms
    assert (monthly["used"], monthly["resetsAt"]) == (55.5, "2030-02-01T00:00:00Z")
    assert monthly["periodDurationMs"] == 31 * 24 * HOUR_MS
    core = run.metric("Core Session")
    assert (core["used"], core["detail"]) == (5.0, True)
    assert run.metric("Extra usage balance")["value"] == "$12.34"
    assert run.metric("Organization")["value"] == "Example Org"
    for url in (LIMITS, ME):
        (req,) = plugin_env.requests_to(url, "GET")
        assert req.headers["authorization"] == "Bearer " + access
        assert req.headers["origin"] == "https://app.factory.ai"
        assert req.headers["x-factory-client"] == "web-app"
    assert plugin_env.requests_to(USAGE) == [] and plugin_env.requests_to(WORKOS) == []
    assert plugin_env.web.unmatched == []
    assert path.read_bytes() == before  # a valid token is never refreshed
    plugin_env.assert_no_secrets(run, access, REFRESH)


def test_legacy_allowances_from_auth_json(plugin_env):
    access = jwt()
    plugin_env.file(".factory/auth.json", {"access_token": access, "refresh_token": REFRESH})
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits-legacy.json"))
    plugin_env.web.add("GET", ME, json={"organization": {"name": "Solo"}})
    plugin_env.web.add("POST", USAGE, status=405, body="")
    plugin_env.web.add(
        "GET", USAGE, json=fixture("subscription-usage.json"), query={"useCache": "true"}
    )
    run = plugin_env.probe("factory", source="oauth")
    assert run.state == "ready", run.error
    assert run.json["plan"] == "Pro"  # from the 20M Standard allowance
    standard = run.metric("Standard")
    assert (standard["used"], standard["limit"]) == (5_000_000.0, 20_000_000.0)
    assert standard["format"] == {"kind": "count", "suffix": "tokens"}
    assert standard["resetsAt"] == "2030-01-28T00:00:00Z"
    assert standard["periodDurationMs"] == 27 * 24 * HOUR_MS
    assert run.metric("Premium")["limit"] == 2_000_000.0
    post, get = plugin_env.requests_to(USAGE, "POST"), plugin_env.requests_to(USAGE, "GET")
    assert post[0].json() == {"useCache": True} and len(get) == 1
    assert plugin_env.web.unmatched == []


def test_expired_login_is_renewed_and_re_encrypted(plugin_env):
    path, key = login_v2(plugin_env, jwt(exp_offset=-120))
    _, old_iv = read_v2(path, key)
    new_access = jwt(exp_offset=3600, sub="user_renewed")
    plugin_env.web.add(
        "POST", WORKOS, json={**fixture("workos-refresh.json"), "access_token": new_access}
    )
    limits_routes(plugin_env)
    run = plugin_env.probe("factory")
    assert run.state == "ready", run.error
    (refresh,) = plugin_env.requests_to(WORKOS, "POST")
    assert refresh.json() == {
        "client_id": "client_01HNM792M5G5G1A2THWPXKFMXB",
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "organization_id": "org_01EXAMPLE",
    }
    assert plugin_env.requests_to(LIMITS)[0].headers["authorization"] == "Bearer " + new_access
    data, new_iv = read_v2(path, key)  # same key still opens it
    assert data == {
        "access_token": new_access,
        "refresh_token": "EXAMPLE-new-refresh",
        "active_organization_id": "org_01EXAMPLE",
        "v": 2,
    }
    assert new_iv != old_iv and len(new_iv) == 16
    assert plugin_env.path(V2_KEY).read_text() == b64(key)
    plugin_env.assert_no_secrets(run, REFRESH, new_access, "EXAMPLE-new-refresh")


def test_rejected_token_is_renewed_once_with_the_second_client_id(plugin_env):
    plugin_env.file(
        ".factory/auth.json",
        json.dumps({"access_token": jwt(), "refresh_token": REFRESH}, indent=2),
    )
    new_access = jwt(sub="user_second")

    def workos(req):
        if req.json()["client_id"] == "client_01HNM792M5G5G1A2THWPXKFMXB":
            return 400, {"Content-Type": "application/json"}, '{"error":"invalid_grant"}'
        body = {"access_token": new_access, "refresh_token": "rotated-2"}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    plugin_env.web.add_handler("POST", WORKOS, workos)
    limits_routes(plugin_env)
    plugin_env.web.add("GET", LIMITS, status=401, json={"detail": "expired"}, times=1)
    run = plugin_env.probe("factory")
    assert run.state == "ready", run.error
    assert [r.json()["client_id"] for r in plugin_env.requests_to(WORKOS)] == [
        "client_01HNM792M5G5G1A2THWPXKFMXB",
        "client_01HXRMBQ9BJ3E7QSTQ9X2PHVB7",
    ]
    assert plugin_env.requests_to(LIMITS)[1].headers["authorization"] == "Bearer " + new_access
    written = plugin_env.path(".factory/auth.json").read_text()
    assert written.startswith('{\n  "access_token"')
    assert json.loads(written) == {"access_token": new_access, "refresh_token": "rotated-2"}


def test_refused_renewal_and_persistent_401(plugin_env):
    path, _key = login_v2(plugin_env, jwt(exp_offset=-120))
    before = path.read_bytes()
    plugin_env.web.add("POST", WORKOS, status=400, json={"error": "invalid_grant"})
    expect(plugin_env.probe("factory"), "credential-denied", "droid")
    assert len(plugin_env.requests_to(WORKOS)) == 2
    assert path.read_bytes() == before
    assert plugin_env.requests_to(LIMITS) == []

    plugin_env.web.reset()
    login_v2(plugin_env, jwt())
    plugin_env.web.add("GET", LIMITS, status=403, json={})
    plugin_env.web.add("POST", WORKOS, json=fixture("workos-refresh.json"))
    expect(plugin_env.probe("factory"), "credential-denied", "droid")
    assert len(plugin_env.requests_to(LIMITS)) == 2 and len(plugin_env.requests_to(WORKOS)) == 1


def test_no_renewal_without_write_credentials_or_in_local_mode(plugin_env):
    path, _key = login_v2(plugin_env, jwt(exp_offset=-120))
    before = path.read_bytes()
    expect(
        plugin_env.probe("factory", write_credentials=False),
        "credential-denied",
        "writeCredentials",
    )
    expect(plugin_env.probe("factory", source="local"), "credential-denied", "local mode")
    assert plugin_env.web.requests == []
    assert path.read_bytes() == before


def test_api_key_sources(plugin_env):
    login_v2(plugin_env, jwt())
    plugin_env.setenv("FACTORY_API_KEY", "fk-env-key-222222")
    limits_routes(plugin_env)
    run = plugin_env.probe("factory", api_key="fk-config-key-111111")  # config wins in auto
    assert run.state == "ready", run.error
    assert run.json["source"] == "api"
    assert (
        plugin_env.requests_to(LIMITS)[0].headers["authorization"] == "Bearer fk-config-key-111111"
    )
    plugin_env.assert_no_secrets(run, "fk-config-key-111111")

    plugin_env.web.reset()
    limits_routes(plugin_env)
    run = plugin_env.probe("factory", source="api")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(LIMITS)[0].headers["authorization"] == "Bearer fk-env-key-222222"

    plugin_env.monkeypatch.delenv("FACTORY_API_KEY")
    plugin_env.file(".factory/.env", "# droid\nexport FACTORY_API_KEY='fk-dotenv-key-333333'\n")
    plugin_env.web.reset()
    plugin_env.web.add("GET", LIMITS, status=401, json={})
    expect(plugin_env.probe("factory", source="api"), "credential-denied", "api-keys")
    assert (
        plugin_env.requests_to(LIMITS)[0].headers["authorization"] == "Bearer fk-dotenv-key-333333"
    )


def test_auto_prefers_an_env_or_dotenv_key_over_the_login(plugin_env):
    login_v2(plugin_env, jwt())
    plugin_env.setenv("FACTORY_API_KEY", "fk-env-key-222222")
    limits_routes(plugin_env)
    ready(plugin_env.probe("factory"), source="api")
    assert plugin_env.requests_to(LIMITS)[0].headers["authorization"] == "Bearer fk-env-key-222222"

    plugin_env.monkeypatch.delenv("FACTORY_API_KEY")
    plugin_env.file(".factory/.env", "FACTORY_API_KEY=fk-dotenv-key-333333\n")
    plugin_env.web.reset()
    limits_routes(plugin_env)
    ready(plugin_env.probe("factory"), source="api")
    auth = plugin_env.requests_to(LIMITS)[0].headers["authorization"]
    assert auth == "Bearer fk-dotenv-key-333333"


def test_rate_limited(plugin_env):
    login_v2(plugin_env, jwt())
    plugin_env.web.add("GET", LIMITS, status=429, headers={"Retry-After": "120"}, json={})
    run = plugin_env.probe("factory")
    assert run.state == "rate-limited" and run.retry_after_sec == 120


def test_malformed_answers(plugin_env):
    login_v2(plugin_env, jwt())
    plugin_env.web.add("GET", LIMITS, body="<html>down</html>")
    plugin_env.web.add("GET", ME, json={})
    plugin_env.web.add("POST", USAGE, json={"unexpected": True})
    expect(plugin_env.probe("factory"), "failed", "missing usage")
    plugin_env.web.add("POST", USAGE, body="not json")
    expect(plugin_env.probe("factory"), "failed", "not JSON")
    plugin_env.file(V2_FILE, "garbage")
    expect(plugin_env.probe("factory"), "failed", "iv:tag:ciphertext")
    plugin_env.file(V2_KEY, b64(os.urandom(32)))
    login_v2(plugin_env, jwt())  # a key that does not match
    plugin_env.file(V2_KEY, b64(os.urandom(32)))
    expect(plugin_env.probe("factory"), "failed", "decrypt")


def test_not_logged_in(plugin_env):
    expect(plugin_env.probe("factory"), "missing-auth", "droid")
    expect(plugin_env.probe("factory", source="api"), "missing-auth", "FACTORY_API_KEY")
    assert plugin_env.web.requests == []


@pytest.mark.parametrize(
    ("path", "plan", "org"),
    [
        (("organization", "name"), "Max", False),
        (("organization", "subscription", "orbSubscription", "plan", "name"), "Team", True),
    ],
    ids=["organization", "plan"],
)
def test_a_name_nested_thousands_deep_is_ignored(plugin_env, path, plan, org):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.setenv("FACTORY_API_KEY", "fk-nested-test-key-1")
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    plugin_env.web.add("GET", ME, body=deeply_nested(fixture("auth-me.json"), *path))
    run = ready(plugin_env.probe("factory"), plan=plan)
    assert run.metric("Session")["used"] == 12.5
    assert run.has_metric("Organization") is org
