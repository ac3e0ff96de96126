"""Cursor plugin: state.vscdb token -> api2.cursor.sh Connect-RPC, cursor.com cookie path."""

from __future__ import annotations

import json
import time
from pathlib import Path

from helpers import (
    answer,
    check_answers,
    fixtures,
    only_request,
    rate_limited,
    ready,
    vscode_state_db,
)
from pluginharness import make_jwt

fixture = fixtures("cursor")
RPC = "https://api2.cursor.sh/aiserver.v1.DashboardService/"
USAGE = RPC + "GetCurrentPeriodUsage"
PLAN = RPC + "GetPlanInfo"
GRANTS = RPC + "GetCreditGrantsBalance"
SUMMARY = "https://cursor.com/api/usage-summary"
LEGACY = "https://cursor.com/api/usage"
ME = "https://cursor.com/api/auth/me"
LINUX_DB = ".config/Cursor/User/globalStorage/state.vscdb"
RESET = "2030-02-01T00:00:00.000Z"
PERIOD = 31 * 24 * 3600 * 1000


def token(exp_offset: float = 3600, sub: str = "auth0|user_01ABCDEF") -> str:
    return make_jwt(
        {
            "sub": sub,
            "exp": int(time.time() + exp_offset),
            "iss": "https://authentication.cursor.sh",
        }
    )


def logged_in(env, access: str, rel: str = LINUX_DB) -> Path:
    return vscode_state_db(
        env,
        rel,
        {
            "cursorAuth/accessToken": access,
            "cursorAuth/refreshToken": "cursor-refresh-secret-77",
            "cursorAuth/stripeMembershipType": "pro",
            "cursorAuth/cachedEmail": "dev@example.com",
        },
    )


def normal_routes(env) -> None:
    env.web.add("POST", USAGE, json=fixture("current-period-usage.json"))
    env.web.add("POST", PLAN, json=fixture("plan-info.json"))
    env.web.add("POST", GRANTS, json=fixture("credit-grants.json"))


def test_local_normal_account(plugin_env):
    access = token()
    db = logged_in(plugin_env, access)
    before = db.read_bytes()
    normal_routes(plugin_env)
    run = ready(plugin_env.probe("cursor"), source="local", plan="Pro Plus")
    total = run.metric("Total usage")
    assert (total["used"], total["limit"], total["format"]) == (62.5, 100.0, {"kind": "percent"})
    assert total["resetsAt"] == "2030-02-01T00:00:00Z"
    assert total["periodDurationMs"] == PERIOD
    assert "detail" not in total
    auto, api = run.metric("Auto usage"), run.metric("API usage")
    assert (auto["used"], auto["detail"], api["used"]) == (12.5, True, 40.0)
    spend = run.metric("Included spend")
    assert (spend["used"], spend["limit"], spend["format"]) == (12.5, 20.0, {"kind": "dollars"})
    assert run.metric("Bonus spend")["value"] == "$2.50"
    ondemand = run.metric("On-demand")
    assert (ondemand["used"], ondemand["limit"]) == (15.0, 50.0)
    credits = run.metric("Credits")
    assert (credits["used"], credits["limit"], credits["format"]["kind"]) == (2.5, 10.0, "dollars")
    for url in (USAGE, PLAN, GRANTS):
        (req,) = plugin_env.requests_to(url, "POST")
        assert req.headers["authorization"] == "Bearer " + access
        assert req.headers["connect-protocol-version"] == "1"
        assert req.text() == "{}"
    assert plugin_env.web.unmatched == []
    assert db.read_bytes() == before  # never written
    plugin_env.assert_no_secrets(run, access, "cursor-refresh-secret-77")


def test_macos_path_and_plan_from_membership(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "macos")
    access = token()
    logged_in(
        plugin_env,
        json.dumps(access),
        "Library/Application Support/Cursor/User/globalStorage/state.vscdb",
    )
    plugin_env.web.add("POST", USAGE, json=fixture("current-period-usage.json"))
    plugin_env.web.add("POST", PLAN, status=500, body="oops")
    plugin_env.web.add("POST", GRANTS, json={"hasCreditGrants": False})
    run = plugin_env.probe("cursor")
    assert run.state == "ready", run.error
    assert run.json["plan"] == "Pro"  # GetPlanInfo failed: the DB's membership type
    assert not run.has_metric("Credits")
    assert plugin_env.requests_to(USAGE)[0].headers["authorization"] == "Bearer " + access


def test_macos_keychain_wins_over_a_free_app_sign_in_of_another_user(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "macos")
    app, cli = token(sub="auth0|user_free"), token(sub="auth0|user_paid")
    db = "Library/Application Support/Cursor/User/globalStorage/state.vscdb"
    vscode_state_db(
        plugin_env,
        db,
        {"cursorAuth/accessToken": app, "cursorAuth/stripeMembershipType": "free"},
    )
    # the host reads the keychain through the platform's tool: secret-tool on this test machine
    plugin_env.fake_command("secret-tool", f"echo '{cli}'")
    normal_routes(plugin_env)
    run = ready(plugin_env.probe("cursor"), source="local")
    assert plugin_env.requests_to(USAGE)[0].headers["authorization"] == "Bearer " + cli
    plugin_env.assert_no_secrets(run, app, cli)
    # same user, or a paid app sign-in: the app's token is used
    plugin_env.web.reset()
    normal_routes(plugin_env)
    plugin_env.fake_command("secret-tool", f"echo '{token(sub='auth0|user_free', exp_offset=99)}'")
    ready(plugin_env.probe("cursor"))
    assert plugin_env.requests_to(USAGE)[0].headers["authorization"] == "Bearer " + app
    plugin_env.web.reset()
    normal_routes(plugin_env)
    vscode_state_db(plugin_env, db, {"cursorAuth/stripeMembershipType": "pro"})
    plugin_env.fake_command("secret-tool", f"echo '{cli}'")
    ready(plugin_env.probe("cursor"))
    assert plugin_env.requests_to(USAGE)[0].headers["authorization"] == "Bearer " + app


def test_windows_path_from_appdata(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "windows")
    plugin_env.setenv("APPDATA", str(plugin_env.path("Roaming")))
    logged_in(plugin_env, token(), "Roaming/Cursor/User/globalStorage/state.vscdb")
    normal_routes(plugin_env)
    run = plugin_env.probe("cursor")
    assert run.state == "ready", run.error
    assert run.metric("Total usage")["used"] == 62.5


def test_team_account_falls_back_to_usage_summary(plugin_env):
    access = token(sub="auth0|user_01TEAM")
    logged_in(plugin_env, access)
    plugin_env.web.add(
        "POST", USAGE, json={"billingCycleStart": "0", "billingCycleEnd": "0", "enabled": False}
    )
    plugin_env.web.add("GET", SUMMARY, json=fixture("usage-summary.json"))
    run = ready(plugin_env.probe("cursor"), plan="Enterprise")
    total = run.metric("Total usage")
    assert (total["used"], total["resetsAt"], total["periodDurationMs"]) == (
        42.0,
        "2030-02-01T00:00:00Z",
        PERIOD,
    )
    assert run.metric("API usage")["used"] == 32.0
    spend = run.metric("Included spend")
    assert (spend["used"], spend["limit"]) == (42.0, 100.0)
    assert run.metric("On-demand")["value"] == "$7.50 used (no limit)"
    cap = run.metric("Personal limit")
    assert (cap["used"], cap["limit"], cap["detail"]) == (49.5, 200.0, True)
    pool = run.metric("Team pool")
    assert (pool["used"], pool["limit"]) == (1200.0, 5000.0)
    assert run.metric("Team on-demand")["limit"] == 100.0
    only_request(plugin_env, SUMMARY, cookie="WorkosCursorSessionToken=user_01TEAM%3A%3A" + access)
    assert plugin_env.requests_to(PLAN) == []
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, access)


def test_web_mode_with_cookie_and_legacy_requests(plugin_env):
    cookie_token = token(sub="auth0|user_01WEB")
    cookie = "WorkosCursorSessionToken=user_01WEB%3A%3A" + cookie_token + "; other=1"
    logged_in(plugin_env, token())  # config cookie wins over the local token
    plugin_env.web.add(
        "GET",
        SUMMARY,
        json={"billingCycleStart": None, "membershipType": "free", "individualUsage": {}},
    )
    plugin_env.web.add(
        "GET", LEGACY, json=fixture("usage-legacy.json"), query={"user": "user_01WEB"}
    )
    run = ready(plugin_env.probe("cursor", cookie_header=cookie), source="web", plan="Free")
    req_line = run.metric("Requests")
    assert (req_line["used"], req_line["limit"]) == (123.0, 500.0)
    assert req_line["format"] == {"kind": "count", "suffix": "requests"}
    assert req_line["resetsAt"] == "2030-02-10T00:00:00Z"
    assert req_line["periodDurationMs"] == PERIOD
    assert plugin_env.requests_to(SUMMARY)[0].headers["cookie"] == cookie
    assert plugin_env.requests_to(USAGE) == [] and plugin_env.requests_to(ME) == []
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, cookie_token)


def test_web_mode_expired_session(plugin_env):
    plugin_env.web.add("GET", SUMMARY, status=307, headers={"Location": "/api/auth/login"})
    run = plugin_env.probe("cursor", source="web", cookie_header="Cookie: abc%3A%3Asecret-cookie-1")
    assert run.state == "credential-denied"
    assert "cursor.com" in run.error
    sent = plugin_env.requests_to(SUMMARY)[0].headers["cookie"]
    assert sent == "WorkosCursorSessionToken=abc%3A%3Asecret-cookie-1"  # a bare value is the token
    plugin_env.web.add("GET", SUMMARY, body="<!doctype html><html>Sign in</html>")
    run = plugin_env.probe(
        "cursor", source="web", cookie_header="WorkosCursorSessionToken=abc%3A%3Asecret-cookie-1"
    )
    assert run.state == "credential-denied"
    plugin_env.assert_no_secrets(run, "secret-cookie-1")
    assert plugin_env.probe("cursor", source="web").state == "missing-auth"


def test_expired_token_is_not_refreshed(plugin_env):
    db = logged_in(plugin_env, token(exp_offset=-60))
    before = db.read_bytes()
    run = plugin_env.probe("cursor", write_credentials=True)
    assert run.state == "credential-denied"
    assert "Open Cursor" in run.error
    assert plugin_env.web.requests == []
    assert db.read_bytes() == before


def test_rejected_token(plugin_env):
    access = token()
    logged_in(plugin_env, access)
    plugin_env.web.add("POST", USAGE, status=401, json={"error": "unauthenticated"})
    run = plugin_env.probe("cursor")
    assert run.state == "credential-denied"
    assert "Open Cursor" in run.error
    assert len(plugin_env.requests_to(USAGE)) == 1  # no retry, no refresh
    plugin_env.assert_no_secrets(run, access)
    plugin_env.web.reset()
    plugin_env.web.add("POST", USAGE, status=403, json={"error": "forbidden"})
    run = plugin_env.probe("cursor")
    assert run.state == "credential-denied" and "Open Cursor" in run.error
    assert len(plugin_env.requests_to(USAGE)) == 1
    plugin_env.assert_no_secrets(run, access)


def test_rate_limited_and_malformed_answers(plugin_env):
    logged_in(plugin_env, token())
    plugin_env.web.add("POST", PLAN, json={})
    check_answers(
        plugin_env,
        "POST",
        USAGE,
        lambda: plugin_env.probe("cursor"),
        rate_limited(90),
        answer("failed", "HTML", body="<html>gateway</html>"),
        answer(
            "failed",
            "totalPercentUsed",
            json={"enabled": True, "planUsage": {"autoPercentUsed": 3}},
        ),
    )


def test_no_subscription(plugin_env):
    logged_in(plugin_env, token())
    plugin_env.web.add("POST", USAGE, json={"enabled": False})
    plugin_env.web.add("GET", SUMMARY, json={"membershipType": "free", "individualUsage": {}})
    plugin_env.web.add("GET", LEGACY, json={"startOfMonth": "2030-01-01T00:00:00Z"})
    run = plugin_env.probe("cursor")
    assert run.state == "no-data"
    assert "No active Cursor subscription" in run.error


def test_missing_credentials(plugin_env):
    run = plugin_env.probe("cursor")
    assert run.state == "missing-auth"
    assert "Open Cursor and sign in" in run.error
    vscode_state_db(plugin_env, LINUX_DB, {"other/key": "x"})
    assert plugin_env.probe("cursor").state == "missing-auth"
    assert plugin_env.web.requests == []
