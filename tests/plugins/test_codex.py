"""The codex plugin through the real host, against recorded response shapes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready
from pluginharness import make_jwt

fixture = fixtures("codex")
USAGE_URL = "https://chatgpt.com/backend-api/wham/usage"
TOKEN_URL = "https://auth.openai.com/oauth/token"
AUTH = ".codex/auth.json"
REFRESH = "rt_fixture-refresh"
NEW_REFRESH = "rt_fixture-new-refresh"
SESSION_MS = 5 * 3600 * 1000
WEEK_MS = 7 * 24 * 3600 * 1000


def iso(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def access_token(exp_offset=3600, tag="a"):
    return make_jwt({"exp": int(time.time()) + exp_offset, "sub": f"user-{tag}", "scp": ["openid"]})


def id_token(account="acc-from-id-token"):
    return make_jwt(
        {"email": "dev@example.com", "https://api.openai.com/auth": {"chatgpt_account_id": account}}
    )


def auth_json(access, account_id="acc-fixture-1234", refresh=REFRESH):
    data = fixture("auth.json")
    data["tokens"].update(access_token=access, id_token=id_token(), refresh_token=refresh)
    if account_id is None:
        del data["tokens"]["account_id"]
    else:
        data["tokens"]["account_id"] = account_id
    return data


def write_auth(env, data, rel=AUTH, mode=0o600):
    return env.file(rel, json.dumps(data, indent=2), mode=mode)


def test_normal_account(plugin_env):
    access = access_token()
    path = write_auth(plugin_env, auth_json(access))
    before = path.read_bytes()
    usage = fixture("usage.json")
    plugin_env.web.add("GET", USAGE_URL, json=usage)
    run = ready(plugin_env.probe("codex"), source="oauth", plan="Pro 20x")
    assert run.metric("Session") == {
        "type": "progress",
        "label": "Session",
        "used": 37.0,
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": iso(1894021200),
        "periodDurationMs": SESSION_MS,
    }
    weekly = run.metric("Weekly")
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        12.0,
        iso(1894370400),
        WEEK_MS,
    )
    spark = run.metric("Spark")
    assert (spark["used"], spark["periodDurationMs"]) == (5.0, SESSION_MS)
    assert run.metric("Spark Weekly")["used"] == 2.0
    reviews = run.metric("Reviews")
    assert reviews["used"] == 25.0 and reviews["detail"] is True
    assert run.metric("Credits")["value"] == "820 credits · $32.80"
    assert run.metric("Rate limit resets")["value"] == "1 available"
    (request,) = plugin_env.requests_to(USAGE_URL)
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {access}"
    assert request.headers["chatgpt-account-id"] == "acc-fixture-1234"
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, access, REFRESH)


def test_free_plan_weekly_in_primary_and_header_overrides(plugin_env):
    write_auth(plugin_env, auth_json(access_token(), account_id=None))
    plugin_env.web.add(
        "GET",
        USAGE_URL,
        json=fixture("usage-free.json"),
        headers={"x-codex-primary-used-percent": "70", "x-codex-credits-balance": "10.5"},
    )
    run = ready(plugin_env.probe("codex"), plan="Free")
    assert not run.has_metric("Session")
    weekly = run.metric("Weekly")
    assert (weekly["used"], weekly["periodDurationMs"]) == (70.0, WEEK_MS)
    assert run.metric("Credits")["value"] == "10 credits · $0.40"
    # the account id comes from the id_token claim when auth.json has none
    assert plugin_env.requests_to(USAGE_URL)[0].headers["chatgpt-account-id"] == "acc-from-id-token"


def test_expired_token_is_refreshed_and_written_back(plugin_env):
    old = access_token(exp_offset=-60, tag="old")
    new = access_token(exp_offset=864000, tag="new")
    path = write_auth(plugin_env, auth_json(old), mode=0o640)
    token = fixture("token.json")
    token.update(access_token=new, id_token=id_token())
    plugin_env.web.add("POST", TOKEN_URL, json=token)
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("codex")
    assert run.state == "ready", run.error
    refresh = only_request(plugin_env, TOKEN_URL, content_type="application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(refresh.text()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "refresh_token": REFRESH,
    }
    assert plugin_env.requests_to(USAGE_URL)[0].headers["authorization"] == f"Bearer {new}"
    written = path.read_text()
    assert written.startswith('{\n  "OPENAI_API_KEY": null')  # Codex's pretty JSON is kept
    saved = json.loads(written)
    assert list(saved) == ["OPENAI_API_KEY", "tokens", "last_refresh"]
    assert (
        saved["tokens"]["access_token"] == new and saved["tokens"]["refresh_token"] == NEW_REFRESH
    )
    assert saved["tokens"]["account_id"] == "acc-fixture-1234"
    assert saved["last_refresh"] != "2030-01-10T08:00:00.000000Z"
    assert path.stat().st_mode & 0o777 == 0o640
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, old, new, REFRESH, NEW_REFRESH)


def test_codex_home_is_the_only_store_when_set(plugin_env):
    plugin_env.setenv("CODEX_HOME", str(plugin_env.path("codex-home")))
    write_auth(plugin_env, auth_json(access_token(tag="default")))  # ignored
    plugin_env.fake_command("secret-tool", "exit 1")
    expect(plugin_env.probe("codex"), "missing-auth", "codex login")
    alt = access_token(tag="alt")
    write_auth(plugin_env, auth_json(alt), rel="codex-home/auth.json")
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("codex")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(USAGE_URL)[0].headers["authorization"] == f"Bearer {alt}"


def test_token_refreshed_by_the_codex_cli_meanwhile_is_reused(plugin_env):
    path = write_auth(plugin_env, auth_json(access_token(tag="old")))
    fresh = access_token(exp_offset=864000, tag="cli")

    def rejected(_req):
        # The Codex CLI refreshes auth.json while our request is in flight.
        write_auth(plugin_env, auth_json(fresh, refresh="rt_fixture-cli-refresh"))
        return 401, {"Content-Type": "application/json"}, "{}"

    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    plugin_env.web.add_handler("GET", USAGE_URL, rejected, times=1)
    run = ready(plugin_env.probe("codex"))
    assert plugin_env.requests_to(USAGE_URL)[1].headers["authorization"] == f"Bearer {fresh}"
    assert plugin_env.requests_to(TOKEN_URL) == []
    saved = json.loads(path.read_text())["tokens"]
    assert saved["refresh_token"] == "rt_fixture-cli-refresh" and saved["access_token"] == fresh
    plugin_env.assert_no_secrets(run, fresh, "rt_fixture-cli-refresh")


def test_rejected_token_refresh_failure_keeps_the_file(plugin_env):
    path = write_auth(plugin_env, auth_json(access_token()))
    before = path.read_bytes()
    plugin_env.web.add("GET", USAGE_URL, status=401, json={"detail": "token revoked"})
    plugin_env.web.add(
        "POST",
        TOKEN_URL,
        status=401,
        json={"error": {"code": "refresh_token_reused", "message": "x"}},
    )
    run = plugin_env.probe("codex")
    assert run.state == "credential-denied"
    assert "sign-in conflict" in run.error and "codex login" in run.error
    assert path.read_bytes() == before
    plugin_env.assert_no_secrets(run, REFRESH)


def test_403_after_refresh_is_credential_denied(plugin_env):
    write_auth(plugin_env, auth_json(access_token()))
    token = fixture("token.json")
    token.update(access_token=access_token(tag="new"), id_token=id_token())
    plugin_env.web.add("POST", TOKEN_URL, json=token)
    plugin_env.web.add("GET", USAGE_URL, status=403, json={"detail": "forbidden"})
    expect(plugin_env.probe("codex"), "credential-denied", "HTTP 403")
    assert len(plugin_env.requests_to(USAGE_URL)) == 2
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1


def test_rate_limited_and_malformed_answers(plugin_env):
    write_auth(plugin_env, auth_json(access_token()))
    check_answers(
        plugin_env,
        "GET",
        USAGE_URL,
        lambda: plugin_env.probe("codex"),
        rate_limited(90),
        answer("failed", "HTML", body="<html>Cloudflare</html>"),
        answer("failed", "missing rate_limit", json={"plan_type": "plus"}),
        secrets=(REFRESH,),
    )


def test_missing_and_api_key_only(plugin_env):
    plugin_env.fake_command("secret-tool", "exit 1")
    expect(plugin_env.probe("codex"), "missing-auth", "Run `codex login`")
    plugin_env.file(AUTH, {"OPENAI_API_KEY": "sk-proj-fixture-key", "tokens": None})
    run = plugin_env.probe("codex")
    assert run.state == "missing-auth" and "API key" in run.error
    plugin_env.assert_no_secrets(run, "sk-proj-fixture-key")
    assert plugin_env.web.requests == []


def test_config_values_win(plugin_env):
    write_auth(plugin_env, auth_json(access_token(tag="file")))
    pasted = access_token(tag="pasted")
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("codex", api_key=pasted, workspace_id="ws-from-config")
    assert run.state == "ready", run.error
    request = plugin_env.requests_to(USAGE_URL)[0]
    assert request.headers["authorization"] == f"Bearer {pasted}"
    assert request.headers["chatgpt-account-id"] == "ws-from-config"
    expect(
        plugin_env.probe("codex", api_key="sk-proj-not-a-chatgpt-token"), "unsupported", "API key"
    )


def test_write_credentials_off_does_not_refresh(plugin_env):
    path = write_auth(plugin_env, auth_json(access_token(exp_offset=-10)))
    before = path.read_bytes()
    expect(
        plugin_env.probe("codex", write_credentials=False),
        "credential-denied",
        "writeCredentials is off",
    )
    assert plugin_env.web.requests == []
    assert path.read_bytes() == before


def test_keyring_store_is_never_refreshed(plugin_env):
    data = auth_json(access_token(exp_offset=-10))
    plugin_env.fake_command("secret-tool", f"cat <<'EOF'\n{json.dumps(data)}\nEOF")
    expect(plugin_env.probe("codex"), "credential-denied", "keyring")
    assert plugin_env.web.requests == []


def test_token_server_outage_reads_cleanly(plugin_env):
    write_auth(plugin_env, auth_json(access_token(exp_offset=-60)))
    plugin_env.web.add("POST", TOKEN_URL, status=503, body="down")
    run = expect(plugin_env.probe("codex"), "failed")
    assert run.error == "Codex sign-in server is unavailable right now (HTTP 503). Try again later."
    assert plugin_env.requests_to(USAGE_URL) == []
    plugin_env.assert_no_secrets(run, REFRESH)


def test_refresh_failure_keeps_a_token_that_is_still_valid(plugin_env):
    old = access_token(exp_offset=120)  # inside the early-refresh window, not expired
    path = write_auth(plugin_env, auth_json(old))
    before = path.read_bytes()
    plugin_env.web.add("POST", TOKEN_URL, status=503, body="down")
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = ready(plugin_env.probe("codex"), source="oauth")
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1
    assert only_request(plugin_env, USAGE_URL, authorization=f"Bearer {old}")
    assert any(level == "warn" and "sign-in server" in msg for level, msg in run.logs), run.logs
    assert path.read_bytes() == before
    plugin_env.assert_no_secrets(run, old, REFRESH)


def test_refused_refresh_of_a_token_still_valid_is_reported(plugin_env):
    write_auth(plugin_env, auth_json(access_token(exp_offset=120)))
    plugin_env.web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_grant"})
    expect(plugin_env.probe("codex"), "credential-denied", "codex login")
    assert plugin_env.requests_to(USAGE_URL) == []


def test_refresh_answer_with_tokens_that_are_not_text_keeps_the_old_ones(plugin_env):
    """A rotated refresh or id token of the wrong type must never reach Codex's own file."""
    old = access_token(exp_offset=-60, tag="old")
    new = access_token(exp_offset=864000, tag="new")
    path = write_auth(plugin_env, auth_json(old))
    before = json.loads(path.read_text())["tokens"]
    token = {**fixture("token.json"), "access_token": new, "refresh_token": [1], "id_token": 7}
    plugin_env.web.add("POST", TOKEN_URL, json=token)
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("codex")
    assert run.state == "ready", run.error
    saved = json.loads(path.read_text())["tokens"]
    assert saved["access_token"] == new
    assert saved["refresh_token"] == before["refresh_token"] == REFRESH
    assert saved["id_token"] == before["id_token"]
