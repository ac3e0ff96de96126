"""kimi-k2 through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready

fixture = fixtures("kimi-k2")
BALANCE = fixture("balance.json")
DEBT = fixture("balance-debt.json")
CN = "https://api.moonshot.cn/v1/users/me/balance"
INTL = "https://api.moonshot.ai/v1/users/me/balance"
KEY = "sk-kimi-test-1234567890abcdef"


def test_china_balance_in_yuan_by_default(plugin_env):
    plugin_env.web.add("GET", CN, json=BALANCE)
    run = ready(plugin_env.probe("kimi-k2", api_key=KEY), source="api")
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "¥49.59"},
        {"type": "text", "label": "Cash", "value": "¥3.00", "detail": True},
        {"type": "text", "label": "Voucher", "value": "¥46.59", "detail": True},
    ]
    only_request(plugin_env, CN, authorization=f"Bearer {KEY}")
    assert plugin_env.requests_to(INTL) == [] and plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_international_region_is_usd_and_shows_debt(plugin_env):
    plugin_env.setenv("MOONSHOT_API_KEY", "sk-moonshot-env-0011223344")
    plugin_env.web.add("GET", INTL, json=DEBT)
    run = plugin_env.probe("kimi-k2", region="intl")
    assert run.state == "ready", run.error
    assert run.metric("Balance")["value"] == "$5.00"
    assert run.metric("Debt") == {
        "type": "badge",
        "label": "Debt",
        "text": "−$1.25 owed",
        "color": "red",
    }
    assert run.metric("Cash")["value"] == "−$1.25"
    assert plugin_env.requests_to(INTL)[0].headers["authorization"] == (
        "Bearer sk-moonshot-env-0011223344"
    )
    assert plugin_env.requests_to(CN) == []


def test_kimi_env_wins_over_moonshot_env_and_config_wins_over_both(plugin_env):
    plugin_env.setenv("KIMI_API_KEY", "sk-kimi-env-5555555555")
    plugin_env.setenv("MOONSHOT_API_KEY", "sk-moonshot-env-6666666666")
    plugin_env.web.add("GET", CN, json=BALANCE)
    assert plugin_env.probe("kimi-k2").state == "ready"
    assert plugin_env.probe("kimi-k2", api_key=KEY).state == "ready"
    first, second = plugin_env.requests_to(CN)
    assert first.headers["authorization"] == "Bearer sk-kimi-env-5555555555"
    assert second.headers["authorization"] == f"Bearer {KEY}"


def test_rejected_rate_limited_malformed_and_error_codes(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        CN,
        lambda: plugin_env.probe("kimi-k2", api_key=KEY),
        answer(
            "credential-denied",
            "api.moonshot.cn",
            'region = "intl"',
            status=401,
            json={"error": {"message": "Invalid Authentication"}},
        ),
        rate_limited(45),
        answer("failed", "HTML", body="<html>gateway</html>"),
        answer(
            "failed", "missing data.available_balance", json={"code": 0, "data": {}, "status": True}
        ),
        answer(
            "failed",
            "account suspended",
            json={"code": 5, "error": {"message": "account suspended"}, "status": False},
        ),
        secrets=(KEY,),
    )


def test_missing_key_and_bad_region(plugin_env):
    expect(plugin_env.probe("kimi-k2"), "missing-auth", "KIMI_API_KEY")
    expect(
        plugin_env.probe("kimi-k2", api_key=KEY, region="mars"), "failed", "Unknown Moonshot region"
    )
    assert plugin_env.web.requests == []
