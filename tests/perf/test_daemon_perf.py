"""The daemon's hot paths stay cheap (SPEC §10; not timing-based).

``GET /v1/usage`` is answered from a cached body while nothing changed, and
probes run in warm pooled workers, each probe still in a fresh JS context.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
from daemon.harness import Daemon, write_plugin

from usagestat.core.cache import SnapshotCache
from usagestat.core.history import History
from usagestat.core.models import MetricFormat, ProgressLine, UsageSnapshot
from usagestat.core.timeutil import format_timestamp, now_utc
from usagestat.daemon import store as store_module
from usagestat.daemon.app import App, Request
from usagestat.daemon.log import Log
from usagestat.daemon.security import Policy
from usagestat.daemon.store import Store
from usagestat.plugins.instances import Instance
from usagestat.plugins.probe import ProbeOutcome


def _snapshot(inst: Instance, used: float) -> UsageSnapshot:
    line = ProgressLine(label="Quota", used=used, limit=10.0, format=MetricFormat("percent"))
    return UsageSnapshot(
        provider_id=inst.provider_id,
        instance_id=inst.instance_id,
        display_name=inst.instance_id,
        source="api",
        metrics=[line],
        fetched_at=format_timestamp(now_utc()),
    )


def test_usage_is_served_from_one_cached_body_until_something_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000]
    monkeypatch.setattr(Store, "_clock_key", lambda self: (self.version, clock[0]))
    encoded = []
    real_encode = store_module.encode
    monkeypatch.setattr(store_module, "encode", lambda data: encoded.append(1) or real_encode(data))
    log = Log(io.StringIO())
    store = Store(
        log,
        cache=SnapshotCache(tmp_path / "snapshots.json"),
        history=History(tmp_path / "history.jsonl"),
    )
    inst = Instance("a", "a", None, None, enabled=True)  # type: ignore[arg-type]
    store.set_instances([inst])
    store.record(ProbeOutcome(inst, _snapshot(inst, 1.0), 0.1))
    app = App(
        store=store,
        scheduler=None,  # type: ignore[arg-type]
        policy=Policy("127.0.0.1", 6736),
        log=log,
        version="test",
        providers_body=b"[]",
        openapi_body=b"{}",
        probe_deadline=lambda _inst: 1.0,
    )

    def get() -> bytes:
        response = app.handle(Request("GET", "/v1/usage", {"host": "127.0.0.1:6736"}))
        assert response.status == 200
        return response.body

    first = get()
    assert get() is first and get() is first  # the same bytes object: serialised once
    assert len(encoded) == 1
    store.record(ProbeOutcome(inst, _snapshot(inst, 2.0), 0.1))  # new data
    changed = get()
    assert changed is not first and json.loads(changed)[0]["metrics"][0]["used"] == 2.0
    clock[0] += 1  # a new second: staleness and pace are recomputed
    assert get() is not changed
    assert len(encoded) == 3


COUNTER_JS = """
globalThis.__usagestat_plugin = {
  id: "%(id)s",
  probe: function (ctx) {
    globalThis.__probes = (globalThis.__probes || 0) + 1;
    return {metrics: [ctx.line.progress({label: "Probes in this context", used: globalThis.__probes,
                                         limit: 100, format: {kind: "count", suffix: "probes"}})]};
  }
};
"""


def _workers_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"plugins.worker" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_daemon_probes_in_warm_workers_with_a_fresh_context_each_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    plugins = tmp_path / "plugins"
    write_plugin(plugins, "counter", COUNTER_JS)
    config = tmp_path / "config.toml"
    config.write_text(
        'maxParallel = 1\n[[providers]]\nid = "counter"\n\n[[providers]]\nid = "mock"\nenabled = false\n'
    )
    daemon = Daemon(home, config, plugins, ["--refresh-sec", "3600"]).start()
    try:
        seen: list[set[int]] = []
        for _ in range(4):
            reply = daemon.get("/v1/usage/counter?refresh=true")
            assert reply.status == 200 and reply.json().get("state") == "ready", reply.body
            assert reply.json()["metrics"][0]["used"] == 1  # nothing left from earlier probes
            seen.append(_workers_of(daemon.proc.pid))  # type: ignore[union-attr]
            time.sleep(0.05)
    finally:
        daemon.terminate()
    assert all(len(pids) == 1 for pids in seen), seen
    assert len(set.union(*seen)) == 1, seen  # one warm worker served every probe
    assert os.getpid() not in set.union(*seen)
