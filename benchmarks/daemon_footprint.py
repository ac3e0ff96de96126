"""Daemon footprint: resident memory and CPU while it polls 20 fake providers.

SPEC §10: idle RSS after 1 h of 30 s polling of 20 fake providers < 60 MB, and
no growth over the last 30 min (the daemon process; its worker processes are
reported beside it). The full run does exactly that, sampling memory every
minute. ``--quick`` is the same run scaled down (10 s polling, the shortest the
daemon accepts, for 30 s, memory sampled every 2 s), so its "after" and
"growth" rows cover seconds, not an hour: a smoke test, said so in its notes.

The fake providers answer at once from a local server. The baseline is a bare
``ThreadingHTTPServer`` process (the stdlib server the daemon is built on),
idle for the same time. Both run with the Python of a clean venv. CPU is read from ``/proc`` every second: "idle" counts
only the seconds in which no probe ran (none in flight, none that ended less
than 3 s before, so the debounced cache write counts as polling work);
"average" is the whole run, polling included. Linux only (``/proc``).

    python benchmarks/daemon_footprint.py [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Row, clean_python, main
from parallel_refresh import DaemonProcess, write_setup

PROVIDERS = 20
RSS_TARGET_MB = 60.0
GROWTH_TOLERANCE_MB = 1.0
SETTLE_SEC = 3.0  # a cycle's results reach snapshots.json 2 s after the last one (debounce)
FULL = {"duration": 3600.0, "refresh": 30, "every": 60.0}
QUICK = {"duration": 30.0, "refresh": 10, "every": 2.0}

_BARE = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"[]")
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class _Activity:
    """What the fake provider server has seen: requests in flight and when the last ended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.total = 0
        self.last_end = 0.0


class _FastServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    activity = _Activity()


class _FastHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        activity = self.server.activity  # type: ignore[attr-defined]
        with activity.lock:
            activity.in_flight += 1
            activity.total += 1
        try:
            body = json.dumps({"used": activity.total % 100}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        finally:
            with activity.lock:
                activity.in_flight -= 1
                activity.last_end = time.monotonic()

    def log_message(self, *args: object) -> None:
        pass


# -- /proc readings -------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(name))
    return found


# -- the run --------------------------------------------------------------------------------


def _sample(daemon_pid: int, bare_pid: int, settings: dict, activity: _Activity) -> dict:
    """Sample once a second for the run's duration; memory every ``every`` seconds."""
    memory: list[tuple[float, float, float]] = []  # (t, daemon RSS, bare RSS)
    idle_cpu = idle_time = 0.0
    bare_cpu0 = cpu_seconds(bare_pid)
    start = time.monotonic()
    cpu0 = cpu_seconds(daemon_pid)
    next_memory = start
    prev_t, prev_cpu, prev_busy = start, cpu0, True
    while True:
        now = time.monotonic()
        if now >= next_memory:
            memory.append((now - start, rss_mb(daemon_pid), rss_mb(bare_pid)))
            next_memory += settings["every"]
        if now - start >= settings["duration"]:
            break
        time.sleep(1.0)
        t, cpu = time.monotonic(), cpu_seconds(daemon_pid)
        with activity.lock:
            busy = activity.in_flight > 0 or activity.last_end > prev_t - SETTLE_SEC
        if not busy and not prev_busy:
            idle_cpu += cpu - prev_cpu
            idle_time += t - prev_t
        prev_t, prev_cpu, prev_busy = t, cpu, busy
    elapsed = time.monotonic() - start
    workers = children(daemon_pid)
    return {
        "memory": memory,
        "elapsed": elapsed,
        "cpu": cpu_seconds(daemon_pid) - cpu0,
        "bare_cpu": cpu_seconds(bare_pid) - bare_cpu0,
        "idle_cpu": idle_cpu,
        "idle_time": idle_time,
        "workers": [(rss_mb(p), pss_mb(p)) for p in workers],
        "probes": activity.total,
    }


def run(quick: bool) -> list[Row]:
    if not os.path.isdir("/proc/self"):
        return [Row("daemon footprint", 0.0, None, "needs /proc", True, note="not measured")]
    settings = QUICK if quick else FULL
    server = _FastServer(("127.0.0.1", 0), _FastHandler)
    server.activity = _Activity()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="usagestat-bench-") as tmp:
            home = Path(tmp)
            plugins, config = write_setup(home, server.server_address[1], PROVIDERS, 4)
            interp = clean_python(home)
            bare = subprocess.Popen([interp[0], "-c", _BARE], stdout=subprocess.PIPE, text=True)
            daemon = None
            try:
                assert bare.stdout is not None
                bare.stdout.readline()
                daemon = DaemonProcess(home, plugins, config, interp, str(settings["refresh"]))
                daemon.wait_first_cycle(PROVIDERS)
                data = _sample(daemon.proc.pid, bare.pid, settings, server.activity)
                snapshots = daemon.get("/v1/usage")
                errors = [s for s in snapshots if s.get("state") != "ready"]  # type: ignore[union-attr]
            finally:  # before the temp dir (config, venv) goes away
                if daemon is not None:
                    daemon.stop()
                bare.kill()
                bare.wait()
    finally:
        server.shutdown()
        server.server_close()
    return _rows(data, settings, quick, errors)


def _rows(data: dict, settings: dict, quick: bool, errors: list) -> list[Row]:
    memory = data["memory"]
    tail = memory[-3:]
    rss = statistics.median(m[1] for m in tail)
    bare = statistics.median(m[2] for m in tail)
    half = [m for m in memory if m[0] >= data["elapsed"] / 2]
    growth = statistics.median(m[1] for m in half[-3:]) - statistics.median(m[1] for m in half[:3])
    minutes = data["elapsed"] / 60.0
    span = f"{minutes:.0f} min" if not quick else f"{data['elapsed']:.0f} s (quick: scaled)"
    polling = f"{PROVIDERS} providers every {settings['refresh']} s"
    cycles = data["probes"] / PROVIDERS
    idle = 60000.0 * data["idle_cpu"] / data["idle_time"] if data["idle_time"] else 0.0
    average = 60000.0 * data["cpu"] / data["elapsed"]
    bare_idle = 60000.0 * data["bare_cpu"] / data["elapsed"]
    worker_rss = sum(r for r, _p in data["workers"])
    worker_pss = sum(p for _r, p in data["workers"])
    rss_samples = [m[1] for m in memory]
    step = max(1, -(-len(memory) // 12))
    spread = (max(rss_samples[-3:]) - min(rss_samples[-3:])) / rss if rss else None
    rows = [
        Row(
            f"daemon RSS after {span}",
            rss,
            bare,
            f"< {RSS_TARGET_MB:.0f} MB",
            rss < RSS_TARGET_MB and not errors,
            unit="MB",
            spread=spread,
            note=(
                f"{polling}, {cycles:.0f} cycles; baseline: a bare ThreadingHTTPServer process"
                + (f"; {len(errors)} providers in error" if errors else "")
            ),
        ),
        Row(
            "daemon RSS growth over the last half",
            growth,
            None,
            f"<= {GROWTH_TOLERANCE_MB:g} MB",
            growth <= GROWTH_TOLERANCE_MB,
            unit="MB",
            note=(
                "median of the last 3 RSS samples minus that of the first 3 after half-time; "
                f"RSS every {settings['every'] * step:g} s: "
                + " ".join(f"{m[1]:.1f}" for m in memory[::step])
            ),
        ),
        Row(
            "daemon CPU while idle",
            idle,
            bare_idle,
            "(report)",
            True,
            unit="ms/min",
            note=(
                f"CPU ms per minute ({idle / 600:.3f} % of a core) over {data['idle_time']:.0f} s "
                f"with no probe running; average incl. polling {average:.0f} ms/min "
                f"({average / 600:.2f} %); baseline: the idle bare server"
            ),
        ),
        Row(
            "daemon worker processes",
            worker_rss,
            None,
            "(report)",
            True,
            unit="MB",
            note=(
                f"{len(data['workers'])} warm workers beside the daemon: RSS {worker_rss:.1f} MB "
                f"in total, PSS {worker_pss:.1f} MB (shared pages counted once)"
            ),
        ),
    ]
    return rows


if __name__ == "__main__":
    sys.exit(main(run))
