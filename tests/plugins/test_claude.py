"""The claude plugin through the real host, against recorded response shapes."""

from __future__ import annotations

import json
import time

import pytest
from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready
from pluginharness import make_jwt

fixture = fixtures("claude")
USAGE_URL = "https://api.anthropic.com/api/oauth/usage"
TOKEN_URL = "https://platform.claude.com/v1/oauth/token"
ORGS_URL = "https://claude.ai/api/organizations"
CREDS = ".claude/.credentials.json"
ACCESS = "sk-ant-oat01-fixture-access"
REFRESH = "sk-ant-ort01-fixture-refresh"
NEW_ACCESS = "sk-ant-oat01-fixture-new-access"
NEW_REFRESH = "sk-ant-ort01-fixture-new-refresh"
SESSION_MS = 5 * 3600 * 1000
WEEK_MS = 7 * 24 * 3600 * 1000


def creds(**changes):
    data = fixture("credentials.json")
    data["claudeAiOauth"].update(changes)
    return data


def write_creds(env, data, rel=CREDS, mode=0o600):
    return env.file(rel, json.dumps(data, separators=(",", ":")), mode=mode)


def no_keychain(env):
    env.fake_command("secret-tool", "exit 1")


def test_normal_account(plugin_env):
    path = write_creds(plugin_env, creds())
    before = path.read_bytes()
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = ready(plugin_env.probe("claude"), source="oauth", plan="Max 20x")
    session = run.metric("Session")
    assert session == {
        "type": "progress",
        "label": "Session",
        "used": 37.0,
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": "2030-01-15T15:00:00.123Z",
        "periodDurationMs": SESSION_MS,
    }
    weekly = run.metric("Weekly")
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        12.5,
        "2030-01-19T09:00:00Z",
        WEEK_MS,
    )
    sonnet = run.metric("Sonnet")
    assert sonnet["used"] == 4.0 and sonnet["detail"] is True
    assert not run.has_metric("Opus")  # seven_day_opus is null and no scoped opus entry
    fable = run.metric("Fable")
    assert fable["used"] == 57.0 and fable["periodDurationMs"] == WEEK_MS and "detail" not in fable
    assert not run.has_metric("Haiku")  # percent null
    labels = [m["label"] for m in run.metrics]
    assert labels.count("Sonnet") == 1  # the scoped "sonnet" entry duplicates seven_day_sonnet
    routines = run.metric("Routines")
    assert routines["used"] == 1.0 and routines["detail"] is True
    extra = run.metric("Extra usage")
    assert (extra["used"], extra["limit"], extra["format"]) == (5.25, 100.0, {"kind": "dollars"})
    (request,) = plugin_env.requests_to(USAGE_URL)
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {ACCESS}"
    assert request.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert request.headers["user-agent"].startswith("claude-code/")
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH, "mcp-fixture-token")


def test_limits_array_only_and_extra_usage_without_limit(plugin_env):
    write_creds(plugin_env, creds(subscriptionType="pro", rateLimitTier="default_claude_ai"))
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage-limits-only.json"))
    run = ready(plugin_env.probe("claude"), plan="Pro")
    assert run.metric("Session")["used"] == 52.0
    assert run.metric("Session")["resetsAt"] == "2030-01-15T15:00:00Z"
    assert run.metric("Weekly")["used"] == 20.0
    assert run.metric("Fable")["used"] == 21.0
    assert run.metric("Extra usage") == {
        "type": "text",
        "label": "Extra usage",
        "value": "€12.34 spent (no monthly limit)",
    }


def test_expired_token_is_refreshed_and_written_back(plugin_env):
    data = creds(expiresAt=1000)
    path = write_creds(plugin_env, data, mode=0o640)
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    (refresh,) = plugin_env.requests_to(TOKEN_URL)
    body = refresh.json()
    assert body["grant_type"] == "refresh_token"
    assert body["refresh_token"] == REFRESH
    assert body["client_id"] == "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
    assert "user:profile" in body["scope"]
    assert refresh.headers["content-type"] == "application/json"
    only_request(plugin_env, USAGE_URL, authorization=f"Bearer {NEW_ACCESS}")
    written = path.read_text()
    assert "\n" not in written  # Claude Code's minified JSON is kept
    saved = json.loads(written)
    assert list(saved) == ["claudeAiOauth", "mcpOAuth"]
    oauth = saved["claudeAiOauth"]
    assert oauth["accessToken"] == NEW_ACCESS and oauth["refreshToken"] == NEW_REFRESH
    assert abs(oauth["expiresAt"] - (time.time() + 28800) * 1000) < 60_000
    assert oauth["subscriptionType"] == "max" and saved["mcpOAuth"] == data["mcpOAuth"]
    assert path.stat().st_mode & 0o777 == 0o640
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH)


def test_claude_config_dir_store_is_used_and_refreshed(plugin_env):
    plugin_env.setenv("CLAUDE_CONFIG_DIR", str(plugin_env.path("alt-claude")))
    write_creds(plugin_env, creds(accessToken="sk-ant-oat01-home-token"))  # ignored
    path = write_creds(plugin_env, creds(expiresAt=1000), rel="alt-claude/.credentials.json")
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    assert json.loads(path.read_text())["claudeAiOauth"]["accessToken"] == NEW_ACCESS
    assert plugin_env.read_json(CREDS)["claudeAiOauth"]["accessToken"] == "sk-ant-oat01-home-token"


def test_rejected_token_is_refreshed_once(plugin_env):
    write_creds(plugin_env, creds())
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    plugin_env.web.add(
        "GET", USAGE_URL, status=401, json={"error": {"type": "authentication_error"}}, times=1
    )
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(USAGE_URL)]
    assert auths == [f"Bearer {ACCESS}", f"Bearer {NEW_ACCESS}"]
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1


def test_token_refreshed_by_claude_code_meanwhile_is_reused(plugin_env):
    path = write_creds(plugin_env, creds())

    def rejected(_req):
        # Claude Code refreshes the file while our request is in flight.
        write_creds(
            plugin_env, creds(accessToken="sk-ant-oat01-from-cli", refreshToken="sk-ant-ort01-cli")
        )
        return 401, {"Content-Type": "application/json"}, "{}"

    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    plugin_env.web.add_handler("GET", USAGE_URL, rejected, times=1)
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    assert (
        plugin_env.requests_to(USAGE_URL)[1].headers["authorization"]
        == "Bearer sk-ant-oat01-from-cli"
    )
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert json.loads(path.read_text())["claudeAiOauth"]["refreshToken"] == "sk-ant-ort01-cli"


def test_refresh_rejected_is_credential_denied_and_file_untouched(plugin_env):
    path = write_creds(plugin_env, creds(expiresAt=1000))
    before = path.read_bytes()
    plugin_env.web.add(
        "POST", TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": REFRESH}
    )
    run = plugin_env.probe("claude")
    assert run.state == "credential-denied"
    assert "Claude session expired" in run.error and "Run `claude` to sign in again" in run.error
    assert path.read_bytes() == before
    assert plugin_env.requests_to(USAGE_URL) == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH)


def test_401_and_403(plugin_env):
    write_creds(plugin_env, creds())
    plugin_env.web.add("GET", USAGE_URL, status=401, json={"error": "unauthorized"})
    plugin_env.web.add("POST", TOKEN_URL, status=401, json={"error": "invalid_grant"})
    expect(plugin_env.probe("claude"), "credential-denied", "`claude`")
    plugin_env.web.reset()
    plugin_env.web.add("GET", USAGE_URL, status=403, json={"error": "forbidden"})
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    run = plugin_env.probe("claude")
    assert run.state == "credential-denied"
    assert "HTTP 403" in run.error and "Run `claude` to sign in again" in run.error
    assert len(plugin_env.requests_to(USAGE_URL)) == 2  # one retry after one refresh
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH)


def test_rate_limited_and_malformed_answers(plugin_env):
    write_creds(plugin_env, creds())
    check_answers(
        plugin_env,
        "GET",
        USAGE_URL,
        lambda: plugin_env.probe("claude"),
        rate_limited(120, "retry in ~2m", json={"error": "rate_limited"}),
        answer("failed", "HTML", body="<html><body>Just a moment...</body></html>"),
        answer("failed", "not JSON", body="not json at all"),
        answer("failed", "missing five_hour", json={"unexpected": True}),
        secrets=(ACCESS, REFRESH),
    )
    assert plugin_env.requests_to(TOKEN_URL) == []


def test_missing_credentials(plugin_env):
    no_keychain(plugin_env)
    run = plugin_env.probe("claude")
    assert run.state == "missing-auth"
    assert "Run `claude` to sign in" in run.error
    assert plugin_env.web.requests == []


def test_config_api_key_wins_over_the_file(plugin_env):
    write_creds(plugin_env, creds())
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude", api_key="sk-ant-oat01-config-token")
    assert run.state == "ready", run.error
    assert (
        plugin_env.requests_to(USAGE_URL)[0].headers["authorization"]
        == "Bearer sk-ant-oat01-config-token"
    )
    plugin_env.assert_no_secrets(run, "sk-ant-oat01-config-token")
    expect(
        plugin_env.probe("claude", api_key="sk-ant-api03-not-for-usage"), "unsupported", "API key"
    )


def test_env_setup_token_without_profile_scope(plugin_env):
    no_keychain(plugin_env)
    plugin_env.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-setup-token")
    plugin_env.web.add("GET", USAGE_URL, status=403, json={"error": "missing scope"})
    run = expect(plugin_env.probe("claude"), "credential-denied", "user:profile")
    assert (
        plugin_env.requests_to(USAGE_URL)[0].headers["authorization"]
        == "Bearer sk-ant-oat01-setup-token"
    )
    assert plugin_env.requests_to(TOKEN_URL) == []
    plugin_env.assert_no_secrets(run, "sk-ant-oat01-setup-token")


def test_token_without_profile_scope_is_refused_early(plugin_env):
    write_creds(plugin_env, creds(scopes=["user:inference"]))
    expect(plugin_env.probe("claude"), "credential-denied", "user:profile")
    assert plugin_env.web.requests == []


def test_write_credentials_off_does_not_refresh(plugin_env):
    path = write_creds(plugin_env, creds(expiresAt=1000))
    before = path.read_bytes()
    run = plugin_env.probe("claude", write_credentials=False)
    assert run.state == "credential-denied"
    assert "writeCredentials is off" in run.error and "Run `claude`" in run.error
    assert plugin_env.web.requests == []
    assert path.read_bytes() == before


def test_expiring_but_still_valid_token_is_used_when_refresh_is_not_allowed(plugin_env):
    soon = (time.time() + 120) * 1000  # inside the 5-minute window, not yet expired
    path = write_creds(plugin_env, creds(expiresAt=soon))
    before = path.read_bytes()
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude", write_credentials=False)
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before


def test_keychain_store_is_never_refreshed(plugin_env):
    item = (
        json.dumps(creds(expiresAt=1000)).encode().hex()
    )  # Claude Code may store hex-encoded JSON
    plugin_env.fake_command(
        "secret-tool",
        f'[ "$3" = "Claude Code-credentials" ] && printf %s {item} && exit 0\nexit 1',
    )
    run = plugin_env.probe("claude")
    assert run.state == "credential-denied"
    assert "keychain" in run.error and "Run `claude` to sign in again" in run.error
    assert plugin_env.web.requests == []


def test_keychain_store_with_valid_token(plugin_env):
    item = json.dumps(creds())
    plugin_env.fake_command("secret-tool", f"cat <<'EOF'\n{item}\nEOF")
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = ready(plugin_env.probe("claude"), plan="Max 20x")
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH)


def test_web_mode_with_session_cookie(plugin_env):
    org = "5d1e0c2a-0000-4000-8000-0000000chat0"
    plugin_env.web.add("GET", ORGS_URL, json=fixture("organizations.json"))
    plugin_env.web.add("GET", f"{ORGS_URL}/{org}/usage", json=fixture("usage.json"))
    run = ready(
        plugin_env.probe("claude", source="web", cookie_header="sk-ant-sid01-fixture-session"),
        source="web",
        plan="Max 5x",
    )
    assert run.metric("Session")["used"] == 37.0
    for request in plugin_env.web.requests:
        assert request.headers["cookie"] == "sessionKey=sk-ant-sid01-fixture-session"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "sk-ant-sid01-fixture-session")


def test_web_mode_from_env_in_auto_and_expired_session(plugin_env):
    no_keychain(plugin_env)
    plugin_env.setenv("CLAUDE_AI_SESSION_KEY", "sessionKey=sk-ant-sid01-env-session")
    plugin_env.web.add("GET", ORGS_URL, status=302, headers={"Location": "/login"})
    expect(plugin_env.probe("claude"), "credential-denied", "sessionKey")
    assert (
        plugin_env.requests_to(ORGS_URL)[0].headers["cookie"]
        == "sessionKey=sk-ant-sid01-env-session"
    )
    plugin_env.web.add("GET", ORGS_URL, body="<!DOCTYPE html><html>login</html>")
    run = plugin_env.probe("claude")
    assert run.state == "credential-denied" and "expired" in run.error
    plugin_env.assert_no_secrets(run, "sk-ant-sid01-env-session")


def test_web_mode_without_cookie(plugin_env):
    expect(plugin_env.probe("claude", source="web"), "missing-auth", "CLAUDE_AI_SESSION_KEY")


def test_cli_usage_for_claude_and_codex(plugin_env):
    write_creds(plugin_env, creds())
    codex_access = make_jwt({"exp": int(time.time()) + 3600})
    codex_auth = {
        "OPENAI_API_KEY": None,
        "tokens": {
            "access_token": codex_access,
            "refresh_token": "rt_cli-refresh",
            "account_id": "acc-cli",
        },
        "last_refresh": "2030-01-10T08:00:00Z",
    }
    plugin_env.file(".codex/auth.json", json.dumps(codex_auth, indent=2))
    codex_usage = fixtures("codex")("usage.json")
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    plugin_env.web.add("GET", "https://chatgpt.com/backend-api/wham/usage", json=codex_usage)
    config = '[[providers]]\nid = "claude"\n\n[[providers]]\nid = "codex"\n'
    done = plugin_env.cli("--json", "usage", "claude", "codex", config_text=config)
    assert done.returncode == 0, done.stderr
    snapshots = {s["providerId"]: s for s in json.loads(done.stdout)}
    assert set(snapshots) == {"claude", "codex"}
    claude = snapshots["claude"]
    assert (
        claude["state"] == "ready" and claude["source"] == "oauth" and claude["plan"] == "Max 20x"
    )
    session = next(m for m in claude["metrics"] if m["label"] == "Session")
    assert (session["used"], session["limit"], session["periodDurationMs"]) == (
        37.0,
        100.0,
        SESSION_MS,
    )
    assert session["resetsAt"] == "2030-01-15T15:00:00.123Z"
    codex = snapshots["codex"]
    assert codex["state"] == "ready" and codex["plan"] == "Pro 20x"
    codex_session = next(m for m in codex["metrics"] if m["label"] == "Session")
    assert (codex_session["used"], codex_session["periodDurationMs"]) == (37.0, SESSION_MS)
    weekly = next(m for m in codex["metrics"] if m["label"] == "Weekly")
    assert (weekly["used"], weekly["periodDurationMs"]) == (12.0, WEEK_MS)
    for secret in (ACCESS, REFRESH, codex_access, "rt_cli-refresh"):
        assert secret not in done.stdout and secret not in done.stderr
    assert plugin_env.web.unmatched == []


@pytest.mark.parametrize("odd", [12345, {}, "", None])
def test_refresh_answer_with_a_refresh_token_that_is_not_text_keeps_the_old_one(plugin_env, odd):
    """A rotated token of the wrong type must never reach Claude Code's own file."""
    path = write_creds(plugin_env, creds(expiresAt=1000))
    plugin_env.web.add("POST", TOKEN_URL, json={**fixture("token.json"), "refresh_token": odd})
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    oauth = json.loads(path.read_text())["claudeAiOauth"]
    assert oauth["accessToken"] == NEW_ACCESS and oauth["refreshToken"] == REFRESH


@pytest.mark.parametrize("odd", [1e308, 2**53 + 1, "9" * 40])
def test_refresh_answer_with_an_expires_in_beyond_any_date_writes_the_default_expiry(
    plugin_env, odd
):
    """Regression: expires_in 1e308 was written as expiresAt null (and 2^53 as a time
    no date can hold) into Claude Code's file; such a lifetime is garbage, so the
    default 8 hours is written."""
    path = write_creds(plugin_env, creds(expiresAt=1000))
    plugin_env.web.add("POST", TOKEN_URL, json={**fixture("token.json"), "expires_in": odd})
    plugin_env.web.add("GET", USAGE_URL, json=fixture("usage.json"))
    run = plugin_env.probe("claude")
    assert run.state == "ready", run.error
    oauth = json.loads(path.read_text())["claudeAiOauth"]
    assert oauth["accessToken"] == NEW_ACCESS and oauth["refreshToken"] == NEW_REFRESH
    assert abs(oauth["expiresAt"] - (time.time() + 8 * 3600) * 1000) < 60_000
