"""Daemon ``GET /v1/usage`` throughput vs a bare ThreadingHTTPServer serving the same bytes.

SPEC §10: the daemon must reach at least 50 % of the requests per second of a
bare ``http.server.ThreadingHTTPServer`` + ``BaseHTTPRequestHandler`` that
answers with the very body the daemon returned, measured in the same run.

Both servers run as their own processes; one load-generator process (raw
sockets, a few threads) hits each in turn, interleaved over several rounds so
machine noise affects both alike. Two client styles are measured: a new
connection per request (what ``curl`` in a status-bar script does) and
keep-alive (what a long-running widget does).

Run: ``python benchmarks/daemon_throughput.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Row, main, median_spread

CONCURRENCY = 4
TARGET = 0.5


# -- the bare baseline server (runs in its own process) -----------------------------------------


def serve_baseline(body_file: str) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = Path(body_file).read_bytes()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive when the client asks, like the daemon
        # Without this, headers and body leave in two segments and keep-alive
        # stalls on delayed ACKs (~40 ms a request): a baseline that slow would
        # flatter the daemon, which sends each response in one write.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


# -- the load generator (runs in its own process) ------------------------------------------------


def _read_response(sock: socket.socket, buffer: bytearray) -> bytes:
    """Read one response (headers + Content-Length body) from ``sock``; leftovers stay in buffer."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end])
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            total = end + 4 + length
            while len(buffer) < total:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed mid-body")
                buffer += chunk
            response = bytes(buffer[:total])
            del buffer[:total]
            return response
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response")
        buffer += chunk


def load(port: int, seconds: float, concurrency: int, mode: str) -> None:
    keep = mode == "keep-alive"
    request = (
        f"GET /v1/usage HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        + ("" if keep else "Connection: close\r\n")
        + "\r\n"
    ).encode()
    counts = [0] * concurrency
    errors = [0] * concurrency
    stop_at = time.perf_counter() + seconds

    def worker(index: int) -> None:
        sock = None
        buffer = bytearray()
        while time.perf_counter() < stop_at:
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buffer.clear()
                sock.sendall(request)
                response = _read_response(sock, buffer)
                if not response.startswith(b"HTTP/1.1 200"):
                    errors[index] += 1
                else:
                    counts[index] += 1
                if not keep:
                    sock.close()
                    sock = None
            except OSError:
                errors[index] += 1
                if sock is not None:
                    sock.close()
                sock = None
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"rps": sum(counts) / elapsed, "errors": sum(errors)}), flush=True)


def measure(port: int, seconds: float, mode: str) -> float:
    done = subprocess.run(
        [sys.executable, __file__, "--load", str(port), str(seconds), str(CONCURRENCY), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} failed requests against port {port} ({mode})")
    return float(result["rps"])


# -- orchestration -------------------------------------------------------------------------------------


def start_daemon(home: Path) -> tuple[subprocess.Popen[str], int]:
    config = home / "config.toml"
    config.write_text('[[providers]]\nid = "mock"\n\n[[providers]]\nid = "chaos"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("USAGESTAT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "usagestat", "daemon", "--config", str(config), "--port", "0"],
        cwd=str(home),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            # keep draining stderr so the daemon never blocks on a full pipe
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(match.group(1))
    proc.kill()
    raise RuntimeError("the daemon did not start")


def fetch(port: int, path: str) -> bytes:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def run(quick: bool) -> list[Row]:
    rounds, seconds = (3, 1.0) if quick else (5, 2.0)
    with tempfile.TemporaryDirectory(prefix="usagestat-bench-") as tmp:
        home = Path(tmp)
        daemon, daemon_port = start_daemon(home)
        baseline = None
        try:
            deadline = time.monotonic() + 20
            while len(json.loads(fetch(daemon_port, "/v1/usage"))) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("the daemon produced no data")
                time.sleep(0.1)
            body = fetch(daemon_port, "/v1/usage")
            body_file = home / "body.json"
            body_file.write_bytes(body)
            baseline = subprocess.Popen(
                [sys.executable, __file__, "--serve-baseline", str(body_file)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert baseline.stdout is not None
            baseline_port = int(baseline.stdout.readline())
            rows = []
            for mode, label in (
                ("close", "new connection per request"),
                ("keep-alive", "keep-alive"),
            ):
                ours: list[float] = []
                bare: list[float] = []
                for index in range(rounds):
                    order = [(ours, daemon_port), (bare, baseline_port)]
                    if index % 2:
                        order.reverse()
                    for samples, port in order:
                        samples.append(measure(port, seconds, mode))
                usagestat_rps, spread = median_spread(ours)
                baseline_rps, _ = median_spread(bare)
                ratio = usagestat_rps / baseline_rps if baseline_rps else 0.0
                rows.append(
                    Row(
                        metric=f"daemon GET /v1/usage req/s ({label}, {len(body)} B body)",
                        usagestat=usagestat_rps,
                        baseline=baseline_rps,
                        target=f">= {TARGET}x of bare ThreadingHTTPServer",
                        passed=ratio >= TARGET,
                        unit="req/s",
                        spread=spread,
                        note=f"ratio {ratio:.2f}; {CONCURRENCY} client threads, {rounds} interleaved rounds of {seconds:g}s",
                    )
                )
            return rows
        finally:
            for proc in (daemon, baseline):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        proc.kill()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-baseline":
        serve_baseline(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        load(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(main(run))
