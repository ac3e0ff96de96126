"""Amp plugin: access token from the Amp CLI secrets / config / env -> ampcode.com balance text."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
)

fixture = fixtures("amp")
URL = "https://ampcode.com/api/internal"
SECRETS = ".local/share/amp/secrets.json"
TOKEN = "sgamp_user_01TESTTOKEN_abcdef123456"


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def login(env, token: str = TOKEN) -> Path:
    return env.file(
        SECRETS, {"apiKey@https://ampcode.com/": token, "other@https://example.com/": "x"}
    )


def test_free_legacy_dollars_from_the_cli_secrets(plugin_env):
    path = login(plugin_env)
    before = path.read_bytes()
    plugin_env.web.add("POST", URL, json=fixture("balance-free-legacy.json"))
    start = time.time()
    run = ready(plugin_env.probe("amp"), source="local", plan="Free")
    free = run.metric("Free")
    assert free["format"] == {"kind": "dollars"}
    assert abs(free["used"] - 2.58) < 1e-9 and free["limit"] == 10.0
    assert free["periodDurationMs"] == 24 * 3600 * 1000  # $10 at $0.42/hour ~ 24 h
    refill = 2.58 / 0.42 * 3600  # back to full at the hourly rate
    assert start + refill - 2 <= epoch(free["resetsAt"]) <= time.time() + refill + 2
    assert run.metric("Credits")["value"] == "$25.00 remaining"
    assert run.metric("Bonus") == {
        "type": "text",
        "label": "Bonus",
        "value": "+20% for 5 days",
        "detail": True,
    }
    req = only_request(plugin_env, URL, "POST", authorization="Bearer " + TOKEN)
    assert req.json() == {"method": "userDisplayBalanceInfo", "params": {}}
    assert plugin_env.web.unmatched == []
    assert path.read_bytes() == before
    plugin_env.assert_no_secrets(run, TOKEN)


def test_free_percent_resets_at_8pm_new_york(plugin_env):
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        new_york = zoneinfo.ZoneInfo("America/New_York")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database")
    login(plugin_env)
    plugin_env.web.add("POST", URL, json=fixture("balance-free-percent.json"))
    run = plugin_env.probe("amp")
    assert run.state == "ready", run.error
    free = run.metric("Free")
    assert (free["used"], free["limit"], free["format"]) == (35.0, 100.0, {"kind": "percent"})
    assert free["periodDurationMs"] == 86_400_000
    now = datetime.now(new_york)
    expected = now.replace(hour=20, minute=0, second=0, microsecond=0)
    if expected <= now:
        expected = (now + timedelta(days=1)).replace(hour=20, minute=0, second=0, microsecond=0)
    assert epoch(free["resetsAt"]) == expected.astimezone(timezone.utc).timestamp()
    assert run.metric("Workspace Acme Inc")["value"] == "$1,250.50 remaining"


def test_subscription_pools_with_config_key(plugin_env):
    login(plugin_env, "sgamp_user_file_token_999999")
    plugin_env.setenv("AMP_API_KEY", "sgamp_user_env_token_888888")
    plugin_env.web.add("POST", URL, json=fixture("balance-subscription.json"))
    start = time.time()
    run = ready(
        plugin_env.probe("amp", api_key="sgamp_user_config_token_777777"),
        source="api",
        plan="Megawatt",
    )
    other, orb = run.metric("Other usage"), run.metric("Orb usage")
    assert (other["used"], orb["used"], orb["detail"]) == (30.0, 10.0, True)
    assert other["periodDurationMs"] == 30 * 86_400_000
    assert start + 12 * 86400 - 2 <= epoch(other["resetsAt"]) <= time.time() + 12 * 86400 + 2
    auth = plugin_env.requests_to(URL)[0].headers["authorization"]
    assert auth == "Bearer sgamp_user_config_token_777777"
    plugin_env.assert_no_secrets(run, "sgamp_user_config_token_777777")


def test_env_key_and_tier_text(plugin_env):
    plugin_env.setenv("AMP_API_KEY", "sgamp_user_env_token_888888")
    plugin_env.web.add("POST", URL, json=fixture("balance-tier.json"))
    run = plugin_env.probe("amp", source="api", write_credentials=False)  # read-only anyway
    assert run.state == "ready", run.error
    assert run.json["plan"] == "Pro"
    agent = run.metric("Agent usage")
    assert (agent["used"], agent["limit"], agent["format"]) == (5.0, 20.0, {"kind": "dollars"})
    assert agent["resetsAt"] == "2030-01-31T00:00:00Z"
    assert agent["periodDurationMs"] == 30 * 86_400_000
    orb = run.metric("Orb usage")
    assert (orb["used"], orb["limit"], orb["format"]) == (
        2.5,
        10.0,
        {"kind": "count", "suffix": "hours"},
    )
    auth = plugin_env.requests_to(URL)[0].headers["authorization"]
    assert auth == "Bearer sgamp_user_env_token_888888"


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    login(plugin_env)
    check_answers(
        plugin_env,
        "POST",
        URL,
        lambda: plugin_env.probe("amp"),
        answer("credential-denied", "amp login", status=401, json={"ok": False}),
        answer("credential-denied", "amp login", status=403, json={"ok": False}),
        answer("credential-denied", "invalid access token", json=fixture("balance-error.json")),
        rate_limited(600, body="slow down", json=None),
        answer("failed", "HTML", body="<html>oops</html>"),
        answer("failed", "result.displayText", json={"ok": True, "result": {}}),
        answer(
            "failed",
            "Missing Amp usage data",
            json={"ok": True, "result": {"displayText": "Hello there\nNothing here"}},
        ),
        secrets=(TOKEN,),
    )
    plugin_env.file(SECRETS, "{not json")
    expect(plugin_env.probe("amp"), "failed", "secrets.json")


def test_missing_token(plugin_env):
    expect(plugin_env.probe("amp"), "missing-auth", "amp login")
    plugin_env.file(SECRETS, {"apiKey@https://other.example/": "x"})
    assert plugin_env.probe("amp").state == "missing-auth"
    plugin_env.setenv("AMP_API_KEY", "sgamp_user_env_token_888888")
    assert plugin_env.probe("amp", source="local").state == "missing-auth"  # local ignores env
    assert plugin_env.web.requests == []


def test_a_display_text_nested_thousands_deep_is_refused(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    body = deeply_nested(fixture("balance-subscription.json"), "result", "displayText")
    plugin_env.web.add("POST", URL, body=body)
    run = plugin_env.probe("amp", api_key=TOKEN)
    expect(run, "failed", "Missing Amp usage data")
