"""One test per command line of the original brief, run as a subprocess in a private home."""

from __future__ import annotations

import csv
import io
import json

import pytest

from .conftest import NOW, Cli

SNAPSHOT_KEYS = {
    "providerId",
    "instanceId",
    "displayName",
    "source",
    "metrics",
    "fetchedAt",
    "statusPageUrl",
    "pace",
    "state",
    "error",
    "stale",
    "lastError",
}
CSV_HEADER = (
    "ts,provider_id,display_name,plan,primary_percent,input_tokens,output_tokens,cost,reset_time"
)

CLAUDE_PROBE = """
return {plan: "Max 5x", metrics: [
  ctx.line.progress({label: "Session", used: 42, limit: 100, format: {kind: "percent"},
                     resetsAt: "2026-01-15T15:12:00Z", periodDurationMs: 5 * 3600 * 1000}),
  ctx.line.progress({label: "Extra usage", used: 4.5, limit: 10, format: {kind: "dollars"}})
]};
"""


def test_list(cli: Cli) -> None:
    result = cli.run("list")
    assert result.code == 0, result
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "enabled" in rows["mock"]
    assert "disabled" in rows["chaos"]
    assert "custom" in rows
    assert "\x1b[" not in result.stdout


def test_json_usage_mock(cli: Cli) -> None:
    result = cli.run("--json", "usage", "mock")
    assert result.code == 0, result
    data = result.json()
    assert isinstance(data, list) and len(data) == 1
    snap = data[0]
    assert set(snap) >= SNAPSHOT_KEYS
    assert snap["providerId"] == "mock" and snap["instanceId"] == "mock"
    assert snap["state"] == "ready" and snap["error"] is None and snap["stale"] is False
    assert snap["fetchedAt"] == NOW
    assert snap["metrics"][0]["type"] == "progress"
    assert snap["metrics"][0]["format"] == {"kind": "percent"}
    assert set(snap["pace"]) == {
        "stage",
        "deltaPercent",
        "expectedUsedPercent",
        "actualUsedPercent",
        "willLastToReset",
        "etaSeconds",
    }
    assert result.stderr == ""


def test_usage_provider_claude_save(cli: Cli) -> None:
    cli.plugin("claude", CLAUDE_PROBE, name="Claude")
    result = cli.run("usage", "--provider", "claude", "--save", "--plugin-dir", str(cli.plugin_dir))
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "Claude · Max 5x"
    assert "42.0% (42 / 100)" in lines[1] and "resets in 3h 12m" in lines[1]
    assert "$4.50 / $10.00" in result.stdout
    history = (cli.data_dir / "history.jsonl").read_text().splitlines()
    assert len(history) == 1
    record = json.loads(history[0])
    assert record["ts"] == record["fetchedAt"] == NOW
    assert record["providerId"] == "claude" and record["plan"] == "Max 5x"
    snapshots = json.loads((cli.data_dir / "snapshots.json").read_text())
    assert "claude" in snapshots["snapshots"]


def test_status_claude_codex(cli: Cli, httpserver) -> None:
    httpserver.expect_request("/claude/api/v2/status.json").respond_with_json(
        {"status": {"indicator": "none", "description": "All Systems Operational"}}
    )
    httpserver.expect_request("/codex/api/v2/status.json").respond_with_json(
        {"status": {"indicator": "minor", "description": "Partially Degraded Service"}}
    )
    cli.plugin("claude", name="Claude", statusPageUrl=httpserver.url_for("/claude"))
    cli.plugin("codex", name="Codex", statusPageUrl=httpserver.url_for("/codex/"))
    pdir = str(cli.plugin_dir)
    result = cli.run("status", "claude", "codex", "--plugin-dir", pdir)
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Claude", "operational", "All", "Systems", "Operational"]
    assert lines[1].split()[:2] == ["Codex", "minor"]

    data = cli.run("--json", "status", "claude", "codex", "--plugin-dir", pdir).json()
    assert data == [
        {
            "providerId": "claude",
            "displayName": "Claude",
            "statusUrl": httpserver.url_for("/claude/api/v2/status.json"),
            "indicator": "none",
            "description": "All Systems Operational",
            "error": None,
        },
        {
            "providerId": "codex",
            "displayName": "Codex",
            "statusUrl": httpserver.url_for("/codex/api/v2/status.json"),
            "indicator": "minor",
            "description": "Partially Degraded Service",
            "error": None,
        },
    ]


def test_export_format_csv(cli: Cli) -> None:
    result = cli.run("export", "--format", "csv")
    assert result.code == 0, result
    assert result.stdout.splitlines()[0] == CSV_HEADER
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert all(len(row) == 9 for row in rows)
    mock = next(row for row in rows[1:] if row[1] == "mock")
    assert mock[0] == NOW and mock[2] == "Mock" and mock[3] == "Dev"
    assert mock[4] == "72.00"  # percent with 2 decimals
    assert mock[7] == ""  # no dollars metric: empty, not 0
    assert mock[8] == "2026-01-15T13:00:00Z"


def test_auth_import_cookies_codex_json_without_web_url(cli: Cli) -> None:
    cli.plugin("codex", name="Codex")  # no webUrl in the manifest
    result = cli.run(
        "auth",
        "import-cookies",
        "--provider",
        "codex",
        "--format",
        "json",
        "--plugin-dir",
        str(cli.plugin_dir),
    )
    assert result.code == 1, result
    error = result.json()["error"]
    assert error["code"] == "NO_WEB_URL"
    assert "webUrl" in error["message"]


def test_auth_import_cookies_codex_json_with_cookie_module(cli: Cli) -> None:
    cli.plugin("codex", name="Codex", webUrl="https://chatgpt.com", supportedModes=["web"])
    result = cli.run(
        "auth",
        "import-cookies",
        "--provider",
        "codex",
        "--format",
        "json",
        "--plugin-dir",
        str(cli.plugin_dir),
    )
    # a fresh home has no browser profiles: a clean, coded failure
    assert result.code == 1, result
    assert result.json()["error"]["code"] in ("BROWSER_NOT_FOUND", "SESSION_NOT_FOUND")


def test_config_validate(cli: Cli) -> None:
    result = cli.run("config", "validate")
    assert result.code == 0, result
    assert result.stdout.startswith(str(cli.config_dir / "config.toml") + ": valid")

    cli.write_config('refreshSec = 60\n[[providers]]\nid = "mock"\n')
    data = cli.run("config", "validate", "--json").json()
    assert data == {"path": str(cli.config_dir / "config.toml"), "valid": True, "issues": []}


def test_cache_clear_history(cli: Cli) -> None:
    assert cli.run("usage", "mock", "--save").code == 0
    history = cli.data_dir / "history.jsonl"
    assert history.exists()
    result = cli.run("cache", "clear", "--history")
    assert result.code == 0, result
    assert not history.exists()
    assert result.stdout.split()[:2] == ["history", "cleared"]
    again = cli.run("cache", "clear", "--history", "--json")
    assert again.json() == [
        {"cache": "history", "path": str(history), "cleared": False, "error": None}
    ]


def test_plugin_validate(cli: Cli) -> None:
    result = cli.run("plugin", "validate", "--json")
    data = result.json()
    assert all(set(item) == {"id", "path", "valid", "problems"} for item in data)
    by_id = {item["id"]: item for item in data}
    assert by_id["mock"]["valid"] and by_id["chaos"]["valid"]
    # exit 1 exactly when some discovered plugin is invalid
    assert result.code == (0 if all(item["valid"] for item in data) else 1), result
    text = cli.run("plugin", "validate")
    assert text.code == result.code
    assert text.stdout.rstrip().endswith("invalid")


def test_daemon_is_a_command(cli: Cli) -> None:
    assert "daemon" in cli.run("--help").stdout
    from usagestat import daemon

    if not hasattr(daemon, "main"):
        pytest.skip("the daemon is not built yet")
    result = cli.run("daemon", "--help")
    assert result.code == 0, result
    assert "--refresh-sec" in result.stdout


def test_global_overrides_config_and_plugin_dir(cli: Cli) -> None:
    config = cli.tmp / "config.toml"
    config.write_text('[[providers]]\nid = "acme"\ndisplayName = "Acme Work"\n')
    cli.plugin("acme")
    result = cli.run("--config", str(config), "--plugin-dir", str(cli.plugin_dir), "list")
    assert result.code == 0, result
    row = next(line for line in result.stdout.splitlines() if line.startswith("acme"))
    assert row.split()[1] == "enabled"
    # the same flags after the command word
    again = cli.run("list", "--config", str(config), "--plugin-dir", str(cli.plugin_dir))
    assert again.stdout == result.stdout


def test_refresh_sec_only_for_the_daemon(cli: Cli) -> None:
    result = cli.run("--refresh-sec", "30", "list")
    assert result.code == 2
    assert "only applies to the daemon" in result.stderr
