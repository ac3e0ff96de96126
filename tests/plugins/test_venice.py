"""venice through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, rate_limited

fixture = fixtures("venice")
BALANCE = "https://api.venice.ai/api/v1/billing/balance"
KEY = "venice-admin-key-0123456789"
ENV_KEY = "venice-env-key-abcdefghij"


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
    check_answers(
        plugin_env,
        "GET",
        BALANCE,
        lambda: plugin_env.probe("venice", api_key=KEY),
        answer(
            "credential-denied",
            "ADMIN API key",
            status=401,
            json={"error": "Authentication failed"},
        ),
        rate_limited(15),
        answer("failed", "not JSON", body="upstream error"),
        answer("failed", "missing balances", json={"canConsume": True}),
        secrets=(KEY,),
    )
    expect(plugin_env.probe("venice"), "missing-auth", "VENICE_API_KEY")
    assert web.unmatched == []
