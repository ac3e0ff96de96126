"""venice through the real host against the fake internet."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "plugins" / "venice" / "fixtures"
BALANCE = "https://api.venice.ai/api/v1/billing/balance"
KEY = "venice-admin-key-0123456789"
ENV_KEY = "venice-env-key-abcdefghij"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_diem_epoch_and_usd_balance(plugin_env):
    plugin_env.setenv("VENICE_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", BALANCE, json=fixture("balance.json"))
    run = plugin_env.probe("venice", api_key=KEY)
    assert run.state == "ready", run.error
    assert run.json["source"] == "api" and "plan" not in run.json
    assert run.metrics == [
        {
            "type": "progress",
            "label": "DIEM",
            "used": 37.75,
            "limit": 100.0,
            "format": {"kind": "count", "suffix": "DIEM"},
        },
        {"type": "text", "label": "USD", "value": "$25.00"},
        {"type": "badge", "label": "Paying with", "text": "DIEM", "detail": True},
    ]
    (req,) = plugin_env.requests_to(BALANCE)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_empty_account_from_env_key(plugin_env):
    plugin_env.setenv("VENICE_KEY", ENV_KEY)
    plugin_env.web.add("GET", BALANCE, json=fixture("balance-usd-only.json"))
    run = plugin_env.probe("venice")
    assert run.state == "ready", run.error
    assert run.metrics == [
        {
            "type": "badge",
            "label": "Status",
            "text": "Balance unavailable",
            "color": "red",
            "subtitle": "Add USD or stake DIEM to keep using the API",
        },
        {"type": "text", "label": "DIEM", "value": "0 DIEM remaining"},
        {"type": "text", "label": "USD", "value": "$0.00"},
    ]
    assert plugin_env.requests_to(BALANCE)[0].headers["authorization"] == f"Bearer {ENV_KEY}"


def test_errors(plugin_env):
    web = plugin_env.web
    web.add("GET", BALANCE, status=401, json={"error": "Authentication failed"}, times=1)
    run = plugin_env.probe("venice", api_key=KEY)
    assert run.state == "credential-denied" and "ADMIN API key" in run.error
    plugin_env.assert_no_secrets(run, KEY)
    web.add("GET", BALANCE, status=429, headers={"Retry-After": "15"}, json={}, times=1)
    run = plugin_env.probe("venice", api_key=KEY)
    assert run.state == "rate-limited" and run.retry_after_sec == 15
    web.add("GET", BALANCE, body="upstream error", times=1)
    run = plugin_env.probe("venice", api_key=KEY)
    assert run.state == "failed" and "not JSON" in run.error
    web.add("GET", BALANCE, json={"canConsume": True}, times=1)
    run = plugin_env.probe("venice", api_key=KEY)
    assert run.state == "failed" and "missing balances" in run.error
    run = plugin_env.probe("venice")
    assert run.state == "missing-auth" and "VENICE_API_KEY" in run.error
    assert web.unmatched == []
