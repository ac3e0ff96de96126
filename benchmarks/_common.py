"""Shared helpers for the benchmark scripts: timing, medians and the result table.

Every benchmark compares usagestat against a baseline measured in the same run
(the machine is noisy; ratios travel, absolute times do not). Each script
exposes ``run(quick: bool) -> list[Row]`` and prints its rows when executed;
``run_all.py`` collects every script's rows into one table.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    metric: str
    usagestat: float  # measured value (median)
    baseline: float | None  # same-run baseline (median), None when the target is absolute
    target: str  # e.g. "<= 2.0x" or "<= 60 ms"
    passed: bool
    unit: str = "ms"
    spread: float | None = None  # (max - min) / median of the usagestat samples
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.usagestat / self.baseline


def median_spread(samples: Sequence[float]) -> tuple[float, float]:
    med = statistics.median(samples)
    spread = (max(samples) - min(samples)) / med if med else 0.0
    return med, spread


def time_command(
    argv: Sequence[str], runs: int, env: dict[str, str] | None = None, warmup: int = 1
) -> list[float]:
    """Wall-clock milliseconds of ``runs`` executions (after ``warmup`` unmeasured ones)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    samples = []
    for index in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(
            argv, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        elapsed = (time.perf_counter() - start) * 1000.0
        if index >= warmup:
            samples.append(elapsed)
    return samples


def interleaved(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    """Run each measurement in turn, ``runs`` rounds, so drift hits all of them alike."""
    results: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, measure in commands.items():
            results[name].append(measure())
    return results


def python() -> str:
    return sys.executable


def clean_python(folder: Path) -> tuple[str, str]:
    """A venv without packages in ``folder``: (its python, the ``PYTHONPATH`` it needs).

    ``PYTHONPATH`` names this checkout and a folder holding only the ``_quickjs``
    engine, so no site-packages ``.pth`` hook of the development interpreter
    runs (some cost more than a whole bare start-up).
    """
    import importlib.util
    import shutil

    venv = folder / "clean-venv"
    subprocess.run([python(), "-m", "venv", "--without-pip", str(venv)], check=True)
    roots = [str(ROOT)]
    spec = importlib.util.find_spec("_quickjs")
    if spec and spec.origin:
        engine = folder / "clean-engine"
        engine.mkdir()
        target = engine / os.path.basename(spec.origin)
        try:
            target.symlink_to(spec.origin)
        except OSError:  # pragma: no cover - no symlinks (Windows)
            shutil.copy2(spec.origin, target)
        roots.append(str(engine))
    exe = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return str(exe), os.pathsep.join(roots)


def format_table(rows: Sequence[Row]) -> str:
    header = ("metric", "usagestat", "baseline", "ratio", "spread", "target", "result")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.metric,
                f"{row.usagestat:.1f} {row.unit}",
                f"{row.baseline:.1f} {row.unit}" if row.baseline is not None else "-",
                f"{row.ratio:.2f}x" if row.ratio is not None else "-",
                f"{row.spread * 100:.0f}%" if row.spread is not None else "-",
                row.target,
                "pass" if row.passed else "FAIL",
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"* {row.metric}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["", *notes] if notes else []))


def main(run: Callable[[bool], list[Row]]) -> int:
    quick = "--quick" in sys.argv
    rows = run(quick)
    print(format_table(rows))
    return 0 if all(row.passed for row in rows) else 1
