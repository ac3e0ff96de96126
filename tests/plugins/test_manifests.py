"""Every bundled plugin validates with no problem at all (no warning either)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT


def test_every_bundled_plugin_validates_without_warnings():
    out = subprocess.run(
        [sys.executable, "-m", "usagestat", "plugin", "validate", "--json", "plugins"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    entries = {entry["id"]: entry for entry in json.loads(out.stdout)}
    bundled = {p.parent.name for p in (ROOT / "plugins").glob("*/plugin.json")}
    assert set(entries) == bundled
    problems = {i: e["problems"] for i, e in entries.items() if not e["valid"] or e["problems"]}
    assert problems == {}
    assert out.returncode == 0, out.stderr
