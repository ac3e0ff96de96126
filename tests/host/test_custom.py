"""The built-in custom provider: any program that prints usage JSON (SPEC §3.6)."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from usagestat.core.config import Config, ProviderEntry
from usagestat.core.serialize import to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.probe import probe_many

RESULT = {
    "plan": "Team",
    "metrics": [
        {
            "type": "progress",
            "label": "Seats",
            "used": 3,
            "limit": 5,
            "format": {"kind": "count", "suffix": "seats"},
        }
    ],
}


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(body, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def run(tmp_path: Path, commands: dict[str, str | None], timeout: float = 5.0) -> dict[str, dict]:
    entries = [
        ProviderEntry(
            id="custom", instance_id=name, index=i, custom_command=cmd, display_name=name.title()
        )
        for i, (name, cmd) in enumerate(commands.items())
    ]
    config = Config(path=tmp_path / "c.toml", probe_timeout_sec=timeout, providers=entries)
    registry = discover([], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, list(commands))
    return {o.snapshot.instance_id: to_json(o.snapshot) for o in probe_many(instances, config)}


def test_object_and_bare_array_outputs_and_several_instances(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        {
            "team": script(tmp_path, "a", f"import json; print(json.dumps({RESULT!r}))"),
            "bare": script(tmp_path, "b", f"import json; print(json.dumps({RESULT['metrics']!r}))"),
        },
    )
    team = results["team"]
    assert (
        team["state"] == "ready" and team["source"] == "custom" and team["providerId"] == "custom"
    )
    assert team["plan"] == "Team" and team["displayName"] == "Team"
    assert team["metrics"][0] == {
        "type": "progress",
        "label": "Seats",
        "used": 3.0,
        "limit": 5.0,
        "format": {"kind": "count", "suffix": "seats"},
    }
    assert results["bare"]["state"] == "ready" and results["bare"]["metrics"] == team["metrics"]


@pytest.mark.parametrize(
    ("body", "state", "fragment"),
    [
        (
            "import sys; sys.stderr.write('\\nboom: no token\\nmore\\n'); sys.exit(3)",
            "failed",
            "status 3: boom: no token",
        ),
        ("print('not json')", "failed", "did not print valid JSON"),
        (
            "import json; print(json.dumps({'metrics': [{'type': 'progress', 'label': 'x', 'used': 1, 'limit': 0, 'format': {'kind': 'percent'}}]}))",
            "failed",
            "metrics[0].limit",
        ),
        ("import json; print(json.dumps({'metrics': []}))", "no-data", "no usage data"),
    ],
)
def test_failures_are_error_snapshots(tmp_path: Path, body: str, state: str, fragment: str) -> None:
    result = run(tmp_path, {"bad": script(tmp_path, "bad", body)})["bad"]
    assert result["state"] == state and result["source"] == "error"
    assert fragment in result["error"]["message"]


def test_timeout_kills_the_command(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run(
        tmp_path, {"slow": script(tmp_path, "slow", "import time; time.sleep(30)")}, timeout=1.0
    )["slow"]
    assert result["state"] == "timed-out" and "timed out after 1s" in result["error"]["message"]
    assert time.monotonic() - started < 5


def test_missing_or_broken_command(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        {
            "none": None,
            "missing": "/nonexistent/usage-script --json",
            "quotes": "script 'unterminated",
        },
    )
    assert "needs customCommand" in results["none"]["error"]["message"]
    assert "not found" in results["missing"]["error"]["message"]
    assert "cannot be split" in results["quotes"]["error"]["message"]


def test_the_command_gets_no_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cmd = script(
        tmp_path,
        "echoargs",
        "import json, sys; print(json.dumps([{'type': 'text', 'label': 'args', 'value': ' '.join(sys.argv[1:])}]))",
    )
    result = run(tmp_path, {"safe": f"{cmd} '; touch {marker}'"})["safe"]
    assert result["metrics"][0]["value"] == f"; touch {marker}"
    assert not marker.exists()
    assert json.dumps(result)  # serialisable
