"""command-code: /alpha routes with the CLI's API key, /internal routes with a session cookie."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

FIX = fixtures("command-code")("alpha.json")
API = "https://api.commandcode.ai"
WHOAMI, CREDITS = f"{API}/alpha/whoami", f"{API}/alpha/billing/credits"
SUBS, SUMMARY = f"{API}/alpha/billing/subscriptions", f"{API}/alpha/usage/summary"
WEB_CREDITS, WEB_SUBS = f"{API}/internal/billing/credits", f"{API}/internal/billing/subscriptions"
AUTH_PATH = ".commandcode/auth.json"
COOKIE = "__Secure-better-auth.session_token=cc-session-secret-123; theme=dark"
HOUR = 3600 * 1000


def serve_alpha(web, **overrides):
    for url, key in (
        (WHOAMI, "whoami"),
        (CREDITS, "credits"),
        (SUBS, "subscriptions"),
        (SUMMARY, "summary"),
    ):
        value = overrides.get(key, FIX[key])
        if isinstance(value, int):
            web.add("GET", url, status=value, json={"success": False})
        else:
            web.add("GET", url, json=value)


def test_api_key_from_cli_auth_file(plugin_env):
    plugin_env.file(
        AUTH_PATH, {"apiKey": "user_cc-cli-key-abc", "userId": "usr_example", "userName": "example"}
    )
    serve_alpha(plugin_env.web)
    run = ready(plugin_env.probe("command-code"), source="api", plan="Pro")
    session = run.metric("Session")
    assert (
        session["used"] == 1.2
        and session["limit"] == 4.0
        and session["format"] == {"kind": "percent"}
    )
    assert session["resetsAt"] == "2030-01-01T05:00:00Z" and session["periodDurationMs"] == 5 * HOUR
    weekly = run.metric("Weekly")
    assert (
        weekly["used"] == 9.0
        and weekly["limit"] == 20.0
        and weekly["periodDurationMs"] == 7 * 24 * HOUR
    )
    monthly = run.metric("Monthly credits")
    assert abs(monthly["used"] - 23.41) < 1e-9 and monthly["limit"] == 30.0
    assert monthly["format"] == {"kind": "dollars"}
    assert (
        monthly["resetsAt"] == "2030-01-15T00:00:00Z"
        and monthly["periodDurationMs"] == 30 * 24 * HOUR
    )
    assert run.metric("Purchased credits") == {
        "type": "text",
        "label": "Purchased credits",
        "value": "$2.50",
        "detail": True,
    }
    assert run.metric("Total spent")["value"] == "$23.41"
    assert run.metric("Tokens used")["value"] == "1,234,567"
    for url in (WHOAMI, CREDITS, SUBS, SUMMARY):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "GET" and req.headers["authorization"] == "Bearer user_cc-cli-key-abc"
        assert "cookie" not in req.headers
    assert plugin_env.requests_to(CREDITS)[0].query == {"orgId": "org_example"}
    assert plugin_env.requests_to(SUMMARY)[0].query == {
        "orgId": "org_example",
        "since": "2029-12-15T00:00:00.000Z",
    }
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "user_cc-cli-key-abc")


def test_key_precedence_config_env_file(plugin_env):
    plugin_env.file(AUTH_PATH, {"apiKey": "user_file-key"})
    plugin_env.setenv("COMMAND_CODE_API_KEY", "user_env-key")
    serve_alpha(plugin_env.web)
    assert plugin_env.probe("command-code", api_key="user_config-key").state == "ready"
    assert plugin_env.probe("command-code").state == "ready"
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(CREDITS)]
    assert auths == ["Bearer user_config-key", "Bearer user_env-key"]


def test_unknown_plan_uses_the_monthly_summary(plugin_env):
    subs = {"success": True, "data": {"planId": "team-enterprise", "status": "active"}}
    serve_alpha(plugin_env.web, whoami=500, subscriptions=subs)
    run = ready(plugin_env.probe("command-code", api_key="user_key-1"), plan="Team Enterprise")
    monthly = run.metric("Monthly credits")
    assert abs(monthly["used"] - 23.41) < 1e-9 and abs(monthly["limit"] - 30.0) < 1e-9
    assert "resetsAt" not in monthly
    assert plugin_env.requests_to(CREDITS)[0].query == {}  # no org from whoami


def test_free_tier_uncapped_windows_and_missing_summary(plugin_env):
    credits = {
        "credits": {"monthlyCredits": 1.5, "purchasedCredits": 0},
        "windowLimits": {"fiveHour": {"used": 0, "cap": 0}, "weekly": {"used": 0, "cap": 0}},
    }
    serve_alpha(
        plugin_env.web, credits=credits, subscriptions={"success": True, "data": None}, summary=404
    )
    run = ready(plugin_env.probe("command-code", api_key="user_key-1"), plan="Free")
    assert run.metric("Monthly credits") == {
        "type": "text",
        "label": "Monthly credits",
        "value": "$1.50 remaining",
    }
    assert not run.has_metric("Session") and not run.has_metric("Weekly")
    assert not run.has_metric("Purchased credits") and not run.has_metric("Total spent")


def test_web_cookie_uses_the_internal_routes(plugin_env):
    nested = {
        "credits": {**FIX["credits"]["credits"], "windowLimits": FIX["credits"]["windowLimits"]}
    }
    plugin_env.web.add("GET", WEB_CREDITS, json=nested)
    plugin_env.web.add("GET", WEB_SUBS, json=FIX["subscriptions"])
    run = ready(
        plugin_env.probe("command-code", source="web", cookie_header=COOKIE),
        source="web",
        plan="Pro",
    )
    assert run.metric("Session")["used"] == 1.2  # windowLimits nested under credits
    assert abs(run.metric("Monthly credits")["used"] - 23.41) < 1e-9
    for url in (WEB_CREDITS, WEB_SUBS):
        (req,) = plugin_env.requests_to(url)
        assert req.headers["cookie"] == COOKIE and "authorization" not in req.headers
        assert req.headers["origin"] == "https://commandcode.ai"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "cc-session-secret-123")


def test_auto_uses_the_cookie_when_there_is_no_key(plugin_env):
    plugin_env.setenv("COMMAND_CODE_COOKIE", "bare-session-value-77")
    plugin_env.web.add("GET", WEB_CREDITS, json=FIX["credits"])
    plugin_env.web.add("GET", WEB_SUBS, json=FIX["subscriptions"])
    ready(plugin_env.probe("command-code"), source="web")
    sent = plugin_env.requests_to(WEB_CREDITS)[0].headers["cookie"]
    assert sent == "__Secure-better-auth.session_token=bare-session-value-77"


def test_auto_config_cookie_wins_over_an_env_or_file_key(plugin_env):
    plugin_env.setenv("COMMAND_CODE_API_KEY", "user_env-key-1")
    plugin_env.file(AUTH_PATH, {"apiKey": "user_file-key-2"})
    plugin_env.web.add("GET", WEB_CREDITS, json=FIX["credits"])
    plugin_env.web.add("GET", WEB_SUBS, json=FIX["subscriptions"])
    run = ready(plugin_env.probe("command-code", cookie_header=COOKIE), source="web")
    assert plugin_env.requests_to(WEB_CREDITS)[0].headers["cookie"] == COOKIE
    assert plugin_env.requests_to(WHOAMI) == []
    plugin_env.assert_no_secrets(run, "cc-session-secret-123", "user_env-key-1", "user_file-key-2")
    # a config apiKey still comes first
    serve_alpha(plugin_env.web)
    run = ready(
        plugin_env.probe("command-code", api_key="user_config-key-3", cookie_header=COOKIE),
        source="api",
    )
    assert plugin_env.requests_to(WHOAMI)[0].headers["authorization"] == "Bearer user_config-key-3"


def test_rejected_credentials(plugin_env):
    plugin_env.web.add("GET", WHOAMI, status=401, json={})
    expect(
        plugin_env.probe("command-code", api_key="user_bad-key"), "credential-denied", "cmd login"
    )
    plugin_env.web.add("GET", WEB_CREDITS, status=403, json={})
    run = plugin_env.probe("command-code", source="web", cookie_header=COOKIE)
    assert run.state == "credential-denied" and "import-cookies" in run.error
    plugin_env.assert_no_secrets(run, "cc-session-secret-123", "user_bad-key")


def test_rate_limited_and_malformed_answers(plugin_env):
    serve_alpha(plugin_env.web)
    check_answers(
        plugin_env,
        "GET",
        CREDITS,
        lambda: plugin_env.probe("command-code", api_key="user_key-1"),
        rate_limited(120),
        answer("failed", "HTML", body="<html>oops</html>"),
        answer("failed", "credits.monthlyCredits", json={"credits": {"purchasedCredits": 1}}),
        answer("failed", "missing credits", json={"success": True}),
        secrets=("user_key-1",),
    )
    plugin_env.web.add("GET", WEB_CREDITS, body="<!doctype html><title>Sign in</title>")
    expect(
        plugin_env.probe("command-code", source="web", cookie_header=COOKIE),
        "credential-denied",
        "web page",
    )


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("command-code"), "missing-auth", "COMMAND_CODE_API_KEY")
    expect(plugin_env.probe("command-code", source="web"), "missing-auth", "import-cookies")
    expect(
        plugin_env.probe("command-code", source="web", cookie_header="theme=dark; _ga=1"),
        "missing-auth",
        "better-auth",
    )
    assert plugin_env.web.requests == []
