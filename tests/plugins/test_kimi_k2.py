"""kimi-k2 through the real host against the fake internet."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "plugins" / "kimi-k2" / "fixtures"
BALANCE = json.loads((FIXTURES / "balance.json").read_text())
DEBT = json.loads((FIXTURES / "balance-debt.json").read_text())
CN = "https://api.moonshot.cn/v1/users/me/balance"
INTL = "https://api.moonshot.ai/v1/users/me/balance"
KEY = "sk-kimi-test-1234567890abcdef"


def test_china_balance_in_yuan_by_default(plugin_env):
    plugin_env.web.add("GET", CN, json=BALANCE)
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "ready", run.error
    assert run.json["source"] == "api"
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "¥49.59"},
        {"type": "text", "label": "Cash", "value": "¥3.00", "detail": True},
        {"type": "text", "label": "Voucher", "value": "¥46.59", "detail": True},
    ]
    (req,) = plugin_env.requests_to(CN)
    assert req.headers["authorization"] == f"Bearer {KEY}"
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


def test_rejected_key_names_the_region(plugin_env):
    plugin_env.web.add("GET", CN, status=401, json={"error": {"message": "Invalid Authentication"}})
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "credential-denied"
    assert "api.moonshot.cn" in run.error and 'region = "intl"' in run.error
    plugin_env.assert_no_secrets(run, KEY)


def test_rate_limited(plugin_env):
    plugin_env.web.add("GET", CN, status=429, headers={"Retry-After": "45"}, json={})
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "rate-limited" and run.retry_after_sec == 45


def test_malformed_and_error_codes(plugin_env):
    plugin_env.web.add("GET", CN, body="<html>gateway</html>", times=1)
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "failed" and "HTML" in run.error
    plugin_env.web.add("GET", CN, json={"code": 0, "data": {}, "status": True}, times=1)
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "failed" and "missing data.available_balance" in run.error
    plugin_env.web.add(
        "GET", CN, json={"code": 5, "error": {"message": "account suspended"}, "status": False}
    )
    run = plugin_env.probe("kimi-k2", api_key=KEY)
    assert run.state == "failed" and "account suspended" in run.error


def test_missing_key_and_bad_region(plugin_env):
    run = plugin_env.probe("kimi-k2")
    assert run.state == "missing-auth" and "KIMI_API_KEY" in run.error
    run = plugin_env.probe("kimi-k2", api_key=KEY, region="mars")
    assert run.state == "failed" and "Unknown Moonshot region" in run.error
    assert plugin_env.web.requests == []
