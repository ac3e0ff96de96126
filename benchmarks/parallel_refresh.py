"""Parallel refresh: 40 fake providers, each answering after 1 s from a local server.

SPEC §10: the whole refresh takes at most 1.5x one provider's refresh times
ceil(40 / maxParallel), and with maxParallel >= 40 at most 1.5 s as a daemon
cycle with warm workers. The cold CLI at maxParallel = 40 is reported beside
it without a target (40 worker starts at once on a small machine).

One local ``ThreadingHTTPServer`` delays every answer by 1 s. Forty instances
of one plugin (``instanceId`` slow-01 … slow-40) each ask it once per probe.

* daemon: started once with ``--refresh-sec 3600`` (no timed cycles), its
  first, cold cycle awaited; then ``GET /v1/usage?refresh=true`` (all 40,
  warm workers) against ``GET /v1/usage/slow-01?refresh=true`` (one), at
  maxParallel 40 and, after a SIGHUP reload, at the default maxParallel;
* CLI: ``usagestat --json usage`` (every probe a new worker) against
  ``usagestat --json usage slow-01``, at the default maxParallel and at 40.

The daemon and the CLI run with the Python of a clean venv (``_common.clean_python``).

    python benchmarks/parallel_refresh.py [--quick]
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, clean_python, main, median_spread

PROVIDERS = 40
DELAY_SEC = 1.0
RATIO_TARGET = 1.5
DAEMON_TARGET_SEC = 1.5
DEFAULT_PARALLEL = 4  # Config.max_parallel

PLUGIN_JS = """globalThis.__usagestat_plugin = {
  id: "slow",
  probe: function (ctx) {
    var resp = ctx.host.http.request({url: ctx.provider.baseUrl + "/usage", method: "GET",
                                      timeoutMs: 20000});
    if (resp.status !== 200) throw {code: "failed", message: "HTTP " + resp.status};
    var data = JSON.parse(resp.bodyText);
    return {metrics: [ctx.line.progress({label: "Quota", used: data.used, limit: 100,
                                         format: {kind: "percent"}})]};
  }
};
"""


class _SlowServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 40 connections arrive at once; the default backlog is 5


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        time.sleep(DELAY_SEC)
        body = json.dumps({"used": 42}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def start_slow_server() -> ThreadingHTTPServer:
    """The fake provider API (1 s per answer) on a free loopback port, in a thread."""
    server = _SlowServer(("127.0.0.1", 0), _SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_setup(home: Path, port: int, count: int, max_parallel: int) -> tuple[Path, Path]:
    """The plugin folder and a config with ``count`` instances; returns (plugin dir, config)."""
    plugins = home / "plugins"
    folder = plugins / "slow"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "id": "slow",
        "name": "Slow",
        "entry": "plugin.js",
        "supportedModes": ["api"],
        "permissions": {"http": ["127.0.0.1"]},
    }
    (folder / "plugin.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "plugin.js").write_text(PLUGIN_JS, encoding="utf-8")
    config = home / "config.toml"
    write_config(config, port, count, max_parallel)
    return plugins, config


def write_config(path: Path, port: int, count: int, max_parallel: int) -> None:
    lines = [f"maxParallel = {max_parallel}", "probeTimeoutSec = 30", ""]
    # the dev mock provider is enabled by default in a source checkout
    lines += ["[[providers]]", 'id = "mock"', "enabled = false", ""]
    for index in range(1, count + 1):
        lines += [
            "[[providers]]",
            'id = "slow"',
            f'instanceId = "slow-{index:02d}"',
            f'baseUrl = "http://127.0.0.1:{port}"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def environment(home: Path, pythonpath: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGESTAT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONPATH=pythonpath,
        NO_COLOR="1",
    )
    return env


def _check(snapshots: object, expected: int, what: str) -> None:
    items = snapshots if isinstance(snapshots, list) else [snapshots]
    good = [s for s in items if isinstance(s, dict) and s.get("state", "ready") == "ready"]
    if len(good) != expected:
        bad = [s for s in items if s not in good][:1]
        raise RuntimeError(f"{what}: {len(good)} of {expected} providers answered: {bad}")


# -- the daemon ------------------------------------------------------------------------------


class DaemonProcess:
    def __init__(
        self,
        home: Path,
        plugins: Path,
        config: Path,
        interpreter: tuple[str, str],
        refresh_sec: str = "3600",
    ) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                interpreter[0],
                "-m",
                "usagestat",
                "daemon",
                "--config",
                str(config),
                "--plugin-dir",
                str(plugins),
                "--port",
                "0",
                "--refresh-sec",
                refresh_sec,
            ],
            cwd=home,
            env=environment(home, interpreter[1]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = 0
        ready = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if match:
                    self.port = int(match.group(1))
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30):
            self.stop()
            raise RuntimeError("the daemon did not start:\n" + "\n".join(self.lines[-20:]))

    def get(self, path: str, timeout: float = 120.0) -> object:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:200]!r}")
            return json.loads(body)
        finally:
            conn.close()

    def timed(self, path: str, expected: int) -> float:
        start = time.perf_counter()
        data = self.get(path)
        elapsed = time.perf_counter() - start
        _check(data, expected, f"daemon {path}")
        return elapsed

    def wait_first_cycle(self, count: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.get("/v1/usage")
            if isinstance(data, list) and len(data) >= count:
                return
            time.sleep(0.2)
        raise RuntimeError("the daemon's first cycle did not finish")

    def reload(self) -> None:
        seen = len(self.lines)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any("reloaded:" in line for line in self.lines[seen:]):
                return
            time.sleep(0.05)
        raise RuntimeError("the daemon did not reload")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# -- the CLI ---------------------------------------------------------------------------------


def cli_seconds(
    home: Path, plugins: Path, config: Path, ids: list[str], expected: int, interp: tuple[str, str]
) -> float:
    argv = [interp[0], "-m", "usagestat", "--config", str(config), "--plugin-dir", str(plugins)]
    argv += ["--json", "usage", *ids]
    env = environment(home, interp[1])
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"usagestat usage failed: {done.stderr.strip()[-500:]}")
    _check(json.loads(done.stdout), expected, "CLI usage")
    return elapsed


def run(quick: bool) -> list[Row]:
    short, long = (3, 1) if quick else (7, 3)
    server = start_slow_server()
    port = server.server_address[1]
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="usagestat-bench-") as tmp:
            home = Path(tmp)
            plugins, config = write_setup(home, port, PROVIDERS, PROVIDERS)
            interp = clean_python(home)
            rows += _daemon_rows(home, plugins, config, port, short, long, interp)
            rows += _cli_rows(home, plugins, config, port, short, long, interp)
    finally:
        server.shutdown()
        server.server_close()
    return rows


def _daemon_rows(
    home: Path,
    plugins: Path,
    config: Path,
    port: int,
    short: int,
    long: int,
    interp: tuple[str, str],
) -> list[Row]:
    daemon = DaemonProcess(home, plugins, config, interp)
    try:
        daemon.wait_first_cycle(PROVIDERS)
        daemon.timed("/v1/usage?refresh=true", PROVIDERS)  # every worker warm and used once
        one: list[float] = []
        all40: list[float] = []
        for _ in range(short):
            one.append(daemon.timed("/v1/usage/slow-01?refresh=true", 1))
            all40.append(daemon.timed("/v1/usage?refresh=true", PROVIDERS))
        write_config(config, port, PROVIDERS, DEFAULT_PARALLEL)
        daemon.reload()
        batched = [daemon.timed("/v1/usage?refresh=true", PROVIDERS) for _ in range(long)]
    finally:
        daemon.stop()
    base, _ = median_spread(one)
    value, spread = median_spread(all40)
    batches = math.ceil(PROVIDERS / DEFAULT_PARALLEL)
    value4, spread4 = median_spread(batched)
    return [
        Row(
            f"refresh {PROVIDERS} x 1 s, daemon, warm, maxParallel {PROVIDERS}",
            value * 1000,
            base * 1000,
            f"<= {DAEMON_TARGET_SEC:g} s and <= {RATIO_TARGET}x",
            value <= DAEMON_TARGET_SEC and value <= RATIO_TARGET * base,
            spread=spread,
            note=f"baseline: one instance refreshed by the same daemon; {short} rounds",
        ),
        Row(
            f"refresh {PROVIDERS} x 1 s, daemon, warm, maxParallel {DEFAULT_PARALLEL}",
            value4 * 1000,
            base * batches * 1000,
            f"<= {RATIO_TARGET}x",
            value4 <= RATIO_TARGET * base * batches,
            spread=spread4,
            note=f"baseline: one instance x ceil({PROVIDERS}/{DEFAULT_PARALLEL}) = {batches}; after a SIGHUP reload",
        ),
    ]


def _cli_rows(
    home: Path,
    plugins: Path,
    config: Path,
    port: int,
    short: int,
    long: int,
    interp: tuple[str, str],
) -> list[Row]:
    write_config(config, port, PROVIDERS, PROVIDERS)
    one = [cli_seconds(home, plugins, config, ["slow-01"], 1, interp) for _ in range(short)]
    all40 = [cli_seconds(home, plugins, config, [], PROVIDERS, interp) for _ in range(long)]
    write_config(config, port, PROVIDERS, DEFAULT_PARALLEL)
    batched = [cli_seconds(home, plugins, config, [], PROVIDERS, interp) for _ in range(long)]
    base, _ = median_spread(one)
    value, spread = median_spread(all40)
    value4, spread4 = median_spread(batched)
    batches = math.ceil(PROVIDERS / DEFAULT_PARALLEL)
    return [
        Row(
            f"refresh {PROVIDERS} x 1 s, CLI, cold, maxParallel {PROVIDERS}",
            value * 1000,
            base * 1000,
            "(report)",
            True,
            spread=spread,
            note=f"{PROVIDERS} worker starts at once on {os.cpu_count()} CPUs; baseline: `usagestat usage slow-01`",
        ),
        Row(
            f"refresh {PROVIDERS} x 1 s, CLI, cold, maxParallel {DEFAULT_PARALLEL}",
            value4 * 1000,
            base * batches * 1000,
            f"<= {RATIO_TARGET}x",
            value4 <= RATIO_TARGET * base * batches,
            spread=spread4,
            note=f"baseline: `usagestat usage slow-01` x {batches}",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main(run))
