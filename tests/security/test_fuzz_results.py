"""Random plugin outputs into the validator: it never crashes and never lets an invalid
snapshot through (SPEC §2.1, §3.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tmpplugins import make_plugin

from usagestat.core.config import Config, ProviderEntry
from usagestat.core.models import UsageSnapshot
from usagestat.core.results import (
    InvalidResult,
    error_snapshot,
    parse_probe_error,
    parse_probe_result,
)
from usagestat.core.serialize import snapshot_from_json, to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.isolation import WorkerPool
from usagestat.plugins.probe import ProbeOptions, probe_many

from .conftest import fuzz
from .oracle import check_snapshot, clear_message

#: Any text, lone surrogates and NULs included (the default strategy leaves them out).
any_text = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=40),
    st.text(
        st.sampled_from("ab \x00\n\u2028\ufeff\ud800\udbff\udc00\udfff\U0001f600é"), max_size=20
    ),
)
big_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**308, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), big_numbers, any_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(any_text, inner, max_size=5)
    ),
    max_leaves=30,
)


long_text = st.integers(4090, 4100).map(lambda n: "x" * n)
numbers = st.one_of(st.floats(min_value=0, max_value=1e6), st.integers(0, 10**6))
timestamps = st.one_of(
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00+05:30",
            "2026-01-01T00:00:00.123456789Z",
            "2026-13-45T99:99:99Z",
            "tomorrow",
            "2026-01-01",
            "",
        ]
    ),
    st.builds(
        lambda d, offset: d.isoformat() + offset,
        st.datetimes(),
        st.sampled_from(["", "Z", "+05:30", "-01:00", "+14:00"]),
    ),
)
formats = st.one_of(
    st.just({"kind": "percent"}),
    st.builds(lambda c: {"kind": "dollars", "currency": c}, st.sampled_from(["EUR", "USD", "JPY"])),
    st.builds(lambda s: {"kind": "count", "suffix": s}, any_text.filter(bool)),
)
valid_lines = st.one_of(
    st.builds(
        lambda label, value, extra: {"type": "text", "label": label, "value": value, **extra},
        any_text,
        any_text,
        st.fixed_dictionaries({}, optional={"subtitle": any_text, "color": st.just("red")}),
    ),
    st.builds(
        lambda label, text, extra: {"type": "badge", "label": label, "text": text, **extra},
        any_text,
        any_text,
        st.fixed_dictionaries({}, optional={"detail": st.booleans(), "color": st.just("#AbC")}),
    ),
    st.builds(
        lambda label, used, limit, fmt, extra: {
            "type": "progress",
            "label": label,
            "used": used,
            "limit": limit,
            "format": fmt,
            **extra,
        },
        any_text,
        numbers,
        st.floats(min_value=0.001, max_value=1e9),
        formats,
        st.fixed_dictionaries(
            {},
            optional={
                "resetsAt": timestamps,
                "periodDurationMs": st.floats(min_value=1, max_value=1e12),
            },
        ),
    ),
)
#: A bad value for any member: wrong types, huge or non-finite numbers, long strings.
bad_values = st.one_of(scalars, long_text, json_values, st.sampled_from(["#gggggg", "purple"]))
line_keys = st.sampled_from(
    [
        "type",
        "label",
        "value",
        "text",
        "subtitle",
        "used",
        "limit",
        "format",
        "resetsAt",
        "periodDurationMs",
        "color",
        "detail",
    ]
)


@st.composite
def lines(draw) -> dict:
    """A valid line, often with one member replaced by something wrong (or removed)."""
    line = dict(draw(valid_lines))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(line_keys)
        if draw(st.booleans()):
            line[key] = draw(bad_values)
        else:
            line.pop(key, None)
    return line


results = st.one_of(
    json_values,
    st.lists(lines(), max_size=4),
    st.fixed_dictionaries(
        {"metrics": st.one_of(st.lists(lines(), max_size=4), json_values)},
        optional={
            "displayName": st.one_of(any_text, bad_values),
            "plan": st.one_of(any_text, bad_values),
            "source": st.one_of(st.sampled_from(["api", "oauth", "error", "ftp"]), bad_values),
            "retryAfterSec": st.one_of(st.floats(min_value=-10, max_value=1e9), bad_values),
            "lines": st.lists(lines(), max_size=2),
        },
    ),
)


def _snapshot_json(result) -> dict:
    snap = UsageSnapshot(
        provider_id="fuzz",
        instance_id="fuzz",
        display_name=result.display_name or "Fuzz",
        source=result.source or "api",
        plan=result.plan,
        metrics=result.metrics,
        fetched_at="2026-01-15T12:00:00Z",
    )
    if not snap.metrics:
        snap = error_snapshot(
            provider_id="fuzz",
            instance_id="fuzz",
            display_name="Fuzz",
            state="no-data",
            message="no data",
            fetched_at="2026-01-15T12:00:00Z",
        )
    return to_json(snap)


@fuzz(400)
@given(results)
def test_validator_accepts_only_valid_snapshots(raw) -> None:
    try:
        result = parse_probe_result(raw)
    except InvalidResult as exc:
        clear_message(str(exc))
        return
    data = _snapshot_json(result)
    check_snapshot(data)
    # What the cache and history files hold must read back to the same thing.
    assert to_json(snapshot_from_json(json.loads(json.dumps(data)))) == data
    if result.retry_after_sec is not None:
        assert 0 < result.retry_after_sec < float("inf")


@fuzz(300)
@given(json_values)
def test_thrown_values_become_clear_error_snapshots(raw) -> None:
    failure = parse_probe_error(raw)
    snap = error_snapshot(
        provider_id="fuzz",
        instance_id="fuzz",
        display_name="Fuzz",
        state=failure.state,
        message=failure.message,
        fetched_at="2026-01-15T12:00:00Z",
    )
    check_snapshot(to_json(snap))
    assert len(failure.message) <= 1000
    if failure.retry_after_sec is not None:
        assert 0 < failure.retry_after_sec < float("inf")


# -- the same through the real worker and the custom provider ----------------------------

HOSTILE_RESULTS = [
    "var a = []; for (var i = 0; i < 5000; i++) a = [a]; return {metrics: a};",
    "var a = {}; for (var i = 0; i < 3000; i++) a = {x: a};"
    " return {metrics: [ctx.line.text({label: 'a', value: 'b'})], extra: a};",
    "return {plan: 'p\\ud800', metrics: [ctx.line.text({label: 'a\\udfff', value: 'x\\ud800y'})]};",
    "throw new Error('lone \\udc00 surrogate');",
    "throw {code: 'rate-limited', message: 'slow', retryAfterSec: 1e308 * 10};",
    "return {metrics: [ctx.line.progress({label: 'x', used: 1e308 * 10, limit: 1, format: {kind: 'percent'}})]};",
    "return {metrics: [{type: 'text', label: Symbol('x'), value: 'v'}]};",
    "return {metrics: [{type: 'progress', label: 'a', used: 10n, limit: 100, format: {kind: 'percent'}}]};",
    "var o = {}; o.self = o; return {metrics: [o]};",
    "return new Proxy({}, {get: function () { throw 'trap'; }});",
    "return {metrics: new Array(500).fill(ctx.line.text({label: 'a', value: 'b'}))};",
]


def _probe_plugins(tmp_path: Path, bodies: list[str], pool: WorkerPool | None = None) -> dict:
    ids = [f"p{n}" for n in range(len(bodies))]
    for plugin_id, body in zip(ids, bodies, strict=True):
        make_plugin(tmp_path / "plugins", plugin_id, body)
    make_plugin(
        tmp_path / "plugins",
        "good",
        "return {metrics: [ctx.line.text({label: 'ok', value: 'fine'})]};",
    )
    ids.append("good")
    config = Config(
        path=tmp_path / "none.toml",
        probe_timeout_sec=10,
        max_parallel=4,
        providers=[ProviderEntry(id=i, instance_id=i, index=n) for n, i in enumerate(ids)],
    )
    registry = discover([str(tmp_path / "plugins")], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ids)
    outcomes = probe_many(instances, config, ProbeOptions(pool=pool))
    assert [o.snapshot.instance_id for o in outcomes] == ids  # every instance answered
    return {o.snapshot.instance_id: to_json(o.snapshot) for o in outcomes}


def test_hostile_results_through_the_worker(tmp_path: Path, home: Path) -> None:
    results = _probe_plugins(tmp_path, HOSTILE_RESULTS)
    for snap in results.values():
        check_snapshot(snap)
        if snap["error"]:
            clear_message(snap["error"]["message"])
    assert results["good"]["state"] == "ready"
    assert results["p2"]["state"] == "ready"  # lone surrogates are replaced, not fatal
    assert "\ufffd" in results["p2"]["metrics"][0]["value"]


@pytest.fixture(scope="module")
def pool():
    workers = WorkerPool(size=2)
    yield workers
    workers.close()


@fuzz(25)
@given(st.lists(json_values, min_size=1, max_size=4))
def test_random_json_through_the_worker(tmp_path_factory, home, pool, values) -> None:
    """Random values returned by real plugins, in one batch per example (warm workers)."""
    tmp = tmp_path_factory.mktemp("fuzzworker")
    bodies = [
        "return JSON.parse(" + json.dumps(json.dumps(v, allow_nan=True)) + ");"
        if _js_json_ok(v)
        else "return null;"
        for v in values
    ]
    results = _probe_plugins(tmp, bodies, pool)
    for snap in results.values():
        check_snapshot(snap)
        if snap["error"]:
            clear_message(snap["error"]["message"])


def _js_json_ok(value) -> bool:
    """JSON.parse in the engine accepts standard JSON only (no NaN, Infinity)."""
    try:
        json.dumps(value, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return True


@fuzz(60)
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.integers(1, 20000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 400).map(
            lambda n: (
                b'{"metrics":[{"type":"progress","label":"x","used":1'
                + b"0" * n
                + b',"limit":1,"format":{"kind":"percent"}}]}'
            )
        ),
    )
)
def test_custom_provider_stdout(tmp_path_factory, stdout: bytes) -> None:
    from usagestat.plugins.instances import Instance
    from usagestat.plugins.probe import probe_instance

    out = tmp_path_factory.mktemp("custom") / "out.json"
    out.write_bytes(stdout)
    entry = ProviderEntry(id="custom", instance_id="custom", index=0, custom_command=f"cat {out}")
    config = Config(path=out.with_name("none.toml"), providers=[entry])
    outcome = probe_instance(Instance("custom", "custom", entry, None, enabled=True), config)
    snap = to_json(outcome.snapshot)
    check_snapshot(snap)
    if snap["error"]:
        clear_message(snap["error"]["message"])
