"""Droid plugin: Factory usage through an app.factory.ai browser session (cookie / bearer)."""

from __future__ import annotations

import time

from helpers import deeply_nested, expect, fixtures, ready
from pluginharness import make_jwt

fixture = fixtures("droid")
LIMITS = "https://api.factory.ai/api/billing/limits"
API_ME = "https://api.factory.ai/api/app/auth/me"
API_USAGE = "https://api.factory.ai/api/organization/subscription/usage"
APP_ME = "https://app.factory.ai/api/app/auth/me"
APP_USAGE = "https://app.factory.ai/api/organization/subscription/usage"


def access_jwt() -> str:
    return make_jwt({"sub": "user_01WEB", "exp": int(time.time() + 3600)})


def test_cookie_session_with_access_token(plugin_env):
    token = access_jwt()
    cookie = f"wos-session=opaque-session-value-1; access-token={token}; theme=dark"
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    plugin_env.web.add("GET", API_ME, json=fixture("auth-me.json"))
    run = ready(
        plugin_env.probe("droid", cookie_header="Cookie: " + cookie), source="web", plan="Max"
    )
    session = run.metric("Session")
    assert (session["used"], session["resetsAt"], session["periodDurationMs"]) == (
        12.5,
        "2030-01-01T05:00:00Z",
        5 * 3_600_000,
    )
    assert run.metric("Weekly")["used"] == 40.0 and run.metric("Monthly")["used"] == 55.5
    assert run.metric("Organization")["value"] == "Example Org"
    for url in (LIMITS, API_ME):
        (req,) = plugin_env.requests_to(url, "GET")
        assert req.headers["cookie"] == cookie
        assert req.headers["authorization"] == "Bearer " + token
        assert req.headers["referer"] == "https://app.factory.ai/"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, token, "opaque-session-value-1")


def test_legacy_allowances_from_the_app_host(plugin_env):
    plugin_env.setenv("FACTORY_COOKIE", "wos-session=opaque-env-session-2")
    plugin_env.web.add("GET", LIMITS, json={"usesTokenRateLimitsBilling": False})
    plugin_env.web.add("GET", API_ME, status=404, json={"error": "not found"})
    plugin_env.web.add("GET", APP_ME, json={"organization": {"name": "Web Org"}})
    plugin_env.web.add("POST", APP_USAGE, json=fixture("subscription-usage.json"))
    run = ready(plugin_env.probe("droid"), plan="Pro")
    standard = run.metric("Standard")
    assert (standard["used"], standard["limit"], standard["resetsAt"]) == (
        5_000_000.0,
        20_000_000.0,
        "2030-01-28T00:00:00Z",
    )
    assert run.metric("Organization")["value"] == "Web Org"
    assert plugin_env.requests_to(API_USAGE) == []
    req = plugin_env.requests_to(APP_USAGE, "POST")[0]
    assert req.headers["cookie"] == "wos-session=opaque-env-session-2"
    assert "authorization" not in req.headers  # an opaque session is not a bearer token
    assert req.json() == {"useCache": True}


def test_bare_token_env_precedence_and_cookie_file(plugin_env):
    token = access_jwt()
    plugin_env.setenv("DROID_COOKIE", token)
    plugin_env.setenv("FACTORY_COOKIE", "wos-session=ignored-because-droid-wins")
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    plugin_env.web.add("GET", API_ME, json=fixture("auth-me.json"))
    run = plugin_env.probe("droid")
    assert run.state == "ready", run.error
    req = plugin_env.requests_to(LIMITS)[0]
    assert req.headers["authorization"] == "Bearer " + token and "cookie" not in req.headers

    plugin_env.web.reset()
    plugin_env.monkeypatch.delenv("DROID_COOKIE")
    plugin_env.monkeypatch.delenv("FACTORY_COOKIE")
    plugin_env.file(
        ".local/share/usagestat/plugin-data/droid/cookie-header.txt",
        "Cookie: wos-session=from-file-3\n",
    )
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    plugin_env.web.add("GET", API_ME, json=fixture("auth-me.json"))
    run = plugin_env.probe("droid")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(LIMITS)[0].headers["cookie"] == "wos-session=from-file-3"


def test_config_cookie_wins_over_env(plugin_env):
    plugin_env.setenv("DROID_COOKIE", "wos-session=env-session-4")
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    plugin_env.web.add("GET", API_ME, json=fixture("auth-me.json"))
    run = plugin_env.probe(
        "droid", cookie_header="wos-session=config-session-5", write_credentials=False
    )
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(LIMITS)[0].headers["cookie"] == "wos-session=config-session-5"


def test_expired_session(plugin_env):
    plugin_env.web.add("GET", LIMITS, status=401, json={"detail": "unauthorized"})
    run = plugin_env.probe("droid", cookie_header="wos-session=expired-session-6")
    assert run.state == "credential-denied"
    assert "app.factory.ai" in run.error
    assert len(plugin_env.requests_to(LIMITS)) == 1  # cookies are never renewed
    plugin_env.assert_no_secrets(run, "expired-session-6")

    plugin_env.web.reset()
    plugin_env.web.add("GET", LIMITS, status=403, json={"detail": "forbidden"})
    run = plugin_env.probe("droid", cookie_header="wos-session=expired-session-6")
    assert run.state == "credential-denied" and "app.factory.ai" in run.error
    assert len(plugin_env.requests_to(LIMITS)) == 1

    plugin_env.web.reset()
    plugin_env.web.add(
        "GET", LIMITS, status=302, headers={"Location": "https://app.factory.ai/login"}
    )
    run = plugin_env.probe("droid", cookie_header="wos-session=expired-session-6")
    assert run.state == "credential-denied"


def test_rate_limited(plugin_env):
    plugin_env.web.add("GET", LIMITS, status=429, headers={"Retry-After": "900"}, json={})
    run = plugin_env.probe("droid", cookie_header="wos-session=s-7777777")
    assert run.state == "rate-limited" and run.retry_after_sec == 900


def test_malformed_answers(plugin_env):
    html = "<!doctype html><html><body>Sign in</body></html>"
    for url in (LIMITS, API_ME, APP_ME):
        plugin_env.web.add("GET", url, body=html, headers={"Content-Type": "text/html"})
    for url in (API_USAGE, APP_USAGE):
        plugin_env.web.add("POST", url, body=html, headers={"Content-Type": "text/html"})
    expect(
        plugin_env.probe("droid", cookie_header="wos-session=s-8888888"),
        "credential-denied",
        "web page",
    )

    plugin_env.web.reset()
    plugin_env.web.add("GET", LIMITS, json={"usesTokenRateLimitsBilling": False})
    plugin_env.web.add("GET", API_ME, json={})
    plugin_env.web.add("POST", API_USAGE, json={"source": "cache"})
    expect(
        plugin_env.probe("droid", cookie_header="wos-session=s-8888888"), "failed", "missing usage"
    )


def test_no_session(plugin_env):
    expect(plugin_env.probe("droid"), "missing-auth", "DROID_COOKIE")
    assert plugin_env.probe("droid", cookie_header="   ").state == "missing-auth"
    assert plugin_env.web.requests == []


def test_an_organization_name_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.web.add("GET", LIMITS, json=fixture("billing-limits.json"))
    me = deeply_nested(fixture("auth-me.json"), "organization", "name")
    plugin_env.web.add("GET", API_ME, body=me)
    run = ready(plugin_env.probe("droid", cookie_header="wos-session=s-nested"), plan="Max")
    assert run.metric("Session")["used"] == 12.5 and not run.has_metric("Organization")
