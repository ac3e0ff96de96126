"""Grok Build plugin: ~/.grok/auth.json (rotating refresh, written back), pasted tokens, grok.com web."""

from __future__ import annotations

import json
import time
from datetime import datetime
from urllib.parse import parse_qs

import pytest
from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
)

fixture = fixtures("grok")
API = "https://cli-chat-proxy.grok.com/v1"
BILLING = API + "/billing"
SETTINGS = API + "/settings"
TOKEN_URL = "https://auth.x.ai/oauth2/token"
WEB = "https://grok.com/grok_api_v2.GrokBuildBilling/GetGrokCreditsConfig"
ENTRY = "https://auth.x.ai::client-0123"
CREDITS = fixture("billing-credits.json")
LEGACY = fixture("billing-legacy.json")
SETTINGS_JSON = fixture("settings.json")


def store(env, expires_at: object = "2030-01-01T00:00:00Z", indent: int | None = 2, **entry):
    data = fixture("auth.json")
    data[ENTRY]["expires_at"] = expires_at
    data[ENTRY].update(entry)
    text = json.dumps(data, indent=indent) + ("\n" if indent else "")
    return env.file(".grok/auth.json", text, mode=0o600)


def billing(env, body=None, **kw):
    env.web.add(
        "GET", BILLING, json=CREDITS if body is None else body, query={"format": "credits"}, **kw
    )


def settings(env):
    env.web.add("GET", SETTINGS, json=SETTINGS_JSON)


def test_normal_account_without_refresh(plugin_env):
    path = store(plugin_env)
    before = path.read_bytes()
    billing(plugin_env)
    settings(plugin_env)
    run = ready(plugin_env.probe("grok"), source="oauth", plan="SuperGrok")
    weekly = run.metric("Weekly limit")
    assert (weekly["used"], weekly["limit"], weekly["format"]) == (37.5, 100.0, {"kind": "percent"})
    assert weekly["resetsAt"] == "2030-01-05T00:00:00Z"
    assert weekly["periodDurationMs"] == 7 * 86_400_000
    payg = run.metric("Pay as you go")
    assert (payg["used"], payg["limit"], payg["format"]) == (12.5, 50.0, {"kind": "dollars"})
    assert payg["resetsAt"] == "2030-01-15T00:00:00Z"
    (req,) = plugin_env.requests_to(BILLING)
    assert req.query == {"format": "credits"}
    assert req.headers["authorization"] == "Bearer grok-access-token-old"
    assert req.headers["x-xai-token-auth"] == "xai-grok-cli"
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before  # a valid token is never refreshed or rewritten
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "grok-access-token-old", "grok-refresh-token-old")


def test_expired_token_refreshes_and_writes_back(plugin_env):
    path = store(plugin_env, expires_at="2020-01-01T00:00:00Z")
    plugin_env.web.add(
        "POST",
        TOKEN_URL,
        json={
            "access_token": "grok-access-token-new",
            "refresh_token": "grok-refresh-token-new",
            "id_token": "id-token-new",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
    )
    billing(plugin_env)
    settings(plugin_env)
    run = plugin_env.probe("grok")
    assert run.state == "ready", run.error
    (token_req,) = plugin_env.requests_to(TOKEN_URL, "POST")
    assert parse_qs(token_req.text()) == {
        "grant_type": ["refresh_token"],
        "client_id": ["client-0123"],
        "refresh_token": ["grok-refresh-token-old"],
    }
    assert plugin_env.requests_to(BILLING)[0].headers["authorization"] == (
        "Bearer grok-access-token-new"
    )
    written = path.read_text()
    data = json.loads(written)
    entry = data[ENTRY]
    assert entry["key"] == "grok-access-token-new"
    assert entry["refresh_token"] == "grok-refresh-token-new"
    assert entry["id_token"] == "id-token-new"
    expires = time.mktime(time.strptime(entry["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(expires - time.time() - 3600) < 120
    assert list(entry) == [
        "key",
        "refresh_token",
        "expires_at",
        "oidc_client_id",
        "id_token",
        "auth_mode",
        "email",
        "team_id",
        "user_id",
        "principal_type",
    ]
    assert written.startswith('{\n  "https://auth.x.ai::client-0123": {\n    "key"')
    assert path.stat().st_mode & 0o777 == 0o600
    plugin_env.assert_no_secrets(
        run, "grok-access-token-new", "grok-refresh-token-new", "grok-refresh-token-old"
    )


def test_rejected_token_refreshes_once_with_epoch_expiry(plugin_env):
    future = int(time.time()) + 3 * 86400
    path = store(plugin_env, expires_at=future, indent=None, refresh_token=None)
    data = json.loads(path.read_text())
    del data[ENTRY]["refresh_token"]
    data[ENTRY]["refresh"] = "legacy-refresh-name"
    path.write_text(json.dumps(data))
    billing(plugin_env)
    settings(plugin_env)
    # routes answer newest first: the 401 once, then the usage
    plugin_env.web.add(
        "GET", BILLING, status=401, json={"error": "expired"}, query={"format": "credits"}, times=1
    )
    plugin_env.web.add(
        "POST",
        TOKEN_URL,
        json={"access_token": "fresh-1", "refresh_token": "r-2", "expires_in": 60},
    )
    run = plugin_env.probe("grok")
    assert run.state == "ready", run.error
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1
    assert [r.headers["authorization"] for r in plugin_env.requests_to(BILLING)] == [
        "Bearer grok-access-token-old",
        "Bearer fresh-1",
    ]
    entry = json.loads(path.read_text())[ENTRY]
    assert entry["refresh"] == "r-2" and "refresh_token" not in entry
    assert isinstance(entry["expires_at"], int) and abs(entry["expires_at"] - time.time() - 60) < 60
    assert "\n" not in path.read_text()  # compact stays compact


def test_write_credentials_off_and_invalid_grant(plugin_env):
    path = store(plugin_env, expires_at="2020-01-01T00:00:00Z")
    before = path.read_bytes()
    expect(plugin_env.probe("grok", write_credentials=False), "credential-denied", "grok login")
    assert plugin_env.requests_to(TOKEN_URL) == []
    plugin_env.web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_grant"})
    run = plugin_env.probe("grok")
    assert run.state == "credential-denied"
    assert "expired or was revoked" in run.error and "grok login" in run.error
    assert path.read_bytes() == before


def test_legacy_billing_and_pasted_token(plugin_env):
    store(plugin_env)  # the config token wins over the file
    plugin_env.web.add("GET", BILLING, status=404, json={}, query={"format": "credits"})
    plugin_env.web.add("GET", BILLING, json=LEGACY)
    plugin_env.web.add("GET", SETTINGS, status=500, body="oops")
    run = plugin_env.probe("grok", api_key="pasted-supergrok-token")
    assert run.state == "ready", run.error
    credits = run.metric("Credits used")
    assert credits["used"] == pytest.approx(4277 / 60000 * 100)
    assert credits["resetsAt"] == "2030-01-15T00:00:00Z"
    assert credits["periodDurationMs"] == 31 * 86_400_000
    assert run.metric("Pay as you go") == {
        "type": "badge",
        "label": "Pay as you go",
        "text": "Disabled",
        "color": "grey",
    }
    assert "plan" not in run.json
    assert {r.headers["authorization"] for r in plugin_env.requests_to(BILLING)} == {
        "Bearer pasted-supergrok-token"
    }
    plugin_env.assert_no_secrets(run, "pasted-supergrok-token")


def test_rejected_env_token(plugin_env):
    plugin_env.setenv("GROK_OAUTH_TOKEN", "env-token-123")
    billing(plugin_env, status=403, body={"error": "forbidden"})
    run = expect(plugin_env.probe("grok"), "credential-denied", "GROK_OAUTH_TOKEN")
    assert plugin_env.requests_to(TOKEN_URL) == []
    plugin_env.assert_no_secrets(run, "env-token-123")


def test_rate_limited_and_malformed_answers(plugin_env):
    store(plugin_env)
    credits = {"query": {"format": "credits"}}
    check_answers(
        plugin_env,
        "GET",
        BILLING,
        lambda: plugin_env.probe("grok"),
        rate_limited(300, **credits),
        answer("failed", "HTML", body="<html>proxy error</html>", **credits),
        secrets=("grok-access-token-old", "grok-refresh-token-old"),
    )
    billing(plugin_env, body={"unexpected": True})
    plugin_env.web.add("GET", BILLING, json={"also": "unexpected"})
    expect(plugin_env.probe("grok"), "failed", "Grok billing response changed: missing config.")


def test_custom_base_url(plugin_env):
    store(plugin_env)
    base = "https://grok-gateway.example.com/v1"
    plugin_env.web.add("GET", base + "/billing", json=CREDITS, query={"format": "credits"}, times=1)
    plugin_env.web.add("GET", base + "/settings", json=SETTINGS_JSON, times=1)
    ready(plugin_env.probe("grok", base_url=base + "/"), source="oauth")
    assert plugin_env.requests_to(BILLING) == []
    for url in ("http://grok-gateway.example.com/v1", "https://user:pw@grok-gateway.example.com"):
        expect(plugin_env.probe("grok", base_url=url), "failed", "Grok baseUrl")
    expect(
        plugin_env.probe("grok", base_url="http://grok-gateway.example.com/v1"),
        "failed",
        "plain http to a public host",
    )
    assert len(plugin_env.web.requests) == 2 and plugin_env.web.unmatched == []


def test_missing_credential(plugin_env):
    expect(plugin_env.probe("grok"), "missing-auth", "grok login")
    expect(plugin_env.probe("grok", api_key="xai-console-key-123"), "credential-denied", "xai-")
    assert plugin_env.web.requests == []


def test_team_principal(plugin_env):
    store(plugin_env, principal_type="team")
    run = plugin_env.probe("grok")
    assert run.state == "ready"
    assert run.metric("Usage")["value"] == "Team usage not available for team sign-ins"
    assert plugin_env.web.requests == []


def test_web_session(plugin_env):
    cookie = "sso=grok-sso-secret; sso-rw=grok-rw-secret"
    plugin_env.web.add("POST", WEB, json=CREDITS)
    run = ready(
        plugin_env.probe("grok", source="web", cookie_header=cookie),
        source="web",
        plan="Super Grok",
    )
    assert run.metric("Weekly limit")["used"] == 37.5
    req = only_request(plugin_env, WEB, "POST", cookie=cookie, content_type="application/json")
    assert req.json() == {}
    plugin_env.web.add("POST", WEB, status=401, json={"code": "unauthenticated"})
    run = plugin_env.probe("grok", source="web", cookie_header=cookie)
    assert run.state == "credential-denied"
    assert "usagestat auth import-cookies --provider grok --save" in run.error
    plugin_env.web.add("POST", WEB, status=200, json={}, headers={"grpc-status": "16"})
    run = plugin_env.probe("grok", source="web", cookie_header=cookie)
    assert run.state == "credential-denied" and "gRPC status 16" in run.error
    plugin_env.assert_no_secrets(run, "grok-sso-secret", "grok-rw-secret")
    # auto without a CLI sign-in falls back to the cookie (env)
    plugin_env.setenv("GROK_COOKIE", "sso=env-cookie")
    plugin_env.web.add("POST", WEB, json=CREDITS)
    assert plugin_env.probe("grok").json["source"] == "web"
    run = plugin_env.probe("grok", source="web")
    assert run.state == "ready"


def test_grok_home_override(plugin_env):
    home = plugin_env.path("elsewhere")
    plugin_env.setenv("GROK_HOME", str(home))
    plugin_env.file("elsewhere/auth.json", fixture("auth.json"))
    billing(plugin_env)
    settings(plugin_env)
    assert plugin_env.probe("grok").state == "ready"


def test_a_period_type_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack. The
    period's kind is then unknown: a plain "Credits" line over the period's dates."""
    store(plugin_env)
    body = deeply_nested(CREDITS, "config", "currentPeriod", "type")
    plugin_env.web.add("GET", BILLING, body=body, query={"format": "credits"})
    settings(plugin_env)
    run = ready(plugin_env.probe("grok"), source="oauth", plan="SuperGrok")
    credits = run.metric("Credits")
    assert (credits["used"], credits["periodDurationMs"]) == (37.5, 7 * 86_400_000)


def test_refresh_answer_with_a_nested_refresh_token_keeps_the_old_one(plugin_env):
    """Regression: a refresh_token nested thousands deep was written into the CLI's file
    (and reading it back overflowed the stack)."""
    path = store(plugin_env, expires_at="2020-01-01T00:00:00Z")
    answer = {"access_token": "grok-access-token-new", "refresh_token": "x", "expires_in": 3600}
    plugin_env.web.add("POST", TOKEN_URL, body=deeply_nested(answer, "refresh_token"))
    billing(plugin_env)
    settings(plugin_env)
    run = plugin_env.probe("grok")
    assert run.state == "ready", run.error
    entry = json.loads(path.read_text())[ENTRY]
    assert entry["key"] == "grok-access-token-new"
    assert entry["refresh_token"] == "grok-refresh-token-old"


@pytest.mark.parametrize(
    "expires_at",
    [
        pytest.param("2020-01-01T00:00:00Z", id="iso"),
        pytest.param(1577836800, id="epoch"),
        pytest.param("1577836800", id="epoch-text"),
    ],
)
@pytest.mark.parametrize("odd", [1e308, 2**53 + 1, "9" * 40])
def test_refresh_answer_with_an_expires_in_beyond_any_date_still_saves_the_pair(
    plugin_env, expires_at, odd
):
    """Regression: such an expires_in threw "RangeError: Date value is NaN" after the
    server had rotated the refresh token, so the new pair was never saved and the CLI
    was left with a spent refresh token (or, in epoch form, expires_at was written as
    null). The pair is saved, with an hour's expiry in the file's own form (the spent
    expiry would make every later probe refresh again)."""
    path = store(plugin_env, expires_at=expires_at)
    answer = {
        "access_token": "grok-access-token-new",
        "refresh_token": "grok-refresh-token-new",
        "expires_in": odd,
    }
    plugin_env.web.add("POST", TOKEN_URL, json=answer)
    billing(plugin_env)
    settings(plugin_env)
    run = plugin_env.probe("grok")
    assert run.state == "ready", run.error
    entry = json.loads(path.read_text())[ENTRY]
    assert entry["key"] == "grok-access-token-new"
    assert entry["refresh_token"] == "grok-refresh-token-new"
    written = entry["expires_at"]
    assert type(written) is type(expires_at)
    if isinstance(written, str) and not written.isdigit():
        seconds = datetime.fromisoformat(written.replace("Z", "+00:00")).timestamp()
    else:
        seconds = float(written)
    assert abs(seconds - time.time() - 3600) < 120
