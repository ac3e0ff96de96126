"""Concurrent CLI and daemon probes never spend one refresh token twice (SPEC §3.7).

Rotating refresh tokens are single-use: a second refresh with the same token
is ``invalid_grant`` and logs the user out of the agent. The token endpoint
here is strict in that way, slow (so refreshes overlap) and counts every use.
Every probe must refresh under ``ctx.util.withLock("refresh", …)`` and re-read
the store after taking the lock.

* A fake OAuth provider written like the bundled ones (``ctx.oauth.session``)
  whose tokens fall due every second: the daemon (refreshed continuously) and
  several CLI processes in loops probe it at once for a few seconds.
* The bundled Claude plugin: rounds of simultaneous CLI probes with an expired
  token, the first round together with a starting daemon.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from fakeweb import FakeRequest, FakeResponse, FakeWeb

from .conftest import scaled

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from daemon.harness import Daemon  # noqa: E402

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file locks and signals")

OAUTHY_JS = r"""
var STORE = "~/.oauthy/credentials.json";
function load(ctx) {
  var file = ctx.oauth.readJsonFile(STORE);
  if (!file || !file.data) return null;
  return {accessToken: file.data.access_token, refreshToken: file.data.refresh_token,
          expiresAtMs: file.data.expires_at, file: file};
}
globalThis.__usagestat_plugin = {
  id: "oauthy",
  probe: function (ctx) {
    var session = ctx.oauth.session({
      name: "Oauthy",
      loginHint: "Run `oauthy login`.",
      load: function () { return load(ctx); },
      canRefresh: function () { return ctx.provider.writeCredentials ? true : "read-only store"; },
      refresh: function (cur) {
        var tokens = ctx.oauth.requestToken({
          url: "https://auth.oauthy.test/token", name: "Oauthy",
          form: {grant_type: "refresh_token", refresh_token: cur.refreshToken},
        });
        var data = cur.file.data;
        data.access_token = tokens.access_token;
        data.refresh_token = tokens.refresh_token;
        data.expires_at = ctx.oauth.expiresAtFrom(tokens);
        ctx.oauth.writeJsonFile(cur.file, data);
        return load(ctx);
      },
    });
    var resp = session.request(function (token) {
      return ctx.host.http.request({url: "https://api.oauthy.test/usage",
                                    headers: {Authorization: "Bearer " + token}});
    });
    ctx.util.checkResponse(resp, {name: "Oauthy"});
    var data = ctx.util.expectJson(resp, "Oauthy");
    return {metrics: [ctx.line.text({label: "Generation", value: String(data.generation)})]};
  },
};
"""


class TokenServer:
    """Strict rotating tokens: each refresh token works once; reuse is recorded."""

    def __init__(self, prefix: str, lifetime_sec: float, delay: float = 0.3) -> None:
        self.prefix = prefix
        self.lifetime = lifetime_sec
        self.delay = delay
        self.lock = threading.Lock()
        self.generation = 0
        self.valid_refresh = f"{prefix}-refresh-0"
        self.valid_access = {f"{prefix}-access-0"}
        self.used: list[str] = []
        self.reused: list[str] = []
        self.bad_access = 0

    def refresh(self, req: FakeRequest) -> FakeResponse:
        if req.headers.get("content-type", "").startswith("application/json"):
            token = req.json().get("refresh_token")
        else:
            token = parse_qs(req.text()).get("refresh_token", [None])[0]
        with self.lock:
            self.used.append(token)
            if token != self.valid_refresh:
                self.reused.append(token)
                body = {"error": "invalid_grant", "error_description": "refresh token reused"}
                return FakeResponse(400, {"Content-Type": "application/json"}, json.dumps(body))
            self.generation += 1
            self.valid_refresh = f"{self.prefix}-refresh-{self.generation}"
            access = f"{self.prefix}-access-{self.generation}"
            self.valid_access.add(access)
            body = {
                "access_token": access,
                "refresh_token": self.valid_refresh,
                "expires_in": 300 + self.lifetime,  # due for refresh (5 min early) after lifetime
                "token_type": "Bearer",
            }
        return FakeResponse(
            200, {"Content-Type": "application/json"}, json.dumps(body), delay=self.delay
        )

    def usage(self, req: FakeRequest) -> FakeResponse:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            ok = token in self.valid_access
            self.bad_access += not ok
            generation = self.generation
        if not ok:
            return FakeResponse(401, {"Content-Type": "application/json"}, '{"error": "expired"}')
        return FakeResponse(
            200, {"Content-Type": "application/json"}, json.dumps({"generation": generation})
        )


def environment(root: Path, web: FakeWeb) -> dict[str, str]:
    home = root / "home"
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TZ": "UTC",
        **web.env(),
    }


def cli(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "usagestat", "--config", str(config), "--json", "usage", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def states_of(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [
        snap["state"] + ": " + ((snap.get("error") or {}).get("message") or "")
        for snap in json.loads(done.stdout)
    ]


def test_fake_oauth_provider_cli_and_daemon_together(tmp_path: Path, fakeweb: FakeWeb) -> None:
    server = TokenServer("oauthy", lifetime_sec=1.0)
    fakeweb.add_handler("POST", "https://auth.oauthy.test/token", server.refresh)
    fakeweb.add_handler("GET", "https://api.oauthy.test/usage", server.usage)
    plugins = tmp_path / "plugins" / "oauthy"
    plugins.mkdir(parents=True)
    (plugins / "plugin.js").write_text(OAUTHY_JS)
    (plugins / "plugin.json").write_text(
        json.dumps(
            {
                "id": "oauthy",
                "name": "Oauthy",
                "entry": "plugin.js",
                "supportedModes": ["oauth"],
                "permissions": {
                    "http": ["auth.oauthy.test", "api.oauthy.test"],
                    "fs": ["~/.oauthy"],
                    "fsWrite": ["~/.oauthy/credentials.json"],
                },
            }
        )
    )
    env = environment(tmp_path, fakeweb)
    store = tmp_path / "home/.oauthy/credentials.json"
    store.parent.mkdir(parents=True)
    store.write_text(
        json.dumps(
            {
                "access_token": "oauthy-access-0",
                "refresh_token": "oauthy-refresh-0",
                "expires_at": 0,
            },
            indent=2,
        )
    )
    store.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        f'caBundle = "{fakeweb.ca_path}"\nrefreshSec = 10\n'
        '[[providers]]\nid = "oauthy"\n[[providers]]\nid = "mock"\nenabled = false\n'
    )
    config.chmod(0o600)
    daemon = Daemon(
        tmp_path / "home",
        config,
        tmp_path / "plugins",
        ["--verbose"],
        {k: v for k, v in env.items() if k not in ("PATH", "PYTHONPATH")},
    )
    daemon.start()
    stop = threading.Event()
    results: list[str] = []

    def daemon_refresher() -> None:
        while not stop.is_set():
            try:
                daemon.request("POST", "/v1/refresh", timeout=10)
            except OSError:
                pass
            stop.wait(0.1)

    def cli_loop() -> None:
        while not stop.is_set():
            results.extend(
                states_of(cli(config, env, "--plugin-dir", str(tmp_path / "plugins"), "oauthy"))
            )

    workers = [threading.Thread(target=daemon_refresher)]
    workers += [threading.Thread(target=cli_loop) for _ in range(4)]
    try:
        for thread in workers:
            thread.start()
        time.sleep(max(6.0, 6.0 * scaled(1)))
    finally:
        stop.set()
        for thread in workers:
            thread.join(120)
        daemon.terminate()
    history = [
        json.loads(line) for line in (daemon.data_dir / "history.jsonl").read_text().splitlines()
    ]
    results += [h["state"] + ": " + ((h.get("error") or {}).get("message") or "") for h in history]
    assert server.reused == [], f"refresh tokens used twice: {server.reused}"
    assert len(server.used) == server.generation >= 3, (server.used, server.generation)
    assert len(results) > 20 and all(r.startswith("ready") for r in results), [
        r for r in results if not r.startswith("ready")
    ][:5]
    final = json.loads(store.read_text())
    assert final["refresh_token"] == server.valid_refresh  # the store holds the live tokens
    assert store.stat().st_mode & 0o777 == 0o600
    print(
        f"\ntoken safety (fake provider): {server.generation} rotations, "
        f"{len(results)} probes, 0 reused"
    )


def test_bundled_claude_plugin_refreshes_once_per_expiry(tmp_path: Path, fakeweb: FakeWeb) -> None:
    server = TokenServer("sk-ant-oat01-live", lifetime_sec=3600.0)
    server.valid_refresh = "sk-ant-ort01-live-refresh-0"
    fakeweb.add_handler("POST", "https://platform.claude.com/v1/oauth/token", server.refresh)
    fakeweb.add_handler(
        "GET",
        "https://api.anthropic.com/api/oauth/usage",
        lambda req: (
            FakeResponse(
                200,
                {"Content-Type": "application/json"},
                (REPO / "plugins/claude/fixtures/usage.json").read_text(),
            )
            if server.usage(req).status == 200
            else FakeResponse(401, {"Content-Type": "application/json"}, "{}")
        ),
    )
    env = environment(tmp_path, fakeweb)
    store = tmp_path / "home/.claude/.credentials.json"
    store.parent.mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(
        f'caBundle = "{fakeweb.ca_path}"\n'
        '[[providers]]\nid = "claude"\n[[providers]]\nid = "mock"\nenabled = false\n'
    )
    config.chmod(0o600)
    rounds = scaled(3)
    for round_no in range(rounds):
        # The token has expired (as if hours went by): write it back with an old expiry.
        with server.lock:
            refresh = server.valid_refresh
            access = sorted(server.valid_access)[-1]
        store.write_text(
            json.dumps(
                {
                    "claudeAiOauth": {
                        "accessToken": access,
                        "refreshToken": refresh,
                        "expiresAt": 1_000_000_000_000,
                        "scopes": ["user:inference", "user:profile"],
                        "subscriptionType": "max",
                    }
                }
            )
        )
        store.chmod(0o600)
        for stale in (tmp_path / "home/.local/share/usagestat").glob("snapshots.json*"):
            stale.unlink()  # claude's minIntervalSec would answer from the cache instead
        daemon = None
        if round_no == 0:
            daemon = Daemon(
                tmp_path / "home",
                config,
                tmp_path / "no-plugins",
                [],
                {k: v for k, v in env.items() if k not in ("PATH", "PYTHONPATH")},
            )
        outcomes: list[list[str]] = []

        def probe_once(out: list[list[str]] = outcomes) -> None:
            out.append(states_of(cli(config, env, "claude")))

        threads = [threading.Thread(target=probe_once) for _ in range(5)]
        if daemon is not None:
            (tmp_path / "no-plugins").mkdir(exist_ok=True)
            threads.append(threading.Thread(target=daemon.start))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if daemon is not None:
            try:
                daemon.wait_for(
                    lambda d=daemon: d.get("/v1/usage/claude").status == 200, timeout=30
                )
                outcomes.append([daemon.get("/v1/usage/claude").json()["state"] + ":"])
                daemon.terminate()
            finally:
                daemon.kill()
        assert all(state.startswith("ready") for result in outcomes for state in result), outcomes
        assert server.generation == round_no + 1, f"round {round_no}: {server.used}"
    assert server.reused == [] and len(server.used) == rounds
    saved = json.loads(store.read_text())["claudeAiOauth"]
    assert saved["refreshToken"] == server.valid_refresh and saved["expiresAt"] > time.time() * 1000
