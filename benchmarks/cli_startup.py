"""CLI start-up against a bare ``python -c pass`` measured in the same run (SPEC §10).

Targets: ``--version`` <= 2x, ``list`` <= 3x, ``--json usage mock`` <= 5x. The
four commands are run in turn, round after round (interleaved), each in a
fresh private home with a pinned clock, and compared by their medians; the
spread of the usagestat samples is reported beside each ratio.

The ratios are taken with the Python of a clean venv (nothing installed; the
package and the engine's folder on ``PYTHONPATH``), as ``pyz_startup.py`` does:
``.pth`` hooks in the development interpreter's site-packages run on both sides
and can cost more than the whole bare start-up, which flatters every ratio. The
same commands with the default interpreter are measured in the same rounds and
given in the notes.

    python benchmarks/cli_startup.py [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Row, clean_python, interleaved, main, median_spread, python

CASES = (
    ("--version", ["-m", "usagestat", "--version"], 2.0),
    ("list", ["-m", "usagestat", "list"], 3.0),
    ("--json usage mock", ["-m", "usagestat", "--json", "usage", "mock"], 5.0),
)


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGESTAT_")}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "USAGESTAT_NOW": "2026-01-15T12:00:00Z",
            "NO_COLOR": "1",
        }
    )
    return env


def _timer(argv: list[str], env: dict[str, str]):
    def measure() -> float:
        start = time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        elapsed = (time.perf_counter() - start) * 1000.0
        if done.returncode != 0:
            raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(argv)}")
        return elapsed

    return measure


def run(quick: bool) -> list[Row]:
    rounds = 7 if quick else 21
    with tempfile.TemporaryDirectory(prefix="usagestat-bench-") as tmp:
        env = _environment(Path(tmp))
        clean, pythonpath = clean_python(Path(tmp))
        clean_env = dict(env, PYTHONPATH=pythonpath)
        commands = {"baseline": _timer([clean, "-c", "pass"], clean_env)}
        for name, args, _target in CASES:
            commands[name] = _timer([clean, *args], clean_env)
        commands["default baseline"] = _timer([python(), "-c", "pass"], env)
        for name, args, _target in CASES:
            commands[f"default {name}"] = _timer([python(), *args], env)
        for measure in commands.values():  # warm the OS caches and the .pyc files
            measure()
        samples = interleaved(commands, rounds)
    baseline, _ = median_spread(samples["baseline"])
    default_baseline, _ = median_spread(samples["default baseline"])
    rows = []
    for name, _args, target in CASES:
        value, spread = median_spread(samples[name])
        ratio = value / baseline if baseline else float("inf")
        default, _ = median_spread(samples[f"default {name}"])
        note = (
            f"clean venv; the default interpreter ({python()}): {default:.0f} ms vs "
            f"`python -c pass` {default_baseline:.0f} ms = {default / default_baseline:.2f}x"
        )
        if name == "--json usage mock":
            note += "; includes one isolated probe worker"
        rows.append(
            Row(
                metric=f"start-up: {name}",
                usagestat=value,
                baseline=baseline,
                target=f"<= {target:.1f}x",
                passed=ratio <= target,
                spread=spread,
                note=note,
            )
        )
    return rows


if __name__ == "__main__":
    sys.exit(main(run))
