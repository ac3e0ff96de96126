"""deepgram through the real host against the fake internet."""

from __future__ import annotations

from datetime import datetime, timezone

from helpers import answer, check_answers, expect, fixtures, rate_limited, utc_month

fixture = fixtures("deepgram")


API = "https://api.deepgram.com/v1"
P1 = "3f1b2c4d-0000-4000-8000-000000000001"
P2 = "3f1b2c4d-0000-4000-8000-000000000002"
KEY = "dg-key-1234567890abcdef1234"


def month_range() -> dict[str, str]:
    return {
        "start": utc_month()[0].strftime("%Y-%m-%d"),
        "end": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }


def add_project(web, pid: str, n: int) -> None:
    web.add("GET", f"{API}/projects/{pid}/balances", json=fixture(f"balances-{n}.json"))
    web.add("GET", f"{API}/projects/{pid}/usage/breakdown", json=fixture(f"usage-{n}.json"))


def test_all_projects_summed(plugin_env):
    plugin_env.web.add("GET", f"{API}/projects", json=fixture("projects.json"))
    add_project(plugin_env.web, P1, 1)
    add_project(plugin_env.web, P2, 2)
    run = plugin_env.probe("deepgram", api_key=KEY)
    assert run.state == "ready", run.error
    assert run.metrics == [
        {"type": "text", "label": "Balance", "value": "$200.00"},
        {"type": "text", "label": "Balance (hour)", "value": "10 hour", "detail": True},
        {"type": "text", "label": "Requests (month)", "value": "400"},
        {"type": "text", "label": "Audio hours (month)", "value": "12 h (billable 13 h)"},
        {"type": "text", "label": "Agent hours (month)", "value": "0.5 h", "detail": True},
        {"type": "text", "label": "Tokens (month)", "value": "15K", "detail": True},
        {"type": "text", "label": "TTS characters (month)", "value": "50K", "detail": True},
        {"type": "text", "label": "Project", "value": "2 projects", "detail": True},
    ]
    for req in plugin_env.web.requests:
        assert req.method == "GET" and req.headers["authorization"] == f"Token {KEY}"
    (usage,) = plugin_env.requests_to(f"{API}/projects/{P1}/usage/breakdown")
    assert usage.query == month_range()
    assert len(plugin_env.web.requests) == 5 and plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_configured_project_from_env_skips_the_listing(plugin_env):
    plugin_env.setenv("DEEPGRAM_API_KEY", "dg-env-key-0987654321")
    plugin_env.setenv("DEEPGRAM_PROJECT_ID", P1)
    add_project(plugin_env.web, P1, 1)
    run = plugin_env.probe("deepgram")
    assert run.state == "ready", run.error
    assert run.metric("Balance")["value"] == "$123.45"
    assert run.metric("Project")["value"] == P1
    assert plugin_env.requests_to(f"{API}/projects") == []
    assert plugin_env.web.requests[0].headers["authorization"] == "Token dg-env-key-0987654321"


def test_config_project_and_key_win_over_env(plugin_env):
    plugin_env.setenv("DEEPGRAM_API_KEY", "dg-env-key-0987654321")
    plugin_env.setenv("DEEPGRAM_PROJECT_ID", P1)
    add_project(plugin_env.web, P2, 2)
    run = plugin_env.probe("deepgram", api_key=KEY, workspace_id=P2)
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(f"{API}/projects/{P1}/balances") == []
    assert plugin_env.web.requests[0].headers["authorization"] == f"Token {KEY}"


def test_usage_only_key_without_billing_scope(plugin_env):
    plugin_env.web.add(
        "GET",
        f"{API}/projects/{P1}/balances",
        status=403,
        json={"err_code": "INSUFFICIENT_PERMISSIONS"},
    )
    plugin_env.web.add("GET", f"{API}/projects/{P1}/usage/breakdown", json=fixture("usage-2.json"))
    run = plugin_env.probe("deepgram", api_key=KEY, workspace_id=P1)
    assert run.state == "ready", run.error
    assert not run.has_metric("Balance")
    assert run.metric("Balance access")["value"] == "key lacks billing read on 1 of 1 project(s)"
    assert run.metric("Requests (month)")["value"] == "79"
    assert run.metric("Audio hours (month)")["value"] == "1.75 h (billable 2 h)"


def test_rejected_key_scopes_rate_limit_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        f"{API}/projects",
        lambda: plugin_env.probe("deepgram", api_key=KEY),
        answer("credential-denied", "Owner/Admin", status=401, json={"err_code": "INVALID_AUTH"}),
        rate_limited(20),
        answer("failed", "HTML", body="<html>login</html>"),
        answer("failed", "missing projects", json={"items": []}),
        secrets=(KEY,),
    )
    for path in ("balances", "usage/breakdown"):
        plugin_env.web.add("GET", f"{API}/projects/{P1}/{path}", status=403, json={}, times=1)
    run = plugin_env.probe("deepgram", api_key=KEY, workspace_id=P1)
    expect(run, "credential-denied", "usage:read")
    plugin_env.assert_no_secrets(run, KEY)
    plugin_env.web.add("GET", f"{API}/projects/{P1}/balances", json={"balance": 1})
    expect(plugin_env.probe("deepgram", api_key=KEY, workspace_id=P1), "failed", "missing balances")


def test_unknown_project(plugin_env):
    plugin_env.web.add("GET", f"{API}/projects/nope/balances", status=404, json={})
    expect(
        plugin_env.probe("deepgram", api_key=KEY, workspace_id="nope"),
        "failed",
        "not found for this key",
    )


def test_no_projects(plugin_env):
    plugin_env.web.add("GET", f"{API}/projects", json={"projects": []})
    run = plugin_env.probe("deepgram", api_key=KEY)
    assert run.state == "ready"
    assert run.metric("Projects")["text"] == "No projects for this key"


def test_missing_key(plugin_env):
    expect(plugin_env.probe("deepgram"), "missing-auth", "DEEPGRAM_API_KEY")
    assert plugin_env.web.requests == []
