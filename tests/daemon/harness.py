"""Run the real daemon as a subprocess with a private HOME, config and plugin dir."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on http://(\S+):(\d+)")

#: a plugin that answers at once with a value from its settings
FAST_JS = """
globalThis.__usagestat_plugin = {
  id: "%(id)s",
  probe: function (ctx) {
    var s = ctx.provider.settings || {};
    return {plan: "Test", metrics: [
      ctx.line.progress({label: "Quota", used: s.used === undefined ? 25 : s.used, limit: 100,
                         format: {kind: "percent"}}),
      ctx.line.text({label: "Note", value: "fast"})
    ]};
  }
};
"""

HANG_JS = """
globalThis.__usagestat_plugin = {
  id: "%(id)s",
  probe: function (ctx) { while (true) {} }
};
"""

#: talks to pytest-httpserver at the instance's baseUrl
WEB_JS = """
globalThis.__usagestat_plugin = {
  id: "%(id)s",
  probe: function (ctx) {
    var resp = ctx.host.http.request({url: ctx.provider.baseUrl + "/usage", method: "GET", timeoutMs: 10000});
    if (resp.status === 429) {
      throw {code: "rate-limited", message: "slow down", retryAfterSec: Number(resp.headers["retry-after"] || 60)};
    }
    if (resp.status !== 200) throw {code: "failed", message: "HTTP " + resp.status};
    var data = JSON.parse(resp.bodyText);
    if (data.log) ctx.host.log.info(data.log);
    return {metrics: [ctx.line.progress({label: "Credits", used: data.used, limit: data.limit,
                                         format: {kind: "count", suffix: "credits"}})]};
  }
};
"""


def moment(timestamp: str) -> Any:
    """A snapshot timestamp as a datetime: compare moments, never text.

    ``format_timestamp`` drops zero milliseconds, so "...:41Z" sorts after
    "...:41.500Z" as text although it is earlier.
    """
    from usagestat.core.timeutil import parse_timestamp

    parsed = parse_timestamp(timestamp)
    assert parsed is not None, timestamp
    return parsed


def write_plugin(root: Path, plugin_id: str, js: str, **manifest: Any) -> Path:
    folder = root / plugin_id
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "id": plugin_id,
        "name": plugin_id.title(),
        "entry": "plugin.js",
        "supportedModes": ["api"],
        "permissions": {"http": ["127.0.0.1", "localhost"]},
        **manifest,
    }
    (folder / "plugin.json").write_text(json.dumps(data))
    (folder / "plugin.js").write_text(js % {"id": plugin_id})
    return folder


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.body[:200]!r}>"


class Daemon:
    def __init__(
        self,
        home: Path,
        config: Path,
        plugin_dir: Path,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.config = config
        self.plugin_dir = plugin_dir
        self.args = list(args or [])
        self.env = clean_env(home, **(env or {}))
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._ready = threading.Event()

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "usagestat"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "usagestat",
            "daemon",
            "--config",
            str(self.config),
            "--plugin-dir",
            str(self.plugin_dir),
            "--port",
            "0",
            *self.args,
        ]

    def start(self, *, wait: bool = True, timeout: float = 15.0) -> Daemon:
        self.lines = []
        self._ready.clear()
        self.proc = subprocess.Popen(
            self.command(),
            cwd=str(self.home),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if wait and not self._ready.wait(timeout):
            self.kill()
            raise AssertionError("daemon did not start:\n" + self.log)
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            match = LISTENING.search(line)
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                self._ready.set()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_exit(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns (exit status, seconds to exit)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("daemon ignored SIGTERM:\n" + self.log)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    # -- HTTP ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 30.0,
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def raw(self, data: bytes, timeout: float = 5.0) -> bytes:
        """Send raw bytes, return everything the server sends back before closing."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except (ConnectionResetError, TimeoutError):
                pass
            return b"".join(chunks)

    def wait_for(self, predicate, timeout: float = 10.0, interval: float = 0.05):
        """Poll ``predicate`` until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"condition not met in {timeout}s (last: {last!r})\n{self.log}")

    def usage(self) -> dict[str, dict]:
        return {snap["instanceId"]: snap for snap in self.get("/v1/usage").json()}
