"""nanogpt through the real host against the fake internet."""

from __future__ import annotations

from datetime import datetime, timezone

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

fixture = fixtures("nanogpt")
SUB = "https://nano-gpt.com/api/subscription/v1/usage"
BALANCE = "https://nano-gpt.com/api/check-balance"
USAGE = "https://nano-gpt.com/api/v1/usage"
KEY = "nanogpt-config-key-0123456789"
ENV_KEY = "nanogpt-env-key-abcdefghij"


def add_extras(web):
    web.add("POST", BALANCE, json=fixture("balance.json"))
    web.add("GET", USAGE, json=fixture("usage.json"))


def test_subscription_balance_and_month_spend(plugin_env):
    plugin_env.setenv("NANOGPT_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", SUB, json=fixture("subscription.json"))
    add_extras(plugin_env.web)
    run = ready(plugin_env.probe("nanogpt", api_key=KEY), plan="Active")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Daily",
            "used": 1250.0,
            "limit": 5000.0,
            "format": {"kind": "count", "suffix": "requests"},
            "resetsAt": "2030-01-01T00:00:00Z",
            "periodDurationMs": 86400000.0,
        },
        {
            "type": "progress",
            "label": "Monthly",
            "used": 15000.0,
            "limit": 60000.0,
            "format": {"kind": "count", "suffix": "requests"},
            "resetsAt": "2030-01-16T00:00:00Z",
            "periodDurationMs": 31 * 86400000.0,
        },
        {"type": "text", "label": "Balance", "value": "$129.47"},
        {
            "type": "text",
            "label": "Spend (month)",
            "value": "$40.93",
            "subtitle": "This API key, since the 1st (UTC)",
        },
        {"type": "text", "label": "Requests (month)", "value": "1,284", "detail": True},
        {"type": "text", "label": "Tokens (month)", "value": "1.7M", "detail": True},
    ]
    (sub,) = plugin_env.requests_to(SUB)
    assert sub.method == "GET" and sub.headers["authorization"] == f"Bearer {KEY}"
    (bal,) = plugin_env.requests_to(BALANCE)
    assert bal.method == "POST" and bal.headers["x-api-key"] == KEY
    (usage,) = plugin_env.requests_to(USAGE)
    today = datetime.now(timezone.utc)
    assert usage.query == {"from": today.strftime("%Y-%m-01"), "to": today.strftime("%Y-%m-%d")}
    assert usage.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_pay_as_you_go_account_from_env_and_optional_lines_refused(plugin_env):
    plugin_env.setenv("NANOGPT_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", SUB, json=fixture("subscription-inactive.json"))
    add_extras(plugin_env.web)
    run = ready(plugin_env.probe("nanogpt"), plan="Pay as you go")
    assert [m["label"] for m in run.metrics] == [
        "Subscription",
        "Balance",
        "Spend (month)",
        "Requests (month)",
        "Tokens (month)",
    ]
    assert run.metric("Subscription")["text"] == "Inactive"
    assert plugin_env.requests_to(SUB)[0].headers["authorization"] == f"Bearer {ENV_KEY}"
    plugin_env.web.add("POST", BALANCE, status=401, json={"error": "unauthorized"})
    plugin_env.web.add("GET", USAGE, status=404, body="not found")
    run = plugin_env.probe("nanogpt")
    assert run.state == "ready", run.error
    assert [m["label"] for m in run.metrics] == ["Subscription"]


def test_errors(plugin_env):
    web = plugin_env.web
    check_answers(
        plugin_env,
        "GET",
        SUB,
        lambda: plugin_env.probe("nanogpt", api_key=KEY),
        answer(
            "credential-denied", "nano-gpt.com/api", status=401, json={"error": "Invalid API key"}
        ),
        rate_limited(5),
        answer("failed", "HTML", body="<html>down</html>"),
        answer("failed", "missing active", json={"limits": {}}),
        secrets=(KEY,),
    )
    expect(plugin_env.probe("nanogpt"), "missing-auth", "NANOGPT_API_KEY")
    assert web.unmatched == []
