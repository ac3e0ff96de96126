"""A misbehaving plugin gets a clear per-provider error and nothing else is affected."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tmpplugins import OK_PROBE, make_plugin

from usagestat.core.config import Config, ProviderEntry
from usagestat.core.serialize import to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.probe import ProbeOptions, probe_many


@pytest.fixture(autouse=True)
def _private_home(home: Path) -> Path:
    """Every test here runs in a private HOME."""
    return home


def run(plugin_dir: Path, ids: list[str], timeout: float = 2.0, max_parallel: int = 8, **options):
    config = Config(
        path=plugin_dir / "none.toml",
        probe_timeout_sec=timeout,
        max_parallel=max_parallel,
        providers=[ProviderEntry(id=i, instance_id=i, index=n) for n, i in enumerate(ids)],
    )
    registry = discover([str(plugin_dir)], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ids)
    return {
        o.snapshot.instance_id: to_json(o.snapshot)
        for o in probe_many(instances, config, ProbeOptions(**options))
    }


def test_infinite_loop_times_out_while_others_return(tmp_path: Path) -> None:
    make_plugin(tmp_path, "spin", "while (true) {}")
    make_plugin(tmp_path, "good-a", OK_PROBE)
    make_plugin(tmp_path, "good-b", OK_PROBE)
    started = time.monotonic()
    results = run(tmp_path, ["spin", "good-a", "good-b"], timeout=1.0)
    elapsed = time.monotonic() - started
    assert results["spin"]["state"] == "timed-out"
    assert "timed out after 1s" in results["spin"]["error"]["message"]
    assert results["good-a"]["state"] == "ready" and results["good-b"]["state"] == "ready"
    assert elapsed < 1.0 + 4.0  # without the deadline the loop never ends


@pytest.mark.parametrize(
    ("body", "state", "fragment"),
    [
        (
            "var a = []; while (true) { a.push(new Array(100000).fill(1)); }",
            "failed",
            "out of memory",
        ),
        ("throw new Error('kaboom');", "failed", "kaboom"),
        ("throw 'plain string';", "failed", "plain string"),
        (
            "throw {code: 'rate-limited', message: 'slow down', retryAfterSec: 42};",
            "rate-limited",
            "slow down",
        ),
        ("return {metrics: 'x'};", "failed", "metrics must be an array"),
        ("return {metrics: []};", "no-data", "no usage data"),
        ("return new Promise(function () {});", "failed", "never settles"),
        ("function f(n) { return f(n + 1) + 1; } return f(0);", "failed", "call stack"),
        (
            "return {metrics: [{type: 'progress', label: 'x', used: 1, limit: -1, format: {kind: 'percent'}}]};",
            "failed",
            "metrics[0].limit",
        ),
        (
            "return {metrics: [ctx.line.text({label: 'big', value: new Array(5000).join('x')})]};",
            "failed",
            "4 KiB",
        ),
        (
            "var s = 'x'; while (s.length < 100 * 1024 * 1024) s += s; return {metrics: [ctx.line.text({label: 'a', value: s})]};",
            "failed",
            "",
        ),
        ("return Promise.reject(new TypeError('bad async'));", "failed", "TypeError: bad async"),
    ],
)
def test_bad_plugins_give_clear_errors(
    tmp_path: Path, body: str, state: str, fragment: str
) -> None:
    make_plugin(tmp_path, "bad", body)
    make_plugin(tmp_path, "good", OK_PROBE)
    results = run(tmp_path, ["bad", "good"], timeout=5.0)
    bad = results["bad"]
    assert bad["state"] == state, bad
    if state != "ready":
        assert fragment in bad["error"]["message"]
        assert "Traceback" not in bad["error"]["message"]
    assert results["good"]["state"] == "ready"


def test_async_probe_works(tmp_path: Path) -> None:
    make_plugin(
        tmp_path, "async", "return Promise.resolve(1).then(function () {" + OK_PROBE + "});"
    )
    assert run(tmp_path, ["async"])["async"]["state"] == "ready"


def test_syntax_error_names_the_file(tmp_path: Path) -> None:
    make_plugin(
        tmp_path,
        "syntax",
        script="globalThis.__usagestat_plugin = {id: 'syntax', probe: function( {}};",
    )
    result = run(tmp_path, ["syntax"])["syntax"]
    assert result["state"] == "failed"
    assert "SyntaxError" in result["error"]["message"] and "plugin.js" in result["error"]["message"]


def test_wrong_export_and_id_mismatch(tmp_path: Path) -> None:
    make_plugin(tmp_path, "noexport", script="var x = 1;")
    make_plugin(
        tmp_path,
        "mismatch",
        script="globalThis.__usagestat_plugin = {id: 'other', probe: function () {}};",
    )
    results = run(tmp_path, ["noexport", "mismatch"])
    assert "__usagestat_plugin" in results["noexport"]["error"]["message"]
    assert "manifest says" in results["mismatch"]["error"]["message"]


def test_compatibility_globals_and_lines(tmp_path: Path) -> None:
    make_plugin(
        tmp_path,
        "legacy",
        script=(
            "globalThis.__openusage_plugin = {id: 'legacy', probe: function (ctx) {"
            " return {lines: [ctx.line.badge({label: 'Plan', text: 'Pro'})]}; }};"
        ),
    )
    make_plugin(
        tmp_path,
        "aiusage",
        script=(
            "globalThis.__ai_usage_plugin = {id: 'aiusage', probe: function (ctx) {"
            " return {metrics: [ctx.line.text({label: 'a', value: 'b'})]}; }};"
        ),
    )
    results = run(tmp_path, ["legacy", "aiusage"])
    assert results["legacy"]["metrics"][0]["text"] == "Pro"
    assert results["aiusage"]["state"] == "ready"


def test_invalid_manifest_json_named_on_the_command_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "plugin.json").write_text("{]")
    make_plugin(tmp_path, "good", OK_PROBE)
    registry = discover([str(tmp_path)], [], include_cwd=False)
    config = Config(path=tmp_path / "x.toml")
    instances = select(resolve_instances(config, registry), registry, ["broken", "good"])
    outcomes = probe_many(instances, config)
    assert outcomes[0].snapshot.state == "failed"
    assert "invalid JSON" in outcomes[0].snapshot.error.message
    assert outcomes[1].snapshot.state == "ready"


def test_thousands_of_host_calls_are_capped(tmp_path: Path) -> None:
    make_plugin(
        tmp_path, "chatty", "for (var i = 0; i < 30000; i++) ctx.host.log.debug('x'); " + OK_PROBE
    )
    result = run(tmp_path, ["chatty"], timeout=10)["chatty"]
    assert result["state"] == "failed" and "too many host calls" in result["error"]["message"]


def test_prototype_pollution_stays_inside_the_probe(tmp_path: Path) -> None:
    make_plugin(
        tmp_path,
        "polluter",
        (
            'JSON.stringify = function () { return \'{"ok":true,"value":{"metrics":[]}}\'; };'
            "Object.prototype.injected = 1; Array.prototype.push = null;" + OK_PROBE
        ),
    )
    make_plugin(tmp_path, "good", "if (({}).injected) throw 'polluted!';" + OK_PROBE)
    results = run(tmp_path, ["polluter", "good"], max_parallel=1)
    assert results["good"]["state"] == "ready"
    assert (
        results["polluter"]["state"] == "ready"
    )  # the prelude captured JSON before the plugin ran


def test_in_process_mode_runs_the_same_code(tmp_path: Path) -> None:
    make_plugin(tmp_path, "good", OK_PROBE)
    result = run(tmp_path, ["good"], isolated=False)["good"]
    assert result["state"] == "ready" and result["metrics"][0]["used"] == 25.0


def test_in_process_top_level_loop_is_stopped_by_the_engine_time_limit(tmp_path: Path) -> None:
    import threading

    make_plugin(
        tmp_path,
        "spin-top",
        script="while (true) {}\nglobalThis.__usagestat_plugin = {id: 'spin-top', probe: null};",
    )
    make_plugin(tmp_path, "good", OK_PROBE)
    started = time.monotonic()
    results = run(tmp_path, ["spin-top", "good"], timeout=1.0, isolated=False)
    assert time.monotonic() - started < 1.0 + 2.0
    assert results["spin-top"]["state"] == "timed-out"
    assert results["spin-top"]["error"]["message"] == "probe timed out after 1s"
    assert results["good"]["state"] == "ready"
    # the engine interrupted the script: its thread ends instead of spinning on
    for _ in range(100):
        if not any(t.name == "probe-spin-top" for t in threading.enumerate()):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the in-process probe thread is still running")
