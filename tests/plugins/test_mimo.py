"""mimo through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("mimo")
API = "https://platform.xiaomimimo.com/api/v1"
BALANCE = API + "/balance"
DETAIL = API + "/tokenPlan/detail"
USAGE = API + "/tokenPlan/usage"
TOKEN = "mimo-service-token-0123456789abcdef"
COOKIE = f"api-platform_serviceToken={TOKEN}; userId=1234567"


def test_token_plan_and_balance_with_config_cookie_over_env(plugin_env):
    plugin_env.setenv("MIMO_COOKIE", "api-platform_serviceToken=env-token-999; userId=9")
    web = plugin_env.web
    web.add("GET", BALANCE, json=fixture("balance.json"))
    web.add("GET", DETAIL, json=fixture("token-plan-detail.json"))
    web.add("GET", USAGE, json=fixture("token-plan-usage.json"))
    run = ready(
        plugin_env.probe("mimo", cookie_header=f"Cookie: _ga=GA1.1; {COOKIE}; theme=dark"),
        source="web",
        plan="Token Plan Pro",
    )
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Token Plan",
            "used": 37.5,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-15T00:00:00Z",
            "periodDurationMs": 31 * 86400000.0,
        },
        {
            "type": "text",
            "label": "MiMo-V2-Flash",
            "value": "3,750,000 / 10,000,000",
            "detail": True,
        },
        {"type": "text", "label": "Balance", "value": "¥112.34"},
        {"type": "text", "label": "Cash", "value": "¥100.00", "detail": True},
        {"type": "text", "label": "Gift", "value": "¥12.34", "detail": True},
    ]
    for url in (BALANCE, DETAIL, USAGE):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "GET" and req.headers["cookie"] == COOKIE
        assert req.headers["origin"] == "https://platform.xiaomimimo.com"
        assert req.headers["x-timezone"] == "UTC+00:00"
    assert web.unmatched == []
    plugin_env.assert_no_secrets(run, TOKEN, "env-token-999")


def test_balance_only_account_from_env_cookie(plugin_env):
    plugin_env.setenv("XIAOMI_MIMO_COOKIE", COOKIE)
    web = plugin_env.web
    web.add("GET", BALANCE, json={"code": 0, "data": {"balance": "0", "currency": "USD"}})
    web.add("GET", DETAIL, json={"code": 404, "message": "no plan", "data": None})
    web.add("GET", USAGE, status=500, body="")
    run = ready(plugin_env.probe("mimo"), plan="Pay as you go")
    assert run.metrics == [{"type": "text", "label": "Balance", "value": "$0.00", "color": "red"}]
    # An expired plan is flagged.
    web.add("GET", DETAIL, json={"code": 0, "data": {"planCode": "lite", "expired": True}})
    web.add("GET", USAGE, json=fixture("token-plan-usage.json"))
    run = plugin_env.probe("mimo")
    assert run.metric("Token Plan")["used"] == 37.5
    assert {
        "type": "badge",
        "label": "Token Plan",
        "text": "Expired",
        "color": "red",
    } in run.metrics


def test_errors(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        BALANCE,
        lambda: plugin_env.probe("mimo", cookie_header=COOKIE),
        answer("credential-denied", "session expired", json=fixture("session-expired.json")),
        answer("credential-denied", "session expired", "import-cookies", status=401, json={}),
        answer("credential-denied", "session expired", status=403, body="<html>denied</html>"),
        answer("credential-denied", "import-cookies", status=302, headers={"Location": "/login"}),
        rate_limited(300),
        answer("failed", "not JSON", body="gateway timeout"),
        answer("failed", "missing data.balance", json={"code": 0, "data": {"currency": "CNY"}}),
        secrets=(TOKEN,),
    )
    run = plugin_env.probe("mimo", cookie_header=f"api-platform_serviceToken={TOKEN}")
    expect(run, "missing-auth", "userId")
    expect(plugin_env.probe("mimo"), "missing-auth", "MIMO_COOKIE")
    assert plugin_env.web.unmatched == []


def test_a_plan_item_name_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    usage = deeply_nested(
        fixture("token-plan-usage.json"), "data", "monthUsage", "items", 0, "name"
    )
    plugin_env.web.add("GET", BALANCE, json=fixture("balance.json"))
    plugin_env.web.add("GET", DETAIL, json=fixture("token-plan-detail.json"))
    plugin_env.web.add("GET", USAGE, body=usage)
    run = ready(plugin_env.probe("mimo", cookie_header=COOKIE), plan="Token Plan Pro")
    assert run.metric("Plan usage")["value"] == "3,750,000 / 10,000,000"
