"""Start-up of the single-file ``usagestat.pyz``: cold (empty cache) and warm, against bare Python.

Builds the archive with ``zipapp.py`` into a temp dir (or uses ``$USAGESTAT_PYZ``)
and times, interleaved in the same run and with the Python of a clean venv (nothing
installed, so no ``quickjs-ng`` and no start-up hooks from site-packages):

- ``python -I -c pass`` (the baseline);
- ``usagestat.pyz --version`` warm, and cold (first run: empty HOME and TMPDIR);
- the first engine use, ``usagestat.pyz plugin validate DIR``, cold (the native
  module is extracted from the vendored wheel) and warm (loaded from the cache).

Targets (SPEC §10, issue 6): warm ``--version`` <= 2x bare Python; cold <= 300 ms.
Run: ``python benchmarks/pyz_startup.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Row, interleaved, main, median_spread, python

PLUGIN_JS = """globalThis.__usagestat_plugin = {
  id: "bench",
  probe: function (ctx) { return { metrics: [] }; },
};
"""


def build(folder: Path) -> Path:
    given = os.environ.get("USAGESTAT_PYZ")
    if given:
        return Path(given).resolve()
    output = folder / "usagestat.pyz"
    subprocess.run(
        [python(), str(ROOT / "zipapp.py"), "-q", "-o", str(output)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return output


def write_plugin(folder: Path) -> Path:
    plugin = folder / "plugins" / "bench"
    plugin.mkdir(parents=True)
    manifest = {
        "id": "bench",
        "name": "Bench",
        "entry": "plugin.js",
        "permissions": {k: [] for k in ("http", "env", "fs", "fsWrite", "commands", "keychain")},
    }
    (plugin / "plugin.json").write_text(json.dumps(manifest), encoding="utf-8")
    (plugin / "plugin.js").write_text(PLUGIN_JS, encoding="utf-8")
    return plugin.parent


def environment(home: Path, tmp: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
    }


CPU_MS: dict[str, list[float]] = {}


def timed(argv: list[str], env: dict[str, str], cwd: Path, label: str = "") -> float:
    """Wall-clock ms of one run; the child's CPU ms (user + sys) goes to ``CPU_MS[label]``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if hasattr(os, "wait4"):
        stderr = process.stderr.read() if process.stderr else b""
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = (time.perf_counter() - start) * 1000.0
        process.returncode = os.waitstatus_to_exitcode(status)
        CPU_MS.setdefault(label, []).append((usage.ru_utime + usage.ru_stime) * 1000.0)
    else:  # pragma: no cover - Windows
        _out, stderr = process.communicate()
        elapsed = (time.perf_counter() - start) * 1000.0
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {stderr.decode(errors='replace').strip()}")
    return elapsed


def run(quick: bool) -> list[Row]:
    runs = 5 if quick else 21
    with tempfile.TemporaryDirectory(prefix="pyz-bench-") as scratch:
        base = Path(scratch)
        pyz = build(base)
        plugins = write_plugin(base)
        warm_home, warm_tmp = base / "warm-home", base / "warm-tmp"
        warm_home.mkdir()
        warm_tmp.mkdir()
        warm_env = environment(warm_home, warm_tmp)
        # A clean venv, like the locked-down target machine: its empty site-packages keeps
        # whatever the development interpreter loads at start-up (.pth files) out of both sides.
        venv = base / "venv"
        subprocess.run([python(), "-m", "venv", "--without-pip", str(venv)], check=True)
        exe = [str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")), "-I"]
        validate = [*exe, str(pyz), "plugin", "validate", str(plugins)]
        timed(validate, warm_env, base)  # fill the warm cache
        counter = [0]

        def cold(argv: list[str], label: str) -> Callable[[], float]:
            def measure() -> float:
                counter[0] += 1
                home, tmp = base / f"cold-home-{counter[0]}", base / f"cold-tmp-{counter[0]}"
                home.mkdir()
                tmp.mkdir()
                return timed(argv, environment(home, tmp), base, label)

            return measure

        CPU_MS.clear()
        samples = interleaved(
            {
                "bare": lambda: timed([*exe, "-c", "pass"], warm_env, base, "bare"),
                "version warm": lambda: timed(
                    [*exe, str(pyz), "--version"], warm_env, base, "version warm"
                ),
                "version cold": cold([*exe, str(pyz), "--version"], "version cold"),
                "engine warm": lambda: timed(validate, warm_env, base, "engine warm"),
                "engine cold": cold(validate, "engine cold"),
            },
            runs,
        )
        size = pyz.stat().st_size
    med = {name: median_spread(values) for name, values in samples.items()}
    cpu = {name: median_spread(values)[0] for name, values in CPU_MS.items() if name}

    def cpu_note(name: str) -> str:
        return f"; child CPU {cpu[name]:.0f} ms" if name in cpu else ""

    bare = med["bare"][0]
    version_warm, engine_warm, engine_cold = (
        med["version warm"][0],
        med["engine warm"][0],
        med["engine cold"][0],
    )
    return [
        Row(
            "pyz --version, warm",
            version_warm,
            bare,
            "<= 2.0x",
            version_warm <= 2.0 * bare,
            spread=med["version warm"][1],
            note=f"baseline is `python -I -c pass` ({bare:.1f} ms{cpu_note('bare')}){cpu_note('version warm')}",
        ),
        Row(
            "pyz --version, cold (empty cache)",
            med["version cold"][0],
            bare,
            "<= 300 ms",
            med["version cold"][0] <= 300.0,
            spread=med["version cold"][1],
            note=cpu_note("version cold").lstrip("; "),
        ),
        Row(
            "pyz plugin validate, cold (engine extracted)",
            engine_cold,
            bare,
            "<= 300 ms",
            engine_cold <= 300.0,
            spread=med["engine cold"][1],
            note=f"extraction adds {engine_cold - engine_warm:.0f} ms over the warm run{cpu_note('engine cold')}",
        ),
        Row(
            "pyz plugin validate, warm (engine cached)",
            engine_warm,
            engine_cold,
            "< cold",
            engine_warm < engine_cold,
            spread=med["engine warm"][1],
            note="baseline column: the cold run" + cpu_note("engine warm"),
        ),
        Row("pyz size", size / 1048576.0, None, "< 8 MiB", size < 8 * 1024 * 1024, unit="MiB"),
    ]


if __name__ == "__main__":
    sys.exit(main(run))
