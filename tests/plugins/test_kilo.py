"""kilo: app.kilo.ai tRPC batch (credit blocks in micro-USD, Kilo Pass, auto top-up)."""

from __future__ import annotations

import json

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("kilo")
BATCH = fixture("trpc-batch.json")
AUTH = fixture("auth.json")
URL = (
    "https://app.kilo.ai/api/trpc/"
    "user.getCreditBlocks,kiloPass.getState,user.getAutoTopUpPaymentMethod"
)
AUTH_PATH = ".local/share/kilo/auth.json"
MONTH_MS = 30 * 24 * 3600 * 1000


def test_cli_session_normal_account(plugin_env):
    plugin_env.file(AUTH_PATH, AUTH)
    plugin_env.web.add("GET", URL, json=BATCH, query={"batch": "1"})
    run = ready(plugin_env.probe("kilo"), source="local", plan="Kilo Pass Pro")
    credits = run.metric("Credits")
    assert credits["used"] == 18.75 and credits["limit"] == 30.0
    assert credits["format"] == {"kind": "dollars"}
    assert run.metric("Balance")["value"] == "$11.25 remaining"
    passline = run.metric("Pass")
    assert passline["used"] == 21.5 and abs(passline["limit"] - 58.8) < 1e-9
    assert passline["resetsAt"] == "2030-02-01T00:00:00Z"
    assert passline["periodDurationMs"] == MONTH_MS
    assert run.metric("Pass bonus")["detail"] is True
    assert run.metric("Auto top-up") == {
        "type": "badge",
        "label": "Auto top-up",
        "text": "On",
        "color": "green",
        "detail": True,
    }
    (req,) = plugin_env.requests_to(URL)
    assert req.method == "GET"
    assert req.headers["authorization"] == "Bearer kilo-cli-access-token"
    assert "x-kilocode-organizationid" not in req.headers
    assert json.loads(req.query["input"]) == {str(i): {"json": None} for i in range(3)}
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "kilo-cli-access-token", "kilo-cli-refresh")


def test_api_key_order_org_header_and_xdg_dir(plugin_env):
    xdg = plugin_env.tmp / "xdg-data"
    plugin_env.setenv("XDG_DATA_HOME", str(xdg))
    (xdg / "kilo").mkdir(parents=True)
    (xdg / "kilo" / "auth.json").write_text(json.dumps({"apiKey": "kilo-legacy-file-key"}))
    plugin_env.web.add("GET", URL, json=BATCH)
    run = plugin_env.probe("kilo")
    assert run.state == "ready" and run.json["source"] == "local"
    plugin_env.setenv("KILO_API_KEY", "kilo-env-key-222")
    run = plugin_env.probe("kilo")
    assert run.state == "ready" and run.json["source"] == "api"
    run = plugin_env.probe(
        "kilo", source="api", api_key="kilo-config-key-111", workspace_id="org_42"
    )
    assert run.state == "ready", run.error
    reqs = plugin_env.requests_to(URL)
    assert [r.headers["authorization"] for r in reqs] == [
        "Bearer kilo-legacy-file-key",
        "Bearer kilo-env-key-222",
        "Bearer kilo-config-key-111",
    ]
    assert reqs[2].headers["x-kilocode-organizationid"] == "org_42"


def test_credits_only_account(plugin_env):
    batch = [
        {"result": {"data": {"json": [{"amount_mUsd": 10000000, "balance_mUsd": 2500000}]}}},
        {"result": {"data": {"json": {"subscription": None}}}},
        {"error": {"json": {"message": "boom", "data": {"code": "INTERNAL_SERVER_ERROR"}}}},
    ]
    plugin_env.web.add("GET", URL, status=207, json=batch)
    run = ready(plugin_env.probe("kilo", api_key="kilo-key-333"), plan="Credits")
    assert run.metric("Credits")["used"] == 7.5 and run.metric("Credits")["limit"] == 10.0
    assert run.metric("Balance")["value"] == "$2.50 remaining"
    assert not run.has_metric("Pass") and not run.has_metric("Auto top-up")


def test_rejected_key(plugin_env):
    plugin_env.web.add(
        "GET", URL, status=401, json=[{"error": {"json": {"message": "UNAUTHORIZED"}}}]
    )
    expect(
        plugin_env.probe("kilo", api_key="kilo-bad-key-444"), "credential-denied", "KILO_API_KEY"
    )
    unauthorized = {"error": {"json": {"message": "no", "data": {"code": "UNAUTHORIZED"}}}}
    plugin_env.web.add("GET", URL, status=207, json=[unauthorized, unauthorized, unauthorized])
    expect(
        plugin_env.probe("kilo", api_key="kilo-bad-key-444", workspace_id="org_9"),
        "credential-denied",
        "org_9",
    )
    plugin_env.file(AUTH_PATH, AUTH)
    plugin_env.web.add("GET", URL, status=403, json={})
    run = plugin_env.probe("kilo", source="local")
    assert run.state == "credential-denied" and "kilo auth login" in run.error
    plugin_env.assert_no_secrets(run, "kilo-cli-access-token")


def test_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("kilo", api_key="kilo-key-333"),
        rate_limited(45),
        answer("failed", "HTML", body="<html>cloudflare</html>"),
        answer("failed", "tRPC", json={"hello": "world"}),
        answer(
            "failed", "missing creditBlocks", json=[{"result": {"data": {"json": {"other": 1}}}}]
        ),
        answer("failed", "endpoint changed", status=404, json={}),
        secrets=("kilo-key-333",),
    )


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("kilo"), "missing-auth", "kilo auth login")
    expect(plugin_env.probe("kilo", source="api"), "missing-auth", "KILO_API_KEY")
    plugin_env.file(AUTH_PATH, {"kilo": {"type": "oauth"}})
    expect(plugin_env.probe("kilo", source="local"), "missing-auth", "kilo auth login")
    plugin_env.file(AUTH_PATH, "{not json")
    expect(plugin_env.probe("kilo", source="local"), "failed", "not valid JSON")
    assert plugin_env.web.requests == []


@pytest.mark.parametrize("path", [("message",), ("data", "code")], ids=["message", "code"])
def test_an_error_value_nested_thousands_deep_is_ignored(plugin_env, path):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.file(AUTH_PATH, AUTH)
    batch = json.loads(json.dumps(BATCH))
    error = {
        "message": "Pass unavailable",
        "code": -32603,
        "data": {"code": "INTERNAL_SERVER_ERROR"},
    }
    batch[1] = {"error": {"json": error}}
    body = deeply_nested(batch, 1, "error", "json", *path)
    plugin_env.web.add("GET", URL, body=body, query={"batch": "1"})
    run = ready(plugin_env.probe("kilo"), plan="Credits")
    assert run.metric("Credits")["used"] == 18.75
    assert any("Kilo kiloPass.getState failed" in msg for _, msg in run.logs)
