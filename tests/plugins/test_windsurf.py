"""Windsurf plugin: API key from state.vscdb / Devin credentials.toml -> GetUserStatus."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import (
    answer,
    check_answers,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
    vscode_state_db,
)

fixture = fixtures("windsurf")
PATH = "/exa.seat_management_pb.SeatManagementService/GetUserStatus"
WINDSURF = "https://server.self-serve.windsurf.com" + PATH
DEVIN = "https://server.codeium.com" + PATH
LINUX_DB = ".config/Windsurf/User/globalStorage/state.vscdb"
KEY = "sk-ws-01-test-windsurf-key-abcdef"


def app_login(env, key: str = KEY, rel: str = LINUX_DB) -> Path:
    status = {"apiKey": key, "name": "Dev", "email": "dev@example.com"}
    return vscode_state_db(env, rel, {"windsurfAuthStatus": json.dumps(status)})


def test_normal_account_from_the_app_database(plugin_env):
    app_login(plugin_env)
    plugin_env.web.add("POST", WINDSURF, json=fixture("get-user-status.json"))
    run = ready(plugin_env.probe("windsurf"), source="local", plan="Pro")
    daily = run.metric("Daily quota")
    assert (daily["used"], daily["limit"], daily["format"]) == (20.0, 100.0, {"kind": "percent"})
    assert daily["resetsAt"] == "2030-01-02T00:00:00Z"
    assert daily["periodDurationMs"] == 86_400_000
    weekly = run.metric("Weekly quota")
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        35.0,
        "2030-01-08T00:00:00Z",
        604_800_000,
    )
    assert run.metric("Extra usage balance")["value"] == "$12.50"
    assert not run.has_metric("Prompt credits")  # -1 = unlimited
    req = only_request(
        plugin_env, WINDSURF, "POST", connect_protocol_version="1", content_type="application/json"
    )
    body = req.json()["metadata"]
    assert body["apiKey"] == KEY and body["ideName"] == "windsurf" and body["locale"] == "en"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_devin_credentials_toml_with_custom_server(plugin_env):
    plugin_env.file(
        ".local/share/devin/credentials.toml",
        '# written by devin auth login\n[auth]\nwindsurf_api_key = "devin-session-token$abc123456"\n'
        "api_server_url = 'https://server.codeium.com'\n",
    )
    data = fixture("get-user-status.json")
    status = data["userStatus"]["planStatus"]
    status["planInfo"]["hideDailyQuota"] = True
    del status["weeklyQuotaRemainingPercent"], status["overageBalanceMicros"]
    plugin_env.web.add("POST", DEVIN, json=data)
    run = plugin_env.probe("windsurf")
    assert run.state == "ready", run.error
    assert not run.has_metric("Daily quota") and not run.has_metric("Extra usage balance")
    weekly = run.metric("Weekly quota")  # hidden daily quota carries the weekly pool
    assert (weekly["used"], weekly["periodDurationMs"]) == (20.0, 604_800_000)
    body = plugin_env.requests_to(DEVIN)[0].json()["metadata"]
    assert body["apiKey"] == "devin-session-token$abc123456" and body["ideName"] == "devin"
    plugin_env.assert_no_secrets(run, "devin-session-token$abc123456")


def test_legacy_prompt_credits_and_negative_balance(plugin_env):
    app_login(plugin_env, rel=".config/Windsurf - Next/User/globalStorage/state.vscdb")
    data = fixture("get-user-status-legacy.json")
    data["userStatus"]["planStatus"]["overageBalanceMicros"] = "-3282891"
    plugin_env.web.add("POST", WINDSURF, json=data)
    run = plugin_env.probe("windsurf")
    assert run.state == "ready", run.error
    prompt = run.metric("Prompt credits")
    assert (prompt["used"], prompt["limit"]) == (125.5, 500.0)
    assert prompt["format"] == {"kind": "count", "suffix": "credits"}
    assert prompt["resetsAt"] == "2030-01-31T00:00:00Z"
    assert prompt["periodDurationMs"] == 30 * 86_400_000
    assert run.metric("Flex credits")["used"] == 0.0
    assert run.metric("Extra usage balance")["value"] == "-$3.28"
    assert plugin_env.requests_to(WINDSURF)[0].json()["metadata"]["ideName"] == "windsurf-next"


def test_macos_devin_app_database(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "macos")
    app_login(plugin_env, rel="Library/Application Support/Devin/User/globalStorage/state.vscdb")
    plugin_env.web.add("POST", DEVIN, json=fixture("get-user-status.json"))
    run = plugin_env.probe("windsurf")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(DEVIN)[0].json()["metadata"]["ideName"] == "devin"


def test_config_key_wins_and_a_rejected_key_falls_through(plugin_env):
    app_login(plugin_env, key="sk-ws-01-app-key-999999")
    plugin_env.setenv("WINDSURF_API_KEY", "sk-ws-01-env-key-888888")

    def answer(req):
        key = req.json()["metadata"]["apiKey"]
        if key == "sk-ws-01-config-key-777777":
            return 401, {"Content-Type": "application/json"}, '{"code":"unauthenticated"}'
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps(fixture("get-user-status.json")),
        )

    plugin_env.web.add_handler("POST", WINDSURF, answer)
    run = ready(plugin_env.probe("windsurf", api_key="sk-ws-01-config-key-777777"), source="api")
    keys = [r.json()["metadata"]["apiKey"] for r in plugin_env.requests_to(WINDSURF)]
    assert keys == ["sk-ws-01-config-key-777777", "sk-ws-01-env-key-888888"]
    plugin_env.assert_no_secrets(run, "sk-ws-01-config-key-777777", "sk-ws-01-env-key-888888")


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    app_login(plugin_env)
    # Every key source is tried in turn; all are refused.
    plugin_env.web.add("POST", WINDSURF, status=403, json={"code": "permission_denied"}, times=2)
    run = expect(plugin_env.probe("windsurf"), "credential-denied", "Start Windsurf")
    plugin_env.assert_no_secrets(run, KEY)
    check_answers(
        plugin_env,
        "POST",
        WINDSURF,
        lambda: plugin_env.probe("windsurf"),
        rate_limited(45),
        answer("failed", "not JSON", body="not json at all"),
        answer("failed", "userStatus.planStatus", json={"userStatus": {"name": "x"}}),
        answer(
            "no-data",
            "quota data unavailable",
            json={"userStatus": {"planStatus": {"planInfo": {"planName": "Pro"}}}},
        ),
        secrets=(KEY,),
    )


def test_missing_credentials(plugin_env):
    run = plugin_env.probe("windsurf")
    assert run.state == "missing-auth"
    assert "Start Windsurf" in run.error
    expect(plugin_env.probe("windsurf", source="api"), "missing-auth", "WINDSURF_API_KEY")
    assert plugin_env.web.requests == []


def test_local_mode_ignores_env_and_never_writes(plugin_env):
    db = app_login(plugin_env)
    before = db.read_bytes()
    plugin_env.setenv("WINDSURF_API_KEY", "sk-ws-01-env-key-888888")
    plugin_env.web.add("POST", WINDSURF, json=fixture("get-user-status.json"))
    run = plugin_env.probe("windsurf", source="local", write_credentials=False)
    assert run.state == "ready", run.error
    assert [r.json()["metadata"]["apiKey"] for r in plugin_env.requests_to(WINDSURF)] == [KEY]
    assert db.read_bytes() == before
