"""moonshot through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

fixture = fixtures("moonshot")
INTL = "https://api.moonshot.ai/v1/users/me/balance"
CN = "https://api.moonshot.cn/v1/users/me/balance"
KEY = "sk-moonshot-config-key-123456"
ENV_KEY = "sk-moonshot-env-key-abcdef"


def test_international_balance_with_config_key_winning_over_env(plugin_env):
    plugin_env.setenv("MOONSHOT_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", INTL, json=fixture("balance.json"))
    run = ready(plugin_env.probe("moonshot", api_key=KEY), source="api", plan="Pay as you go")
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "$49.59"},
        {"type": "text", "label": "Cash", "value": "$3.00", "detail": True},
        {"type": "text", "label": "Voucher", "value": "$46.59", "detail": True},
    ]
    (req,) = plugin_env.requests_to(INTL)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_china_region_from_env_shows_yuan_and_debt(plugin_env):
    plugin_env.setenv("MOONSHOT_KEY", ENV_KEY)
    plugin_env.setenv("MOONSHOT_REGION", "china")
    plugin_env.web.add("GET", CN, json=fixture("balance-debt.json"))
    run = ready(plugin_env.probe("moonshot"), plan="Pay as you go (China)")
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "¥18.50"},
        {"type": "badge", "label": "Debt", "text": "−¥1.25 owed", "color": "red"},
        {"type": "text", "label": "Cash", "value": "−¥1.25", "detail": True},
        {"type": "text", "label": "Voucher", "value": "¥18.50", "detail": True},
    ]
    assert plugin_env.requests_to(CN)[0].headers["authorization"] == f"Bearer {ENV_KEY}"
    assert plugin_env.requests_to(INTL) == []
    # A base URL with /v1 is normalised; its .cn host means yuan.
    plugin_env.web.add("GET", CN, json={"code": 0, "data": {"available_balance": 0}})
    run = plugin_env.probe("moonshot", api_key=KEY, base_url="https://api.moonshot.cn/v1/")
    assert run.metrics == [
        {
            "type": "text",
            "label": "Balance",
            "value": "¥0.00",
            "color": "red",
            "subtitle": "Top up to keep using the API",
        }
    ]
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_errors(plugin_env):
    web = plugin_env.web
    web.add("GET", INTL, status=401, json={"error": {"message": "Invalid Authentication"}}, times=1)
    run = plugin_env.probe("moonshot", api_key=KEY)
    assert run.state == "credential-denied"
    assert "HTTP 401" in run.error and 'region = "cn"' in run.error
    plugin_env.assert_no_secrets(run, KEY)
    check_answers(
        plugin_env,
        "GET",
        INTL,
        lambda: plugin_env.probe("moonshot", api_key=KEY),
        rate_limited(42),
        answer("failed", "HTML", body="<html>gateway</html>"),
        answer("failed", "missing data.available_balance", json={"code": 0, "data": {}}),
        answer("failed", "account suspended", json=fixture("error-code.json")),
    )
    expect(
        plugin_env.probe("moonshot", api_key=KEY, region="mars"),
        "failed",
        "Unknown Moonshot region",
    )
    expect(plugin_env.probe("moonshot"), "missing-auth", "MOONSHOT_API_KEY")
    assert web.unmatched == []
