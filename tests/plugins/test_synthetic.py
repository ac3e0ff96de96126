"""synthetic through the real host against the fake internet."""

from __future__ import annotations

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("synthetic")
QUOTAS = "https://api.synthetic.new/v2/quotas"
KEY = "syn_config_key_0123456789"
ENV_KEY = "syn_env_key_abcdefghij"
PI_KEY = "syn_pi_agent_key_555555"
FACTORY_KEY = "syn_factory_key_777777"


def test_v3_lanes_with_config_key(plugin_env):
    plugin_env.setenv("SYNTHETIC_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", QUOTAS, json=fixture("quotas.json"))
    run = ready(plugin_env.probe("synthetic", api_key=KEY), source="api", plan="Standard")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "5h rate limit",
            "used": 15.0,
            "limit": 135.0,
            "format": {"kind": "count", "suffix": "requests"},
            "resetsAt": "2030-01-01T03:00:00Z",
            "periodDurationMs": 18000000.0,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 16.75,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 604800000.0,
        },
        {
            "type": "text",
            "label": "Weekly credits",
            "value": "$19.98 of $24.00 left",
            "detail": True,
        },
        {
            "type": "progress",
            "label": "Search",
            "used": 3.0,
            "limit": 250.0,
            "format": {"kind": "count", "suffix": "searches"},
            "resetsAt": "2030-01-01T01:00:00Z",
            "periodDurationMs": 3600000.0,
            "detail": True,
        },
    ]
    (req,) = plugin_env.requests_to(QUOTAS)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_local_keys_from_agent_files(plugin_env):
    plugin_env.file(
        ".factory/settings.json",
        {
            "customModels": [
                {"baseUrl": "https://api.other.example/v1", "apiKey": "not-this-one"},
                {"baseUrl": "https://api.synthetic.new/openai/v1", "apiKey": FACTORY_KEY},
            ]
        },
    )
    plugin_env.web.add("GET", QUOTAS, json=fixture("quotas-limited.json"))
    run = ready(plugin_env.probe("synthetic"), source="local")
    assert plugin_env.requests_to(QUOTAS)[0].headers["authorization"] == f"Bearer {FACTORY_KEY}"
    assert run.metrics[0]["used"] == 135.0
    assert run.metrics[0]["resetsAt"] == "2030-01-01T01:00:00Z"
    assert run.metric("Rate limited") == {
        "type": "badge",
        "label": "Rate limited",
        "text": "Rate limited",
        "color": "red",
    }
    weekly = run.metric("Weekly")
    assert weekly["used"] == 60.0 and weekly["resetsAt"] == "2030-01-06T00:00:00Z"
    # pi's auth.json (in PI_CODING_AGENT_DIR) comes before Factory's settings.
    plugin_env.file("pi/auth.json", {"synthetic.new": {"type": "api_key", "key": PI_KEY}})
    plugin_env.setenv("PI_CODING_AGENT_DIR", str(plugin_env.path("pi")))
    run = plugin_env.probe("synthetic", source="local")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(QUOTAS)[-1].headers["authorization"] == f"Bearer {PI_KEY}"
    plugin_env.assert_no_secrets(run, PI_KEY, FACTORY_KEY)


def test_legacy_subscription_from_env_key(plugin_env):
    plugin_env.setenv("SYNTHETIC_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", QUOTAS, json=fixture("quotas-legacy.json"))
    run = plugin_env.probe("synthetic", source="api")
    assert run.state == "ready", run.error
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Subscription",
            "used": 15.5,
            "limit": 135.0,
            "format": {"kind": "count", "suffix": "requests"},
            "resetsAt": "2030-01-01T04:00:00Z",
        },
        {
            "type": "progress",
            "label": "Free tool calls",
            "used": 20.0,
            "limit": 500.0,
            "format": {"kind": "count", "suffix": "calls"},
            "resetsAt": "2030-01-02T00:00:00Z",
            "detail": True,
        },
    ]


def test_errors(plugin_env):
    web = plugin_env.web
    check_answers(
        plugin_env,
        "GET",
        QUOTAS,
        lambda: plugin_env.probe("synthetic", api_key=KEY),
        answer(
            "credential-denied",
            "Invalid Synthetic API credentials",
            status=401,
            json={"error": "unauthorized"},
        ),
        rate_limited(90),
        answer("failed", "not JSON", body="{not json"),
        answer("failed", "no quota lanes", json={"data": {"something": 1}}),
        secrets=(KEY,),
    )
    expect(plugin_env.probe("synthetic", source="api"), "missing-auth", "SYNTHETIC_API_KEY")
    expect(plugin_env.probe("synthetic"), "missing-auth", "pi (~/.pi/agent/auth.json)")
    assert web.unmatched == []


@pytest.mark.parametrize("field", ["maxCredits", "remainingCredits"])
def test_a_credit_amount_nested_thousands_deep_is_ignored(plugin_env, field):
    """Regression: String() of such an array overflowed the engine's stack."""
    body = deeply_nested(fixture("quotas.json"), "weeklyTokenLimit", field)
    plugin_env.web.add("GET", QUOTAS, body=body)
    run = ready(plugin_env.probe("synthetic", api_key=KEY), plan="Standard")
    assert [m["label"] for m in run.metrics] == ["5h rate limit", "Weekly", "Search"]
