"""crof through the real host against the fake internet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from helpers import answer, check_answers, fixtures, rate_limited, ready

fixture = fixtures("crof")
USAGE = fixture("usage.json")
PAYG = fixture("usage-payg.json")
URL = "https://crof.ai/usage_api/"
KEY = "crof-key-1234567890abcdef"


def next_chicago_midnight() -> str:
    now = datetime.now(ZoneInfo("America/Chicago"))
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return midnight.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_daily_plan_and_credits(plugin_env):
    plugin_env.web.add("GET", URL, json=USAGE)
    run = ready(plugin_env.probe("crof", api_key=KEY), source="api", plan="Daily 1000 requests")
    requests = run.metric("Requests")
    assert requests["used"] == 127.0 and requests["limit"] == 1000.0
    assert requests["format"] == {"kind": "count", "suffix": "requests"}
    assert requests["periodDurationMs"] == 86_400_000
    assert requests["resetsAt"] == next_chicago_midnight()
    assert run.metric("Credits") == {
        "type": "text",
        "label": "Credits",
        "value": "$12.34 remaining",
    }
    (req,) = plugin_env.requests_to(URL)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_pay_as_you_go_from_env_var(plugin_env):
    plugin_env.setenv("CROFAI_API_KEY", "env-crof-key-987654321")
    plugin_env.web.add("GET", URL, json=PAYG)
    run = ready(plugin_env.probe("crof"), plan="Pay as you go")
    assert [m["label"] for m in run.metrics] == ["Credits"]
    assert run.metric("Credits")["value"] == "$4.50 remaining"
    assert (
        plugin_env.requests_to(URL)[0].headers["authorization"] == "Bearer env-crof-key-987654321"
    )
    plugin_env.assert_no_secrets(run, "env-crof-key-987654321")


def test_config_key_wins_over_env(plugin_env):
    plugin_env.setenv("CROF_API_KEY", "env-crof-key-000000000")
    plugin_env.web.add("GET", URL, json=USAGE)
    assert plugin_env.probe("crof", api_key=KEY).state == "ready"
    assert plugin_env.requests_to(URL)[0].headers["authorization"] == f"Bearer {KEY}"


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("crof", api_key=KEY),
        answer(
            "credential-denied", "invalid or expired", status=401, json={"error": "invalid api key"}
        ),
        rate_limited(90),
        answer("failed", "HTML", body="<html>Bad gateway</html>"),
        answer("failed", "missing credits", json={"requests_plan": 10}),
        answer("failed", "credits is not a number", json={"credits": "lots"}),
        secrets=(KEY,),
    )


def test_missing_key(plugin_env):
    run = plugin_env.probe("crof")
    assert run.state == "missing-auth"
    assert "CROF_API_KEY" in run.error
    assert plugin_env.web.requests == []
