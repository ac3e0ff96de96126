"""deepseek through the real host against the fake internet."""

from __future__ import annotations

from datetime import datetime, timezone

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

fixture = fixtures("deepseek")


BALANCE = "https://api.deepseek.com/user/balance"
COST = "https://platform.deepseek.com/api/v0/usage/cost"
AMOUNT = "https://platform.deepseek.com/api/v0/usage/amount"
KEY = "sk-deepseek-test-1234567890"
TOKEN = "platform-user-token-abcdef123456"


def add_usage(web):
    web.add("GET", COST, json=fixture("usage-cost.json"))
    web.add("GET", AMOUNT, json=fixture("usage-amount.json"))


def test_balance_prefers_usd_and_lists_other_currencies(plugin_env):
    plugin_env.web.add("GET", BALANCE, json=fixture("balance.json"))
    run = ready(plugin_env.probe("deepseek", api_key=KEY), source="api", plan="Pay as you go")
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "$50.00 (Paid: $40.00 / Granted: $10.00)"},
        {
            "type": "text",
            "label": "Balance (CNY)",
            "value": "¥110.00 (Paid: ¥100.00 / Granted: ¥10.00)",
            "detail": True,
        },
    ]
    (req,) = plugin_env.requests_to(BALANCE)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_unavailable_account_with_empty_cny_balance_from_env(plugin_env):
    plugin_env.setenv("DEEPSEEK_KEY", "sk-env-deepseek-000111222")
    plugin_env.web.add("GET", BALANCE, json=fixture("balance-cny-empty.json"))
    run = plugin_env.probe("deepseek")
    assert run.state == "ready", run.error
    assert run.metric("Status") == {
        "type": "badge",
        "label": "Status",
        "text": "Unavailable",
        "color": "red",
    }
    assert run.metric("Balance")["value"] == "¥0.00 — add credits"
    assert run.metric("Balance")["color"] == "red"
    assert plugin_env.requests_to(BALANCE)[0].headers["authorization"] == (
        "Bearer sk-env-deepseek-000111222"
    )


def test_empty_balance_list(plugin_env):
    plugin_env.web.add("GET", BALANCE, json={"is_available": True, "balance_infos": []})
    run = plugin_env.probe("deepseek", api_key=KEY)
    assert run.state == "ready"
    assert run.metric("Balance")["text"] == "No balance data"


def test_auto_adds_month_usage_when_a_platform_token_is_set(plugin_env):
    plugin_env.setenv("DEEPSEEK_API_KEY", "sk-env-should-not-be-used-1")
    plugin_env.web.add("GET", BALANCE, json=fixture("balance.json"))
    add_usage(plugin_env.web)
    run = plugin_env.probe("deepseek", api_key=KEY, settings={"userToken": TOKEN})
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(BALANCE)[0].headers["authorization"] == f"Bearer {KEY}"
    assert run.metric("Spend (month)")["value"] == "¥12.38"
    assert run.metric("Tokens (month)")["value"] == "1.5M"
    assert run.metric("Requests (month)") == {
        "type": "text",
        "label": "Requests (month)",
        "value": "450",
        "detail": True,
    }
    now = datetime.now(timezone.utc)
    (cost,) = plugin_env.requests_to(COST)
    assert cost.query == {"month": str(now.month), "year": str(now.year)}
    assert cost.headers["authorization"] == f"Bearer {TOKEN}"
    assert plugin_env.requests_to(AMOUNT)[0].query == cost.query
    plugin_env.assert_no_secrets(run, KEY, TOKEN)


def test_web_mode_with_token_in_cookie_header(plugin_env):
    add_usage(plugin_env.web)
    run = ready(
        plugin_env.probe("deepseek", source="web", cookie_header=f"userToken={TOKEN}; other=1"),
        source="web",
    )
    assert [m["label"] for m in run.metrics] == [
        "Spend (month)",
        "Tokens (month)",
        "Requests (month)",
    ]
    assert plugin_env.requests_to(BALANCE) == []
    assert plugin_env.requests_to(COST)[0].headers["authorization"] == f"Bearer {TOKEN}"
    plugin_env.assert_no_secrets(run, TOKEN)


def test_web_session_expired_code(plugin_env):
    plugin_env.web.add(
        "GET", COST, json={"code": 40003, "msg": "Authorization Failed", "data": None}
    )
    expect(
        plugin_env.probe("deepseek", source="web", settings={"userToken": TOKEN}),
        "credential-denied",
        "userToken",
    )


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        BALANCE,
        lambda: plugin_env.probe("deepseek", api_key=KEY),
        answer(
            "credential-denied",
            "invalid or expired",
            status=401,
            json={"error": {"message": "Authentication Fails"}},
        ),
        rate_limited(30),
        answer("failed", "not JSON", body="not json at all"),
        answer("failed", "missing balance_infos", json={"is_available": True}),
        secrets=(KEY,),
    )
    plugin_env.web.add("GET", COST, json={"code": 0, "data": {"biz_code": 0}}, times=1)
    expect(
        plugin_env.probe("deepseek", source="web", settings={"userToken": TOKEN}),
        "failed",
        "missing data.biz_data",
    )


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("deepseek"), "missing-auth", "DEEPSEEK_API_KEY")
    expect(plugin_env.probe("deepseek", source="web"), "missing-auth", "userToken")
    assert plugin_env.web.requests == []
