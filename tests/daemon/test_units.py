"""In-process tests of the daemon's parts: scheduling rules, store semantics, security checks."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from usagestat.core.cache import SnapshotCache
from usagestat.core.history import History
from usagestat.core.models import MetricFormat, ProgressLine, UsageSnapshot
from usagestat.core.results import error_snapshot
from usagestat.core.timeutil import format_timestamp, now_utc, parse_timestamp
from usagestat.daemon import openapi
from usagestat.daemon.log import Log
from usagestat.daemon.scheduler import BACKOFF_CAP_SEC, Scheduler, backoff_delay
from usagestat.daemon.security import Policy, SecurityError, is_loopback, read_token_file
from usagestat.daemon.store import Store
from usagestat.plugins.instances import Instance
from usagestat.plugins.probe import ProbeOutcome


def instance(instance_id: str, min_interval: float | None = None) -> Instance:
    plugin = None
    if min_interval is not None:
        manifest = SimpleNamespace(
            min_interval_sec=min_interval, status_page_url=None, name=instance_id
        )
        plugin = SimpleNamespace(manifest=manifest)
    return Instance(instance_id, instance_id, None, plugin, enabled=True)  # type: ignore[arg-type]


def good(inst: Instance, used: float = 1.0) -> UsageSnapshot:
    line = ProgressLine(label="Quota", used=used, limit=10.0, format=MetricFormat("percent"))
    return UsageSnapshot(
        provider_id=inst.provider_id,
        instance_id=inst.instance_id,
        display_name=inst.instance_id,
        source="api",
        metrics=[line],
        fetched_at=format_timestamp(now_utc()),
    )


def failed(inst: Instance, state: str = "failed") -> UsageSnapshot:
    return error_snapshot(
        provider_id=inst.provider_id,
        instance_id=inst.instance_id,
        display_name=inst.instance_id,
        state=state,
        message="HTTP 500",
        fetched_at=format_timestamp(now_utc()),
        status_page_url=None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    log = Log(io.StringIO())
    return Store(
        log,
        cache=SnapshotCache(tmp_path / "snapshots.json"),
        history=History(tmp_path / "history.jsonl"),
        debounce_sec=0.05,
    )


# -- backoff ---------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    assert backoff_delay(0) == 0.0
    first = [backoff_delay(1) for _ in range(200)]
    assert min(first) >= 8.0 and max(first) <= 10.0
    assert len({round(x, 3) for x in first}) > 50  # jittered
    assert 16.0 <= backoff_delay(2) <= 20.0
    assert 32.0 <= backoff_delay(3) <= 40.0
    for failures in (9, 20, 500):
        delay = backoff_delay(failures)
        assert 0.8 * BACKOFF_CAP_SEC <= delay <= BACKOFF_CAP_SEC == 1800.0


# -- scheduler --------------------------------------------------------------------------


class FakeProbes:
    """Probe function whose outcomes the test decides; ``hang`` instances block."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.results: dict[str, list[tuple[str, float | None]]] = {}
        self.release = threading.Event()
        self.hang: set[str] = set()

    def __call__(self, inst: Instance) -> ProbeOutcome:
        self.calls.append(inst.instance_id)
        if inst.instance_id in self.hang:
            self.release.wait(10)
        queue = self.results.get(inst.instance_id) or [("ok", None)]
        kind, retry = queue.pop(0) if len(queue) > 1 else queue[0]
        snap = good(inst) if kind == "ok" else failed(inst, kind)
        return ProbeOutcome(inst, snap, 0.01, retry)


def make_scheduler(
    store: Store, probes: FakeProbes, instances: list[Instance], threads: int = 4
) -> Scheduler:
    store.set_instances(instances)
    scheduler = Scheduler(store, store.log, probes, threads=threads, refresh_sec=60)
    scheduler.configure(instances)
    scheduler.start()
    return scheduler


def wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_instances_are_probed_at_start_and_results_land_at_once(store: Store) -> None:
    probes = FakeProbes()
    a, b = instance("a"), instance("b")
    scheduler = make_scheduler(store, probes, [a, b])
    try:
        wait(lambda: store.has_result("a") and store.has_result("b"))
        assert sorted(probes.calls) == ["a", "b"]
        assert [s["instanceId"] for s in json.loads(store.usage_body())] == ["a", "b"]
    finally:
        scheduler.stop()


def test_min_interval_backoff_and_retry_after_gate_manual_refresh(store: Store) -> None:
    probes = FakeProbes()
    plain, slow, flaky, limited = (
        instance("plain"),
        instance("slow", 300),
        instance("flaky"),
        instance("limited"),
    )
    probes.results["flaky"] = [("failed", None)]
    probes.results["limited"] = [("ok", 120.0)]
    everything = [plain, slow, flaky, limited]
    scheduler = make_scheduler(store, probes, everything)
    try:
        wait(lambda: all(store.has_result(i.instance_id) for i in everything))
        wait(lambda: not any(scheduler.is_active(i.instance_id) for i in everything))
        # only the instance without minInterval, backoff or Retry-After is probed again
        assert scheduler.request(everything) == ["plain"]
    finally:
        scheduler.stop()


def test_a_hung_probe_does_not_block_other_instances(store: Store) -> None:
    probes = FakeProbes()
    probes.hang.add("stuck")
    stuck, quick = instance("stuck"), instance("quick")
    scheduler = make_scheduler(store, probes, [stuck, quick], threads=2)
    try:
        wait(lambda: store.has_result("quick") and not scheduler.is_active("quick"), timeout=2)
        for _ in range(3):  # the second slot keeps serving fresh probes
            before = probes.calls.count("quick")
            assert scheduler.refresh_and_wait([quick], lambda _i: 5.0) == ["quick"]
            assert probes.calls.count("quick") == before + 1
        assert not store.has_result("stuck")
        # a refresh of the hung one lists it (it is running) and gives up at the deadline
        t0 = time.monotonic()
        assert scheduler.refresh_and_wait([stuck], lambda _i: 0.3) == ["stuck"]
        assert 0.25 <= time.monotonic() - t0 < 2
    finally:
        probes.release.set()
        scheduler.stop()


def test_refresh_and_wait_sees_the_new_data(store: Store) -> None:
    probes = FakeProbes()
    a = instance("a")
    scheduler = make_scheduler(store, probes, [a])
    try:
        wait(lambda: store.has_result("a"))
        first = store.output("a").fetched_at
        time.sleep(0.002)
        for _ in range(20):  # no lost wake-ups between a result landing and the wait
            assert scheduler.refresh_and_wait([a], lambda _i: 5.0) == ["a"]
        assert store.output("a").fetched_at > first
        assert probes.calls.count("a") >= 2
    finally:
        scheduler.stop()


def test_refresh_and_wait_never_counts_a_result_already_visible(store: Store) -> None:
    """Regression: a reader that saw a result, then asked ``?refresh=true`` while
    that probe was still marked running, was handed the same result back."""
    probes = FakeProbes()
    a = instance("a")
    seen: list[str] = []
    waiter: list[threading.Thread] = []
    started = threading.Event()  # the scheduler below exists
    publish = store.publish

    def publish_then_refresh(outcome: ProbeOutcome) -> bool:
        published = publish(outcome)
        if not waiter:  # the first result is visible now: a reader asks for a fresh one
            seen.append(store.output("a").fetched_at)

            def refresh() -> None:
                started.wait(5)
                scheduler.refresh_and_wait([a], lambda _i: 5.0)
                seen.append(store.output("a").fetched_at)

            thread = threading.Thread(target=refresh)
            thread.start()
            waiter.append(thread)
            time.sleep(0.2)  # give the reader every chance to count this probe
        return published

    store.publish = publish_then_refresh  # type: ignore[method-assign]
    scheduler = make_scheduler(store, probes, [a])
    started.set()
    try:
        wait(lambda: bool(waiter))
        waiter[0].join(5)
        assert not waiter[0].is_alive()
        assert probes.calls == ["a", "a"]
        assert parse_timestamp(seen[1]) > parse_timestamp(seen[0])  # type: ignore[operator]
    finally:
        scheduler.stop()


def test_reload_resets_backoff_and_drops_removed_instances(store: Store) -> None:
    probes = FakeProbes()
    a, b = instance("a"), instance("b")
    probes.results["a"] = [("failed", None)]
    scheduler = make_scheduler(store, probes, [a, b])
    try:
        wait(lambda: store.has_result("a") and store.has_result("b"))
        wait(lambda: not scheduler.is_active("a"))
        assert scheduler.request([a]) == []
        scheduler.configure([a])
        assert scheduler.request([a, b]) == ["a"]
    finally:
        scheduler.stop()


# -- store ---------------------------------------------------------------------------


def test_failure_keeps_good_data_and_marks_it_stale(store: Store) -> None:
    inst = instance("web")
    store.set_instances([inst])
    ok = good(inst, used=4.0)
    store.record(ProbeOutcome(inst, ok, 0.1))
    time.sleep(0.002)
    store.record(ProbeOutcome(inst, failed(inst), 0.2))
    shown = store.output("web")
    assert shown is not None
    assert shown.stale is True
    assert shown.error is None
    assert shown.metrics[0].used == 4.0
    assert shown.last_error is not None and shown.last_error.code == "failed"
    # recovery clears it
    store.record(ProbeOutcome(inst, good(inst, used=5.0), 0.1))
    shown = store.output("web")
    assert shown.stale is False and shown.last_error is None and shown.metrics[0].used == 5.0


def test_error_snapshot_is_served_until_the_first_success(store: Store) -> None:
    inst = instance("new")
    store.set_instances([inst])
    assert store.instance_body("new") is None  # pending
    assert json.loads(store.usage_body()) == []
    store.record(ProbeOutcome(inst, failed(inst, "missing-auth"), 0.1))
    body = json.loads(store.instance_body("new"))
    assert body["state"] == "missing-auth" and body["source"] == "error"
    assert body["stale"] is False


def test_bodies_are_cached_until_data_or_clock_second_changes(store: Store) -> None:
    inst = instance("a")
    store.set_instances([inst])
    store.record(ProbeOutcome(inst, good(inst), 0.1))
    first = store.usage_body()
    assert store.usage_body() is first or int(time.time()) != store._usage[0][1]  # type: ignore[index]
    store.record(ProbeOutcome(inst, good(inst, used=9.0), 0.1))
    assert json.loads(store.usage_body())[0]["metrics"][0]["used"] == 9.0
    metrics = store.metrics_body()
    assert store.metrics_body() is metrics


def test_metrics_body_formats_numbers_like_the_cli(store: Store) -> None:
    inst = instance("a")
    store.set_instances([inst])
    store.record(ProbeOutcome(inst, good(inst, used=70 / 9), 0.25))
    text = store.metrics_body().decode()
    labels = 'instance="a",provider="a",label="Quota",format="percent"'
    # the same text as `usage --format prometheus` for 7 / 9 (tests/cli/test_render.py)
    assert f"usagestat_metric_ratio{{{labels}}} 0.7777777777777778" in text.splitlines()
    assert 'usagestat_probe_duration_seconds{instance="a",provider="a"} 0.25' in text


def test_cache_is_written_debounced_and_loaded_back(store: Store, tmp_path: Path) -> None:
    inst = instance("a")
    store.set_instances([inst])
    store.start_writer()
    store.record(ProbeOutcome(inst, good(inst, used=3.0), 0.1))
    wait(lambda: (tmp_path / "snapshots.json").exists(), timeout=3)
    store.record(ProbeOutcome(inst, failed(inst), 0.1))
    store.close()
    data = json.loads((tmp_path / "snapshots.json").read_text())
    assert data["snapshots"]["a"]["metrics"][0]["used"] == 3.0
    assert data["snapshots"]["a"]["lastError"]["code"] == "failed"
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 2
    again = Store(
        Log(io.StringIO()),
        cache=SnapshotCache(tmp_path / "snapshots.json"),
        history=History(tmp_path / "h"),
    )
    assert again.load_cache() == 1
    again.set_instances([inst])
    shown = again.output("a")
    assert shown is not None and shown.stale is True and shown.metrics[0].used == 3.0
    # results that land while shutting down (killed probes) are ignored
    assert store.record(ProbeOutcome(inst, failed(inst), 0.1)) is False


# -- security ------------------------------------------------------------------------------


def test_loopback_detection() -> None:
    for bind in ("127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"):
        assert is_loopback(bind), bind
    for bind in ("0.0.0.0", "::", "192.168.1.5", "example.com"):
        assert not is_loopback(bind), bind


def test_host_header_policy() -> None:
    policy = Policy("127.0.0.1", 6736)
    for host in (
        "localhost:6736",
        "127.0.0.1:6736",
        "[::1]:6736",
        "LOCALHOST:6736",
        "localhost.:6736",
    ):
        assert policy.host_allowed(host, False), host
    for host in (
        "localhost",  # no port = port 80, not the bound one
        "127.0.0.1",
        "evil.example:6736",
        "localhost:6737",
        "127.0.0.2:6736",
        "",
        "localhost:6736:1",
        "[::1",
    ):
        assert not policy.host_allowed(host, False), host
    assert not policy.host_allowed(None, False)
    assert policy.host_allowed(None, True)  # HTTP/1.0 without Host
    on_80 = Policy("127.0.0.1", 80)
    assert on_80.host_allowed("localhost", False) and on_80.host_allowed("localhost:80", False)
    assert not on_80.host_allowed("localhost:6736", False)
    wildcard = Policy("0.0.0.0", 6736, token="t" * 20)
    assert wildcard.host_allowed("10.1.2.3:6736", False)
    assert not wildcard.host_allowed("rebind.example:6736", False)


def test_origin_and_cors_policy() -> None:
    policy = Policy("127.0.0.1", 6736, cors_origins=["https://Dash.Example/"])
    assert policy.origin_allowed(None)
    assert policy.origin_allowed("https://dash.example")
    assert policy.origin_allowed("http://localhost:6736")  # the daemon's own origin
    assert not policy.origin_allowed("https://evil.example")
    assert policy.cors_origin("https://dash.example") == "https://dash.example"
    assert policy.cors_origin("https://evil.example") is None
    assert policy.cors_origin(None) is None


def test_bearer_token_check() -> None:
    open_policy = Policy("127.0.0.1", 1)
    assert open_policy.authorized(None)
    policy = Policy("127.0.0.1", 1, token="a-long-enough-token-123")
    assert policy.authorized("Bearer a-long-enough-token-123")
    assert policy.authorized("bearer  a-long-enough-token-123")
    for header in (
        None,
        "",
        "Bearer",
        "Bearer wrong",
        "Basic a-long-enough-token-123",
        "Bearer a-long-enough-token-123x",
        "Bearer ä",
    ):
        assert not policy.authorized(header), header


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_token_file_rules(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("a-long-enough-token-123\nsecond line ignored\n")
    os.chmod(path, 0o600)
    assert read_token_file(str(path)) == "a-long-enough-token-123"
    os.chmod(path, 0o640)
    with pytest.raises(SecurityError, match="readable by other users"):
        read_token_file(str(path))
    os.chmod(path, 0o600)
    path.write_text("short\n")
    with pytest.raises(SecurityError, match="at least 16"):
        read_token_file(str(path))
    with pytest.raises(SecurityError, match="does not exist"):
        read_token_file(str(tmp_path / "missing"))


def test_openapi_document_shape() -> None:
    doc = openapi.build("1.2.3", "http://127.0.0.1:6736", token=False)
    assert doc["openapi"] == "3.1.0"
    assert "security" not in doc
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert method in ("get", "post"), path
            assert "400" in op["responses"] and "403" in op["responses"]
            for code, response in op["responses"].items():
                assert "Cache-Control" in response["headers"], (path, code)
    assert doc["paths"]["/v1/usage/{id}"]["get"]["responses"]["503"]["headers"]["Retry-After"]
    secured = openapi.build("1.2.3", "http://127.0.0.1:6736", token=True)
    assert secured["security"] == [{"bearerAuth": []}]
    assert "401" in secured["paths"]["/health"]["get"]["responses"]
