"""Start-up of the single-file ``usagestat.pyz``: cold (empty cache) and warm, against bare Python.

Builds the archive with ``zipapp.py`` into a temp dir (or uses ``$USAGESTAT_PYZ``)
and times, interleaved in the same run:

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


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000.0
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed: {result.stderr.decode(errors='replace').strip()}"
        )
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
        exe = [python(), "-I"]
        validate = [*exe, str(pyz), "plugin", "validate", str(plugins)]
        timed(validate, warm_env, base)  # fill the warm cache
        counter = [0]

        def cold(argv: list[str]) -> Callable[[], float]:
            def measure() -> float:
                counter[0] += 1
                home, tmp = base / f"cold-home-{counter[0]}", base / f"cold-tmp-{counter[0]}"
                home.mkdir()
                tmp.mkdir()
                return timed(argv, environment(home, tmp), base)

            return measure

        samples = interleaved(
            {
                "bare": lambda: timed([*exe, "-c", "pass"], warm_env, base),
                "version warm": lambda: timed([*exe, str(pyz), "--version"], warm_env, base),
                "version cold": cold([*exe, str(pyz), "--version"]),
                "engine warm": lambda: timed(validate, warm_env, base),
                "engine cold": cold(validate),
            },
            runs,
        )
        size = pyz.stat().st_size
    med = {name: median_spread(values) for name, values in samples.items()}
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
            note=f"baseline is `python -I -c pass` ({bare:.1f} ms) in the same run",
        ),
        Row(
            "pyz --version, cold (empty cache)",
            med["version cold"][0],
            bare,
            "<= 300 ms",
            med["version cold"][0] <= 300.0,
            spread=med["version cold"][1],
        ),
        Row(
            "pyz plugin validate, cold (engine extracted)",
            engine_cold,
            bare,
            "<= 300 ms",
            engine_cold <= 300.0,
            spread=med["engine cold"][1],
            note=f"extraction adds {engine_cold - engine_warm:.0f} ms over the warm run",
        ),
        Row(
            "pyz plugin validate, warm (engine cached)",
            engine_warm,
            engine_cold,
            "< cold",
            engine_warm < engine_cold,
            spread=med["engine warm"][1],
            note="baseline column: the cold run",
        ),
        Row("pyz size", size / 1048576.0, None, "< 8 MiB", size < 8 * 1024 * 1024, unit="MiB"),
    ]


if __name__ == "__main__":
    sys.exit(main(run))
