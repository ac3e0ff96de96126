"""The benchmark suite stays runnable: every script ``run_all`` names exists and reports rows."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(autouse=True)
def on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def test_run_all_names_every_script_and_each_has_run() -> None:
    run_all = importlib.import_module("run_all")
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_")}
    assert set(run_all.SCRIPTS) == scripts - {"run_all"}
    for name in run_all.SCRIPTS:
        assert callable(importlib.import_module(name).run), name


def test_a_failed_row_fails_the_table_and_the_exit_status(monkeypatch, capsys) -> None:
    common = importlib.import_module("_common")
    run_all = importlib.import_module("run_all")
    rows = [
        common.Row("fast", 1.0, 2.0, "<= 1.0x", True),
        common.Row("slow", 3.0, 1.0, "<= 2.0x", False, note="too slow"),
    ]
    monkeypatch.setattr(run_all, "run", lambda quick, names: (rows, {"x": 0.0}))
    assert run_all.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "0.50x" in out and "* slow: too slow" in out
    monkeypatch.setattr(run_all, "run", lambda quick, names: (rows[:1], {"x": 0.0}))
    assert run_all.main([]) == 0


def test_log_scan_holds_the_node_release_to_5x_and_reports_the_native_one() -> None:
    log_scan = importlib.import_module("log_scan")
    totals = dict.fromkeys(
        ("inputTokens", "cacheCreationTokens", "cacheReadTokens", "outputTokens"), 1
    )
    cold = {"wall": 0.5, "cpu": 0.5}
    node = log_scan._vs_row("x", cold, 1.0, "ccusage 18.0.11", {"totals": totals}, totals)
    native = log_scan._vs_row("x", cold, 1.0, "ccusage 20.0.24", {"totals": totals}, totals)
    assert node.target == "<= 0.20x" and not node.passed
    assert native.target.startswith("(report") and native.passed


def test_unknown_only_names_are_refused() -> None:
    run_all = importlib.import_module("run_all")
    assert run_all.main(["--only", "nope"]) == 2
