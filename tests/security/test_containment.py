"""Hostile plugins together, through warm workers: each contained, nothing else affected.

tests/host/test_containment.py and tests/host/test_permissions.py check each
attack on its own; here they run at once, with healthy plugins beside them and
workers shared the way the daemon shares them (SPEC §3.4, §3.5).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from tmpplugins import NO_PERMISSIONS, OK_PROBE, make_plugin

from usagestat.core.config import Config, ProviderEntry
from usagestat.core.serialize import to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.isolation import WorkerPool, kill_all_workers
from usagestat.plugins.probe import ProbeOptions, probe_many

from .oracle import check_snapshot, clear_message


def report(expr: str) -> str:
    """A probe that returns ``expr`` (or the error it throws) as a text line."""
    return (
        "var v; try { v = JSON.stringify(" + expr + "); } catch (e) { v = 'ERR ' + e.message; }"
        " return {metrics: [ctx.line.text({label: 'r', value: String(v).slice(0, 1000)})]};"
    )


def run(plugin_dir: Path, ids: list[str], timeout: float = 3.0, **options) -> dict[str, dict]:
    config = Config(
        path=plugin_dir / "none.toml",
        probe_timeout_sec=timeout,
        max_parallel=options.pop("max_parallel", 4),
        providers=[ProviderEntry(id=i, instance_id=i, index=n) for n, i in enumerate(ids)],
    )
    registry = discover([str(plugin_dir)], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ids)
    outcomes = probe_many(instances, config, ProbeOptions(**options))
    assert [o.snapshot.instance_id for o in outcomes] == ids
    return {o.snapshot.instance_id: to_json(o.snapshot) for o in outcomes}


HOSTILE = {
    "spin": ("while (true) {}", {}),
    "oom": ("var a = []; while (true) { a.push(new Array(100000).fill(1)); }", {}),
    "recursion": ("function f(n) { return f(n + 1) + 1; } return f(0);", {}),
    "big-string": (
        "var s = 'x'; while (s.length < 100 * 1024 * 1024) s += s;"
        " return {metrics: [ctx.line.text({label: 'a', value: s})]};",
        {},
    ),
    "host-flood": (
        "for (var i = 0; i < 30000; i++) ctx.host.crypto.sha256Hex('x'); " + OK_PROBE,
        {},
    ),
    "never-settles": ("return new Promise(function () {});", {}),
    "job-flood": (
        "return new Promise(function (ok) { function again() { Promise.resolve().then(again); }"
        " again(); });",
        {},
    ),
    "shadow": (report("ctx.host.fs.readText('/etc/shadow')"), {"fs": ["~"]}),
    "ssh": (report("ctx.host.fs.readText('~/.ssh/id_ed25519')"), {"fs": ["~"]}),
    "proc-environ": (report("ctx.host.fs.readText('/proc/self/environ')"), {"fs": ["~"]}),
    "other-data": (
        report("ctx.host.fs.readText(ctx.app.appDataDir + '/plugin-data/good-1/secret.json')"),
        {"fs": ["~"]},
    ),
    "snapshots": (report("ctx.host.fs.readText(ctx.app.appDataDir + '/snapshots.json')"), {}),
    "env": (report("ctx.host.env.get('AWS_SECRET_ACCESS_KEY')"), {"env": ["HOME"]}),
    "http": (report("ctx.host.http.request({url: 'https://evil.example.net/x'})"), {}),
    "command": (report("ctx.host.command.run({program: 'sh', args: ['-c', 'id']})"), {}),
    "lock-hog": (
        "ctx.host.lock.acquire('refresh', 1000); while (true) {}",
        {},
    ),
    "surrogates": (
        "return {plan: '\\ud800', metrics: [ctx.line.text({label: 'a\\udfff', value: 'b'})]};",
        {},
    ),
    "pollute": (
        "Object.prototype.injected = 1; Array.prototype.push = null; JSON.parse = null;"
        " globalThis.leaked = 1; ctx.line.text = null; " + OK_PROBE,
        {},
    ),
}
DENIED = ("shadow", "ssh", "proc-environ", "other-data", "snapshots", "env", "http", "command")
GOOD = [f"good-{n}" for n in range(6)]
#: Healthy plugins that would notice leaked state from an earlier probe in the same worker.
GOOD_PROBE = (
    "if (({}).injected !== undefined || globalThis.leaked !== undefined) throw 'state leaked';"
    " if (typeof ctx.line.text !== 'function' || typeof JSON.parse !== 'function') throw 'prelude leaked';"
    " var a = []; a.push(1);"
    " return {metrics: [ctx.line.text({label: 'ok', value: ctx.provider.instanceId})]};"
)


@pytest.fixture
def plugins(tmp_path: Path, home: Path) -> Path:
    root = tmp_path / "plugins"
    for plugin_id, (body, permissions) in HOSTILE.items():
        make_plugin(root, plugin_id, body, permissions={**NO_PERMISSIONS, **permissions})
    for plugin_id in GOOD:
        make_plugin(root, plugin_id, GOOD_PROBE)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY MATERIAL")
    data = home / ".local/share/usagestat"
    (data / "plugin-data" / "good-1").mkdir(parents=True)
    (data / "plugin-data" / "good-1" / "secret.json").write_text('{"token": "OTHER PLUGIN SECRET"}')
    (data / "snapshots.json").write_text('{"version": 1, "snapshots": {}}')
    return root


def test_every_attack_at_once_beside_healthy_plugins(plugins: Path) -> None:
    """All hostile plugins and six healthy ones, interleaved, through a shared warm pool."""
    ids = [x for pair in zip(HOSTILE, GOOD * 3, strict=False) for x in pair] + list(HOSTILE)[6:]
    ids = list(dict.fromkeys(ids + GOOD))
    pool = WorkerPool(size=4)
    try:
        started = time.monotonic()
        results = run(plugins, ids, timeout=3.0, pool=pool)
        elapsed = time.monotonic() - started
    finally:
        pool.close()
    for snap in results.values():
        check_snapshot(snap)
        if snap["error"]:
            clear_message(snap["error"]["message"])
    for instance_id in GOOD:
        assert results[instance_id]["state"] == "ready", results[instance_id]
    for name in ("spin", "lock-hog", "never-settles"):
        assert results[name]["state"] in ("timed-out", "failed"), results[name]
    assert "out of memory" in results["oom"]["error"]["message"]
    assert "call stack" in results["recursion"]["error"]["message"]
    assert "nested too deeply" in results["recursion"]["error"]["message"]  # plain words
    assert "too many host calls" in results["host-flood"]["error"]["message"]
    assert results["big-string"]["state"] == "failed"
    for name in DENIED:
        value = results[name]["metrics"][0]["value"]
        assert value.startswith("ERR permission denied"), (name, value)
    everything = json.dumps(results)
    for secret in ("PRIVATE KEY MATERIAL", "OTHER PLUGIN SECRET", "root:"):
        assert secret not in everything
    assert results["surrogates"]["state"] == "ready"
    assert results["pollute"]["state"] == "ready"
    # 4 slots, 3 s deadlines: the hung ones cost at most a few rounds, never the healthy ones.
    assert elapsed < 25, elapsed


def test_pollution_never_reaches_the_next_probe_in_a_warm_worker(plugins: Path) -> None:
    """One warm worker, alternating polluter and checker: every checker sees pristine built-ins."""
    pool = WorkerPool(size=1)
    try:
        for _ in range(3):
            results = run(plugins, ["pollute", *GOOD[:3]], pool=pool, max_parallel=1)
            assert all(results[g]["state"] == "ready" for g in GOOD[:3]), results
    finally:
        pool.close()


def test_a_lock_held_by_a_killed_probe_is_free_again(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "plugins"
    make_plugin(
        root,
        "locker",
        "if (ctx.provider.settings.hang) { ctx.host.lock.acquire('refresh', 1000); while (true) {} }"
        " var got = ctx.host.lock.acquire('refresh', 3000);"
        " return {metrics: [ctx.line.text({label: 'got', value: String(got)})]};",
    )
    config = Config(
        path=tmp_path / "none.toml",
        probe_timeout_sec=1.0,
        providers=[
            ProviderEntry("locker", "hang", 0, settings={"hang": True}),
            ProviderEntry("locker", "check", 1, probe_timeout_sec=6.0),
        ],
    )
    registry = discover([str(root)], [], include_cwd=False)
    resolution = resolve_instances(config, registry)
    hang, check = (select(resolution, registry, [i])[0] for i in ("hang", "check"))
    assert probe_many([hang], config)[0].snapshot.state == "timed-out"
    result = to_json(probe_many([check], config)[0].snapshot)
    assert result["metrics"][0]["value"] == "true", result


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_a_killed_worker_takes_its_commands_with_it(
    tmp_path: Path, home: Path, monkeypatch
) -> None:
    """Daemon stop, Ctrl-C or a deadline kill the worker: commands it started must die too."""
    marker = f"{os.getpid()}.{time.monotonic_ns() % 100000}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "slowtool"
    tool.write_text(f"#!/bin/sh\nsleep 300 {marker} &\nexec sleep 300 {marker}\n")
    tool.chmod(0o755)
    (bin_dir / "sleep").symlink_to("/bin/sleep")  # keeps the marker in the sleeps' cmdline
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "plugins"
    make_plugin(
        root,
        "runner",
        "ctx.host.command.run({program: 'slowtool', args: [], timeoutMs: 60000}); " + OK_PROBE,
        permissions={**NO_PERMISSIONS, "commands": ["slowtool"]},
    )
    outcome: list[dict] = []
    thread = threading.Thread(
        target=lambda: outcome.append(run(root, ["runner"], timeout=30.0)), daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(_pids_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_pids_with(marker)) == 2
        kill_all_workers()  # what the daemon's stop and the CLI's Ctrl-C do
        thread.join(10)
        deadline = time.monotonic() + 5
        while _pids_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pids_with(marker) == [], "a command outlived its probe worker"
        assert outcome and outcome[0]["runner"]["state"] == "failed"
    finally:
        for pid in _pids_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_redirects_to_undeclared_hosts_are_never_fetched(plugin_env, tmp_path: Path) -> None:
    """A 30x is returned to the plugin; following its Location is a new, checked request."""
    for path, location in (
        ("/a", "https://evil.example.net/steal"),
        ("/b", "http://127.0.0.1:1/admin"),
        ("/c", "https://api.example.com.evil.example.net/x"),
        ("/d", "https://user:pass@evil.example.net/"),
    ):
        plugin_env.web.add(
            "GET", "https://api.example.com" + path, status=302, headers={"Location": location}
        )
    body = (
        "var out = [];"
        " ['/a', '/b', '/c', '/d'].forEach(function (p) {"
        "   var r = ctx.util.request({url: 'https://api.example.com' + p});"
        "   try { ctx.host.http.request({url: r.headers.location}); out.push('FETCHED'); }"
        "   catch (e) { out.push(r.status + ' ' + e.message); }"
        " });"
        " return {metrics: [ctx.line.text({label: 'r', value: out.join(' | ')})]};"
    )
    make_plugin(
        tmp_path / "p", "redir", body, permissions={**NO_PERMISSIONS, "http": ["api.example.com"]}
    )
    run_ = plugin_env.probe("redir", plugin_dirs=[str(tmp_path / "p")])
    value = run_.metric("r")["value"]
    assert "FETCHED" not in value
    assert value.count("302 permission denied: http") == 4, value
    assert {r.host for r in plugin_env.web.requests} == {"api.example.com"}


def test_hostile_plugins_in_the_daemon_leave_the_others_served(tmp_path: Path) -> None:
    """In the daemon: every answer stays 200 and complete, the cache and history keep being
    written, and each hostile instance shows its own error."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from daemon.harness import Daemon

    root = tmp_path / "plugins"
    chosen = ["spin", "oom", "big-string", "surrogates", "pollute", "host-flood", "never-settles"]
    for plugin_id in chosen:
        body, permissions = HOSTILE[plugin_id]
        make_plugin(root, plugin_id, body, permissions={**NO_PERMISSIONS, **permissions})
    for plugin_id in GOOD[:2]:
        make_plugin(root, plugin_id, GOOD_PROBE)
    config = tmp_path / "config.toml"
    ids = chosen + GOOD[:2]
    config.write_text(
        'probeTimeoutSec = 3\nmaxParallel = 3\n[[providers]]\nid = "mock"\nenabled = false\n'
        + "".join(f'[[providers]]\nid = "{i}"\n' for i in ids)
    )
    (tmp_path / "home").mkdir()
    daemon = Daemon(tmp_path / "home", config, root, ["--verbose"]).start()
    try:
        usage = daemon.wait_for(
            lambda: (
                (u := {s["instanceId"]: s for s in daemon.get("/v1/usage").json()})
                and set(u) == set(ids)
                and u
            ),
            timeout=60,
        )
        for endpoint in ("/v1/usage", "/metrics", "/v1/providers", "/health"):
            assert daemon.get(endpoint).status == 200, endpoint
        for snap in usage.values():
            check_snapshot(snap)
        assert all(usage[g]["state"] == "ready" for g in GOOD[:2])
        assert usage["spin"]["state"] == "timed-out"
        assert usage["surrogates"]["state"] == "ready"
        code, _ = daemon.terminate()
        assert code == 0
    finally:
        daemon.kill()
    cache = json.loads((daemon.data_dir / "snapshots.json").read_text())["snapshots"]
    assert set(GOOD[:2]) | {"surrogates", "pollute"} <= set(cache)
    assert "could not" not in daemon.log and "internal error" not in daemon.log
    assert "Traceback" not in daemon.log
