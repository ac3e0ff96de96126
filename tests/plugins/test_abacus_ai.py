"""abacus-ai through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("abacus-ai")


POINTS = "https://apps.abacus.ai/api/_getOrganizationComputePoints"
BILLING = "https://apps.abacus.ai/api/_getBillingInfo"
COOKIE = "_session_id=abacus-session-1234567890; other=x"


def add_normal(web):
    web.add("GET", POINTS, json=fixture("compute-points.json"))
    web.add("POST", BILLING, json=fixture("billing-info.json"))


def test_credits_plan_and_reset(plugin_env):
    add_normal(plugin_env.web)
    run = ready(plugin_env.probe("abacus-ai", cookie_header=COOKIE), source="web", plan="Pro")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Credits",
            "used": 1790.0,
            "limit": 5000.0,
            "format": {"kind": "count", "suffix": "credits"},
            "resetsAt": "2030-01-01T00:00:00Z",
            "periodDurationMs": 31 * 86_400_000,
        }
    ]
    (points,) = plugin_env.requests_to(POINTS)
    assert points.method == "GET" and points.headers["cookie"] == COOKIE
    (billing,) = plugin_env.requests_to(BILLING)
    assert billing.json() == {} and billing.headers["content-type"] == "application/json"
    assert billing.headers["cookie"] == COOKIE
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "abacus-session-1234567890")


def test_env_cookie_and_billing_failure_keeps_credits(plugin_env):
    plugin_env.setenv("ABACUS_COOKIE", "Cookie: _session_id=env-session-999888777")
    plugin_env.web.add("GET", POINTS, json=fixture("compute-points.json"))
    plugin_env.web.add("POST", BILLING, status=500, body="oops")
    run = plugin_env.probe("abacus-ai")
    assert run.state == "ready", run.error
    assert "plan" not in run.json
    credits = run.metric("Credits")
    assert credits["used"] == 1790.0 and "resetsAt" not in credits
    assert (
        plugin_env.requests_to(POINTS)[0].headers["cookie"] == "_session_id=env-session-999888777"
    )
    assert any("billing info unavailable" in msg for _, msg in run.logs)
    plugin_env.assert_no_secrets(run, "env-session-999888777")


def test_config_cookie_wins_over_env(plugin_env):
    plugin_env.setenv("ABACUS_COOKIE", "_session_id=env-session-999888777")
    add_normal(plugin_env.web)
    assert plugin_env.probe("abacus-ai", cookie_header=COOKIE).state == "ready"
    assert plugin_env.requests_to(POINTS)[0].headers["cookie"] == COOKIE


def test_no_subscription(plugin_env):
    plugin_env.web.add(
        "GET",
        POINTS,
        json={"success": True, "result": {"totalComputePoints": 0, "computePointsLeft": 0}},
    )
    plugin_env.web.add("POST", BILLING, json={"success": True, "result": {"currentTier": "Basic"}})
    run = plugin_env.probe("abacus-ai", cookie_header=COOKIE)
    assert run.state == "ready"
    assert run.metric("Credits")["text"] == "No active subscription"


def test_expired_session_rate_limit_and_malformed_bodies(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        POINTS,
        lambda: plugin_env.probe("abacus-ai", cookie_header=COOKIE),
        answer("credential-denied", "fresh Cookie header", json=fixture("session-expired.json")),
        answer("credential-denied", status=403, json={}),
        answer("credential-denied", status=302, headers={"Location": "/login"}),
        answer("credential-denied", "web page", body="<html><title>Sign in</title></html>"),
        rate_limited(600),
        answer("failed", "not JSON", body="{not json"),
        answer(
            "failed",
            "missing result.computePointsLeft",
            json={"success": True, "result": {"totalComputePoints": 10}},
        ),
        answer("failed", "Internal error", json={"success": False, "error": "Internal error"}),
        secrets=("abacus-session-1234567890",),
    )


def test_missing_cookie(plugin_env):
    expect(plugin_env.probe("abacus-ai"), "missing-auth", "import-cookies --provider abacus-ai")
    assert plugin_env.web.requests == []


def test_a_tier_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.web.add("GET", POINTS, json=fixture("compute-points.json"))
    plugin_env.web.add(
        "POST", BILLING, body=deeply_nested(fixture("billing-info.json"), "result", "currentTier")
    )
    run = ready(plugin_env.probe("abacus-ai", cookie_header=COOKIE), plan=None)
    assert run.metric("Credits")["used"] == 1790.0
