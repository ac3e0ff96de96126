"""Run every benchmark and print one table; exit 1 when a row misses its target.

Each script answers one question of SPEC §10 against a baseline measured in
the same run (see its docstring). ``--quick`` is the smoke-test scale (under
3 minutes in total); without it the full run takes a little over an hour, most
of it the daemon's one-hour footprint run. ``--only NAME[,NAME]`` runs some.

    python benchmarks/run_all.py [--quick] [--only probe_overhead,cli_startup]

A script that crashes becomes a failed row with its error, and the others
still run. The machine description is printed above the table.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, format_table

SCRIPTS = (
    "cli_startup",
    "probe_overhead",
    "parallel_refresh",
    "daemon_throughput",
    "daemon_footprint",
    "pyz_startup",
    "log_scan",
)


def machine() -> str:
    """``uname -a``, CPU count and model, Python version."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    uname = " ".join(platform.uname())
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{uname}\n{os.cpu_count()} CPUs ({model}), Python {platform.python_version()} "
        f"({sys.executable}){load}"
    )


def run(quick: bool, names: list[str]) -> tuple[list[Row], dict[str, float]]:
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for name in names:
        start = time.monotonic()
        print(f"[{name}] running…", file=sys.stderr, flush=True)
        try:
            rows += importlib.import_module(name).run(quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc(file=sys.stderr)
            rows.append(Row(name, 0.0, None, "runs", False, note=f"crashed: {exc!r}"[:300]))
        seconds[name] = time.monotonic() - start
        print(f"[{name}] {seconds[name]:.0f} s", file=sys.stderr, flush=True)
    return rows, seconds


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = list(SCRIPTS)
    if "--only" in argv:
        index = argv.index("--only")
        wanted = argv[index + 1].split(",") if index + 1 < len(argv) else []
        unknown = [w for w in wanted if w not in SCRIPTS]
        if unknown or not wanted:
            print(f"--only takes some of: {', '.join(SCRIPTS)}", file=sys.stderr)
            return 2
        names = wanted
    header = machine()
    started = time.monotonic()
    rows, seconds = run(quick, names)
    total = time.monotonic() - started
    failed = [row.metric for row in rows if not row.passed]
    print(header)
    parts = ", ".join(f"{name} {value:.0f} s" for name, value in seconds.items())
    print(f"mode: {'quick' if quick else 'full'}; {total:.0f} s in total ({parts})\n")
    print(format_table(rows))
    summary = f"{len(rows) - len(failed)} of {len(rows)} rows pass"
    print(f"\n{summary}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
