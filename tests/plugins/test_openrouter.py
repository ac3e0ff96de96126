"""openrouter through the real host against the fake internet."""

from __future__ import annotations

from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    rate_limited,
    ready,
    utc_month,
)

fixture = fixtures("openrouter")
KEY_URL = "https://openrouter.ai/api/v1/key"
CREDITS = "https://openrouter.ai/api/v1/credits"
KEY = "sk-or-v1-config-key-0123456789"
ENV_KEY = "sk-or-v1-env-key-abcdefghij"
MGMT = "sk-or-v1-management-key-555555"


def month_bounds() -> tuple[str, float]:
    start, end = utc_month()
    return end.strftime("%Y-%m-%dT%H:%M:%SZ"), (end - start).total_seconds() * 1000


def test_credits_key_limit_and_spend(plugin_env):
    plugin_env.setenv("OPENROUTER_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", KEY_URL, json=fixture("key.json"))
    plugin_env.web.add("GET", CREDITS, json=fixture("credits.json"))
    run = ready(plugin_env.probe("openrouter", api_key=KEY), plan="Pay as you go")
    reset, period = month_bounds()
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Credits",
            "used": 137.5,
            "limit": 200.0,
            "format": {"kind": "dollars"},
        },
        {"type": "text", "label": "Balance", "value": "$62.50"},
        {
            "type": "progress",
            "label": "Key limit",
            "used": 37.5,
            "limit": 50.0,
            "format": {"kind": "dollars"},
            "resetsAt": reset,
            "periodDurationMs": period,
        },
        {"type": "text", "label": "Today", "value": "$1.25", "detail": True},
        {"type": "text", "label": "This week", "value": "$9.75", "detail": True},
        {"type": "text", "label": "This month", "value": "$37.50"},
        {"type": "text", "label": "Key spend (all time)", "value": "$137.50", "detail": True},
    ]
    for url in (KEY_URL, CREDITS):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
        assert req.headers["x-title"] == "usagestat"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_management_key_and_refused_credits(plugin_env):
    plugin_env.setenv("OPENROUTER_API_KEY", ENV_KEY)
    plugin_env.setenv("OPENROUTER_MANAGEMENT_API_KEY", MGMT)
    plugin_env.web.add("GET", KEY_URL, json=fixture("key-free.json"))
    plugin_env.web.add("GET", CREDITS, json={"data": {"total_credits": 0, "total_usage": 0}})
    run = ready(plugin_env.probe("openrouter"), plan="Free tier")
    assert run.metric("Balance") == {
        "type": "text",
        "label": "Balance",
        "value": "$0.00",
        "color": "red",
    }
    assert not run.has_metric("Credits") and not run.has_metric("Key limit")
    assert run.metric("Free tier")["type"] == "badge"
    assert plugin_env.requests_to(KEY_URL)[0].headers["authorization"] == f"Bearer {ENV_KEY}"
    assert plugin_env.requests_to(CREDITS)[0].headers["authorization"] == f"Bearer {MGMT}"
    plugin_env.assert_no_secrets(run, ENV_KEY, MGMT)
    # Without a management key a 403 on /credits only drops the account lines.
    plugin_env.monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    plugin_env.web.add("GET", KEY_URL, json=fixture("key.json"))
    plugin_env.web.add("GET", CREDITS, status=403, json={"error": {"message": "Forbidden"}})
    run = plugin_env.probe("openrouter")
    assert run.state == "ready", run.error
    line = run.metric("Account credits")
    assert line["value"] == "Unavailable" and "HTTP 403" in line["subtitle"]
    assert run.metric("Key limit")["used"] == 37.5


def test_custom_base_url_never_gets_the_management_key(plugin_env):
    base = "https://llm-gateway.example.com/api/v1"
    plugin_env.setenv("OPENROUTER_MANAGEMENT_API_KEY", MGMT)
    plugin_env.web.add("GET", base + "/key", json=fixture("key.json"))
    plugin_env.web.add("GET", base + "/credits", json=fixture("credits.json"))
    run = plugin_env.probe("openrouter", api_key=KEY, base_url=base + "/")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(base + "/credits")[0].headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.requests_to(KEY_URL) == []


def test_errors(plugin_env):
    web = plugin_env.web
    check_answers(
        plugin_env,
        "GET",
        KEY_URL,
        lambda: plugin_env.probe("openrouter", api_key=KEY),
        answer(
            "credential-denied", "settings/keys", status=401, json={"error": {"message": "No auth"}}
        ),
        rate_limited(60),
        answer("failed", "HTML", body="<!doctype html><p>Cloudflare</p>"),
        answer("failed", "missing data.usage", json={"data": {"label": "x"}}),
        secrets=(KEY,),
    )
    expect(
        plugin_env.probe("openrouter", api_key=KEY, base_url="http://openrouter.example.com"),
        "failed",
        "plain http",
    )
    expect(plugin_env.probe("openrouter"), "missing-auth", "OPENROUTER_API_KEY")
    assert web.unmatched == []


def test_credits_rate_limited_or_server_error_keeps_the_key_lines(plugin_env):
    for status in (429, 502):
        plugin_env.web.add("GET", KEY_URL, times=1, json=fixture("key.json"))
        plugin_env.web.add(
            "GET", CREDITS, times=1, status=status, headers={"Retry-After": "30"}, json={}
        )
        run = ready(plugin_env.probe("openrouter", api_key=KEY))
        line = run.metric("Account credits")
        assert line["value"] == "Unavailable" and line["detail"] is True
        assert f"HTTP {status}" in line["subtitle"] and "try again later" in line["subtitle"]
        assert not run.has_metric("Balance")
        assert run.metric("Key limit")["used"] == 37.5
        assert run.metric("Key spend (all time)")["value"] == "$137.50"
    assert plugin_env.web.unmatched == []


def test_key_limit_without_limit_remaining(plugin_env):
    info = fixture("key.json")
    info["data"]["limit_remaining"] = None
    # A lifetime limit: the key's all-time usage is what counts against it.
    info["data"]["limit_reset"] = None
    plugin_env.web.add("GET", KEY_URL, times=1, json=info)
    plugin_env.web.add("GET", CREDITS, json=fixture("credits.json"))
    run = ready(plugin_env.probe("openrouter", api_key=KEY))
    assert run.metric("Key limit") == {
        "type": "progress",
        "label": "Key limit",
        "used": 137.5,
        "limit": 50.0,
        "format": {"kind": "dollars"},
    }
    # A resetting limit: what was spent in the window is unknown, so no made-up bar.
    info["data"]["limit_reset"] = "monthly"
    plugin_env.web.add("GET", KEY_URL, times=1, json=info)
    run = ready(plugin_env.probe("openrouter", api_key=KEY))
    line = run.metric("Key limit")
    assert line["type"] == "text" and line["value"] == "$50.00"
    assert "monthly" in line["subtitle"] and "did not report" in line["subtitle"]
    assert plugin_env.web.unmatched == []


def test_a_limit_reset_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    info = fixture("key.json")
    info["data"]["limit_remaining"] = None  # the only case that prints limit_reset
    plugin_env.web.add("GET", KEY_URL, body=deeply_nested(info, "data", "limit_reset"))
    plugin_env.web.add("GET", CREDITS, json=fixture("credits.json"))
    run = ready(plugin_env.probe("openrouter", api_key=KEY))
    assert run.metric("Key limit") == {
        "type": "text",
        "label": "Key limit",
        "value": "$50.00",
        "subtitle": "OpenRouter did not report what is left",
    }
