"""Hung and failing providers, restarts, signals and hostile clients against the live daemon."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from .conftest import MakeDaemon
from .harness import FAST_JS, HANG_JS, WEB_JS, moment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

DISABLE_MOCK = '\n[[providers]]\nid = "mock"\nenabled = false\n'


def web_config(httpserver: HTTPServer, extra: str = "") -> str:
    base = httpserver.url_for("/").rstrip("/")
    return f'[[providers]]\nid = "web"\nbaseUrl = "{base}"\n{extra}' + DISABLE_MOCK


def worker_pids(home: Path) -> list[int]:
    """Probe workers started for this test's HOME (Linux /proc only)."""
    found = []
    marker = f"HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and b"usagestat.plugins.worker" in cmdline:
            found.append(int(entry.name))
    return found


def test_hung_provider_does_not_delay_the_others(make_daemon: MakeDaemon) -> None:
    config = (
        DISABLE_MOCK
        + '\n[[providers]]\nid = "slow"\n\n[[providers]]\nid = "fast-a"\n\n[[providers]]\nid = "fast-b"\n'
    )
    started = time.monotonic()
    daemon = make_daemon(
        config,
        plugins=[
            ("slow", HANG_JS, {"probeTimeoutSec": 30}),
            ("fast-a", FAST_JS, {}),
            ("fast-b", FAST_JS, {}),
        ],
    )
    usage = daemon.wait_for(
        lambda: (u := daemon.usage()) and {"fast-a", "fast-b"} <= set(u) and u, timeout=10
    )
    assert time.monotonic() - started < 10  # far inside the hung probe's 30 s deadline
    assert "slow" not in usage  # no result yet: left out of the list
    pending = daemon.get("/v1/usage/slow")
    assert pending.status == 503
    assert pending.headers["retry-after"].isdigit()
    assert pending.json()["error"]["code"] == "pending"
    # a fresh probe of a healthy instance is not held up by the hung one either
    t0 = time.monotonic()
    fresh = daemon.get("/v1/usage/fast-a?refresh=true")
    assert fresh.status == 200
    assert time.monotonic() - t0 < 5
    t0 = time.monotonic()
    assert daemon.request("POST", "/v1/refresh").json()["queued"] == ["slow", "fast-a", "fast-b"]
    daemon.wait_for(
        lambda: moment(daemon.usage()["fast-b"]["fetchedAt"]) > moment(fresh.json()["fetchedAt"]),
        timeout=5,
    )
    assert time.monotonic() - t0 < 5

    # SIGTERM while a probe hangs: exit cleanly within 2 s and take the worker down
    assert worker_pids(daemon.home) or sys.platform != "linux"
    code, seconds = daemon.terminate()
    assert code == 0
    assert seconds < 2.0, daemon.log
    if sys.platform == "linux":
        time.sleep(0.2)
        assert worker_pids(daemon.home) == []
    assert "Traceback" not in daemon.log


def test_failed_probe_keeps_previous_data_marked_stale(
    make_daemon: MakeDaemon, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/usage").respond_with_json({"used": 5, "limit": 10})
    daemon = make_daemon(web_config(httpserver), plugins=[("web", WEB_JS, {})])
    good = daemon.wait_for(lambda: daemon.usage().get("web"))
    assert good["stale"] is False and good["metrics"][0]["used"] == 5.0

    httpserver.clear_all_handlers()
    httpserver.expect_request("/usage").respond_with_data("boom", status=500)
    assert daemon.request("POST", "/v1/refresh?provider=web").json() == {"queued": ["web"]}
    stale = daemon.wait_for(lambda: (s := daemon.get("/v1/usage/web").json())["lastError"] and s)
    assert stale["stale"] is True
    assert stale["state"] == "ready"
    assert stale["error"] is None
    assert stale["metrics"] == good["metrics"]
    assert stale["fetchedAt"] == good["fetchedAt"]
    assert stale["lastError"]["code"] == "failed"
    assert "HTTP 500" in stale["lastError"]["message"]
    assert moment(stale["lastError"]["at"]) > moment(good["fetchedAt"])
    assert daemon.usage()["web"]["stale"] is True
    metrics = daemon.get("/metrics").body.decode()
    assert (
        'usagestat_probe_errors_total{instance="web",provider="web",state="failed"} 1.0' in metrics
    )
    # stale data is still served, but the latest probe failed: an alert on `up == 0` fires
    assert 'usagestat_up{instance="web",provider="web"} 0' in metrics
    # inside the backoff window a manual refresh does not probe again
    assert daemon.request("POST", "/v1/refresh?provider=web").json() == {"queued": []}

    code, seconds = daemon.terminate()
    assert code == 0 and seconds < 2.0
    cached = json.loads((daemon.data_dir / "snapshots.json").read_text())["snapshots"]["web"]
    assert cached["metrics"][0]["used"] == 5.0  # the error never replaced the good data
    assert cached["lastError"]["code"] == "failed"
    history = [json.loads(x) for x in (daemon.data_dir / "history.jsonl").read_text().splitlines()]
    assert [h["state"] for h in history if h["instanceId"] == "web"] == ["ready", "failed"]


def test_retry_after_blocks_manual_refresh(make_daemon: MakeDaemon, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/usage").respond_with_data(
        "", status=429, headers={"Retry-After": "120"}
    )
    daemon = make_daemon(web_config(httpserver), plugins=[("web", WEB_JS, {})])
    snap = daemon.wait_for(lambda: daemon.usage().get("web"))
    assert snap["state"] == "rate-limited"  # nothing good yet: the error snapshot is served
    assert snap["error"]["code"] == "rate-limited"
    assert snap["source"] == "error"
    assert daemon.request("POST", "/v1/refresh").json() == {"queued": []}
    assert len(httpserver.log) == 1


def test_restart_serves_cache_before_first_probe(
    make_daemon: MakeDaemon, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/usage").respond_with_json({"used": 7, "limit": 10})
    daemon = make_daemon(web_config(httpserver), plugins=[("web", WEB_JS, {})])
    first = daemon.wait_for(lambda: daemon.usage().get("web"))
    code, seconds = daemon.terminate()
    assert code == 0 and seconds < 2.0

    def slow(_request: Request) -> Response:
        time.sleep(3)
        return Response(json.dumps({"used": 9, "limit": 10}), content_type="application/json")

    httpserver.clear_all_handlers()
    httpserver.expect_request("/usage").respond_with_handler(slow)
    daemon.start()
    t0 = time.monotonic()
    cached = daemon.get("/v1/usage/web")
    assert cached.status == 200
    assert time.monotonic() - t0 < 2.5  # not held for the 3 s probe
    body = cached.json()
    assert body["fetchedAt"] == first["fetchedAt"]
    assert body["metrics"][0]["used"] == 7.0
    assert daemon.usage()["web"]["fetchedAt"] == first["fetchedAt"]
    # then the slow probe lands and replaces it
    newer = daemon.wait_for(
        lambda: (s := daemon.usage()["web"])["metrics"][0]["used"] == 9.0 and s, timeout=10
    )
    assert moment(newer["fetchedAt"]) > moment(first["fetchedAt"])


def test_corrupt_cache_is_set_aside(make_daemon: MakeDaemon) -> None:
    daemon = make_daemon(
        DISABLE_MOCK + '[[providers]]\nid = "fast"\n', plugins=[("fast", FAST_JS, {})], start=False
    )
    daemon.data_dir.mkdir(parents=True)
    (daemon.data_dir / "snapshots.json").write_text("{not json")
    daemon.start()
    daemon.wait_for(lambda: daemon.usage().get("fast"))
    assert list(daemon.data_dir.glob("snapshots.json.corrupt-*"))
    assert "corrupt" in daemon.log


def test_second_daemon_on_same_port_fails_with_one_line(make_daemon: MakeDaemon) -> None:
    first = make_daemon(DISABLE_MOCK)
    second = make_daemon(DISABLE_MOCK, args=["--port", str(first.port)], start=False)
    second.start(wait=False)
    assert second.wait_exit(10) == 1
    time.sleep(0.1)
    lines = [line for line in second.lines if line.strip()]
    assert lines == [
        f"usagestat daemon: 127.0.0.1:{first.port} is already in use (is another usagestat daemon running?)"
    ]


def test_non_loopback_bind_needs_a_private_token_file(
    make_daemon: MakeDaemon, tmp_path: Path
) -> None:
    refused = make_daemon(DISABLE_MOCK, args=["--bind", "0.0.0.0"], start=False)
    refused.start(wait=False)
    assert refused.wait_exit(10) == 1
    time.sleep(0.1)
    assert len(refused.lines) == 1 and "refusing to listen on 0.0.0.0" in refused.lines[0]

    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-token-0123456789\n")
    os.chmod(token_file, 0o644)
    config = f'[daemon]\napiTokenFile = "{token_file}"\n' + DISABLE_MOCK
    loose = make_daemon(config, args=["--bind", "0.0.0.0"], start=False)
    loose.start(wait=False)
    assert loose.wait_exit(10) == 1
    time.sleep(0.1)
    assert "readable by other users" in loose.log and "Traceback" not in loose.log


def test_bearer_token(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    token = "s3cr3t-token-0123456789"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    config = f'[daemon]\napiTokenFile = "{token_file}"\n' + DISABLE_MOCK
    daemon = make_daemon(config, args=["--bind", "0.0.0.0"])
    assert daemon.host == "127.0.0.1"
    denied = daemon.get("/health")
    assert denied.status == 401
    assert denied.json()["error"]["code"] == "unauthorized"
    assert denied.headers["www-authenticate"].startswith("Bearer")
    assert (
        daemon.get("/health", headers={"Authorization": "Bearer wrong-token-0123456789"}).status
        == 401
    )
    ok = daemon.get("/health", headers={"Authorization": f"Bearer {token}"})
    assert ok.status == 200
    # wildcard bind: any IP literal is a fine Host (rebinding needs a name), a foreign name is not
    assert (
        daemon.get(
            "/health",
            headers={"Authorization": f"Bearer {token}", "Host": f"192.0.2.7:{daemon.port}"},
        ).status
        == 200
    )
    assert (
        daemon.get(
            "/health",
            headers={"Authorization": f"Bearer {token}", "Host": f"evil.example:{daemon.port}"},
        ).status
        == 403
    )
    doc = daemon.get("/openapi.json", headers={"Authorization": f"Bearer {token}"}).json()
    assert doc["security"] == [{"bearerAuth": []}]
    assert token not in daemon.log


def test_slowloris_client_is_cut_off(make_daemon: MakeDaemon) -> None:
    daemon = make_daemon(DISABLE_MOCK, env={"USAGESTAT_HTTP_TIMEOUT_SEC": "1.5"})
    with socket.create_connection((daemon.host, daemon.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 6:
            try:
                sock.sendall(b"X-Drip: 1\r\n")  # one header line every 0.3 s, never finishing
                sock.settimeout(0.3)
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        assert closed
        assert time.monotonic() - t0 < 3.5
    assert daemon.get("/health").status == 200


def test_connection_cap_answers_busy(make_daemon: MakeDaemon) -> None:
    daemon = make_daemon(
        DISABLE_MOCK, env={"USAGESTAT_HTTP_MAX_CONNECTIONS": "3", "USAGESTAT_HTTP_TIMEOUT_SEC": "5"}
    )
    idle = [socket.create_connection((daemon.host, daemon.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.3)
        reply = daemon.raw(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 503 "), reply[:80]
        assert b"Retry-After: 1" in reply
        assert b'"code":"busy"' in reply
    finally:
        for sock in idle:
            sock.close()
    daemon.wait_for(lambda: daemon.get("/health").status == 200, timeout=5)


def test_sighup_reloads_and_keeps_old_config_on_error(make_daemon: MakeDaemon) -> None:
    config = DISABLE_MOCK + '[[providers]]\nid = "one"\n[[providers]]\nid = "two"\n'
    daemon = make_daemon(config, plugins=[("one", FAST_JS, {}), ("two", FAST_JS, {})])
    daemon.wait_for(lambda: set(daemon.usage()) == {"one", "two"})
    assert daemon.get("/health").json()["providers"] == 2

    daemon.config.write_text(
        DISABLE_MOCK + '[[providers]]\nid = "one"\n[[providers]]\nid = "two"\nenabled = false\n'
    )
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: daemon.get("/health").json()["providers"] == 1)
    assert set(daemon.usage()) == {"one"}

    daemon.config.write_text("refreshSec = [broken\n")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda: "reload rejected" in daemon.log)
    assert daemon.get("/health").json()["providers"] == 1
    assert daemon.get("/v1/usage/one").status == 200


def test_secrets_are_redacted_from_the_log(make_daemon: MakeDaemon, httpserver: HTTPServer) -> None:
    secret = "sk-live-abcdefghijklmnopqrstuvwx"
    httpserver.expect_request("/usage").respond_with_json(
        {"used": 1, "limit": 2, "log": f"token is {secret}"}
    )
    config = web_config(httpserver, extra='apiKey = "plain-secret-value-1234"\n')
    daemon = make_daemon(config, plugins=[("web", WEB_JS, {})], args=["--verbose"])
    daemon.wait_for(lambda: daemon.usage().get("web"))
    daemon.wait_for(lambda: "token is" in daemon.log)
    assert secret not in daemon.log
    assert "plain-secret-value-1234" not in daemon.log
    line = next(x for x in daemon.lines if "token is" in x)
    assert line.split(" ")[0].endswith("Z") and " info [web] " in line
