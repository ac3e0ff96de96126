"""Warm workers stay correct while they save work (SPEC §3.5, §10; not timing-based).

A pooled worker serves many probes, but every probe gets a fresh JS context;
the parent sends a plugin script once per worker and the environment only when
it changed, and the worker prepares the next context while it waits.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from usagestat.core.config import Config, ProviderEntry
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import Instance, resolve_instances
from usagestat.plugins.isolation import WorkerPool, WorkerProcess
from usagestat.plugins.probe import ProbeOptions, build_request, probe_instance
from usagestat.plugins.runtime import PreparedContext

# Leaves state behind in every way a plugin can: a global, a prototype, a built-in.
POLLUTER = """
globalThis.__usagestat_plugin = {id: "polluter", probe: function (ctx) {
  globalThis.__count = (globalThis.__count || 0) + 1;
  Object.prototype.leaked = "yes";
  JSON.stringify = function () { return "hijacked"; };
  return {metrics: [ctx.line.text({label: "Count", value: String(globalThis.__count)})]};
}};
"""
CHECKER = """
globalThis.__usagestat_plugin = {id: "checker", probe: function (ctx) {
  var clean = typeof globalThis.__count === "undefined" && ({}).leaked === undefined
    && JSON.stringify({a: 1}) === '{"a":1}';
  return {metrics: [ctx.line.text({label: "Clean", value: String(clean)}),
                    ctx.line.text({label: "Env", value: String(ctx.host.env.get("PERF_VALUE"))})]};
}};
"""


@pytest.fixture(autouse=True)
def _private_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test here runs in a private HOME."""
    monkeypatch.setenv("PERF_VALUE", "first")
    return home


def write(root: Path, plugin_id: str, script: str, env: list[str] | None = None) -> None:
    folder = root / plugin_id
    folder.mkdir(parents=True, exist_ok=True)
    permissions = {"http": [], "env": env or [], "fs": [], "fsWrite": [], "commands": []}
    manifest = {
        "id": plugin_id,
        "name": plugin_id,
        "entry": "plugin.js",
        "permissions": permissions,
    }
    (folder / "plugin.json").write_text(json.dumps(manifest))
    (folder / "plugin.js").write_text(script)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Config, dict[str, Instance]]:
    plugins = tmp_path / "plugins"
    write(plugins, "polluter", POLLUTER)
    write(plugins, "checker", CHECKER, env=["PERF_VALUE"])
    ids = ["polluter", "checker"]
    config = Config(
        path=tmp_path / "none.toml",
        probe_timeout_sec=20,
        providers=[ProviderEntry(id=i, instance_id=i, index=n) for n, i in enumerate(ids)],
    )
    registry = discover([str(plugins)], [], include_cwd=False)
    found = {i.instance_id: i for i in resolve_instances(config, registry).instances}
    return config, found


def values(outcome) -> dict[str, str]:
    assert outcome.ok, outcome.snapshot
    return {line.label: line.value for line in outcome.snapshot.metrics}


def test_a_pooled_worker_is_reused_and_each_probe_gets_a_fresh_context(setup, monkeypatch) -> None:
    config, found = setup
    pool = WorkerPool(1)
    options = ProbeOptions(pool=pool)
    pids = set()
    try:
        for round_ in range(3):
            assert values(probe_instance(found["polluter"], config, options)) == {"Count": "1"}
            if round_ == 2:
                monkeypatch.setenv("PERF_VALUE", "changed")
            checked = values(probe_instance(found["checker"], config, options))
            assert checked["Clean"] == "true"
            assert checked["Env"] == ("changed" if round_ == 2 else "first")
            worker = pool.acquire()
            pids.add(worker.process.pid)
            assert worker.probes == 2 * (round_ + 1)
            pool.release(worker)
    finally:
        pool.close()
    assert len(pids) == 1  # the same warm worker served all six probes


def test_the_script_is_sent_once_and_the_environment_only_when_it_changed(
    setup, monkeypatch
) -> None:
    config, found = setup
    instance = found["checker"]
    worker = WorkerProcess(pooled=True)
    try:
        first = build_request(instance, config, "auto", None, 20.0)
        payload, _env, _key = worker._wire(first)
        assert {"script", "scriptId", "env", "prepareNext"} <= set(payload)
        worker.probe(first, 20.0)

        again = build_request(instance, config, "auto", None, 20.0)
        payload, _env, key = worker._wire(again)
        assert "script" not in payload and "env" not in payload and payload["scriptId"] == key
        assert json.loads(json.dumps(worker.probe(again, 20.0)))["ok"] is True

        monkeypatch.setenv("PERF_VALUE", "changed")
        changed = build_request(instance, config, "auto", None, 20.0)
        payload, _env, _key = worker._wire(changed)
        assert payload["env"]["PERF_VALUE"] == "changed" and "script" not in payload
        reply = worker.probe(changed, 20.0)
        assert reply["ok"] and reply["value"]["metrics"][1]["value"] == "changed"
    finally:
        worker.close()
    assert worker.process.returncode == 0  # asked to exit, it exited by itself


def test_an_edited_script_reaches_a_warm_worker(setup, tmp_path: Path) -> None:
    config, found = setup
    instance = found["polluter"]
    pool = WorkerPool(1)
    options = ProbeOptions(pool=pool)
    try:
        assert values(probe_instance(instance, config, options)) == {"Count": "1"}
        script = tmp_path / "plugins" / "polluter" / "plugin.js"
        script.write_text(POLLUTER.replace('label: "Count"', 'label: "Edited"'))
        assert values(probe_instance(instance, config, options)) == {"Edited": "1"}
    finally:
        pool.close()


def test_a_one_shot_worker_is_not_asked_to_prepare_another_context(setup) -> None:
    config, found = setup
    worker = WorkerProcess()
    try:
        payload, _env, _key = worker._wire(build_request(found["checker"], config, "auto", None, 5))
        assert "prepareNext" not in payload
    finally:
        worker.close()


def test_a_prepared_context_serves_one_probe_only(setup) -> None:
    from usagestat.plugins.worker import handle

    config, found = setup
    request = build_request(found["polluter"], config, "auto", None, 20.0)
    prepared = PreparedContext()
    first = handle(dict(request), None, prepared)
    assert first["ok"] and first["value"]["metrics"][0]["value"] == "1"
    # Offered again, it is refused and the probe gets a new context.
    second = handle(dict(request), None, prepared)
    assert second["ok"] and second["value"]["metrics"][0]["value"] == "1"
    assert prepared.forward.session is not None  # bound to the first probe only
    assert prepared.take(object()) is None  # type: ignore[arg-type]
