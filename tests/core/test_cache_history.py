"""snapshots.json and history.jsonl: atomic, merged, recoverable (SPEC §6)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace
from pathlib import Path

from usagestat.core.cache import SnapshotCache, with_staleness
from usagestat.core.history import History
from usagestat.core.models import LastError, MetricFormat, ProgressLine, UsageSnapshot
from usagestat.core.results import error_snapshot


def snap(
    instance: str = "mock", at: str = "2026-01-15T12:00:00Z", used: float = 10.0
) -> UsageSnapshot:
    return UsageSnapshot(
        provider_id="mock",
        instance_id=instance,
        display_name="Mock",
        source="mock",
        metrics=[ProgressLine("Session", used, 100.0, MetricFormat("percent"))],
        fetched_at=at,
    )


def test_write_is_atomic_private_and_leaves_no_temp_files(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "data" / "snapshots.json")
    cache.update([snap()])
    assert cache.path.exists()
    if os.name == "posix":
        assert cache.path.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    leftovers = [p.name for p in cache.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    data = json.loads(cache.path.read_text())
    assert data["version"] == 1 and data["snapshots"]["mock"]["instanceId"] == "mock"


def test_atomic_write_never_follows_or_reuses_a_planted_file(tmp_path: Path, monkeypatch) -> None:
    from usagestat.core import atomicio

    target = tmp_path / "creds.json"
    target.write_text("old")
    target.chmod(0o640)
    names = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(atomicio.os, "urandom", lambda n: bytes.fromhex(next(names)))
    planted = tmp_path / ".creds.json.aaaaaaaaaaaa.tmp"
    if os.name == "posix":
        planted.symlink_to(tmp_path / "elsewhere")
    else:
        planted.write_text("")
    atomicio.atomic_write_bytes(target, b"new", mode=None)
    assert target.read_bytes() == b"new"
    assert not (tmp_path / "elsewhere").exists()  # the symlink was never opened
    assert not (tmp_path / ".creds.json.bbbbbbbbbbbb.tmp").exists()  # renamed into place
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o640  # mode=None keeps the file's mode


def test_newer_fetched_at_wins_and_errors_never_replace_data(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "snapshots.json")
    cache.update([snap(at="2026-01-15T12:00:00Z", used=10)])
    cache.update([snap(at="2026-01-15T11:00:00Z", used=99)])  # older: ignored
    assert cache.load()["mock"].metrics[0].used == 10
    failure = error_snapshot(
        provider_id="mock",
        instance_id="mock",
        display_name="Mock",
        state="failed",
        message="boom",
        fetched_at="2026-01-15T12:05:00Z",
    )
    cache.update([failure], [("mock", LastError("failed", "boom", "2026-01-15T12:05:00Z"))])
    loaded = cache.load()["mock"]
    assert loaded.metrics[0].used == 10 and loaded.last_error is not None
    assert with_staleness(loaded).stale is True
    cache.update([snap(at="2026-01-15T12:10:00Z", used=20)])
    fresh = cache.load()["mock"]
    assert fresh.last_error is None and with_staleness(fresh).stale is False


def test_corrupt_cache_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "snapshots.json"
    path.write_text('{"version": 1, "snapshots": {"x": {"truncated"')
    warnings: list[str] = []
    cache = SnapshotCache(path, warn=warnings.append)
    assert cache.load() == {}
    assert not path.exists()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("snapshots.json.corrupt-")]
    assert len(aside) == 1 and "corrupt" in warnings[0]
    cache.update([snap()])
    assert "mock" in cache.load()


def test_garbage_shapes_are_corrupt_not_crashes(tmp_path: Path) -> None:
    for payload in (
        "[]",
        '{"version": 2}',
        '{"version": 1, "snapshots": {"a": {"metrics": 3}}}',
        "\x00\xff",
    ):
        path = tmp_path / "snapshots.json"
        path.write_text(payload, encoding="latin-1")
        assert SnapshotCache(path).load() == {}


def test_concurrent_writers_merge_per_instance(tmp_path: Path) -> None:
    path = tmp_path / "snapshots.json"

    def writer(name: str) -> None:
        for i in range(10):
            SnapshotCache(path).update(
                [snap(instance=name, at=f"2026-01-15T12:{i:02d}:00Z", used=i)]
            )

    threads = [threading.Thread(target=writer, args=(f"i{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = SnapshotCache(path).load()
    assert sorted(loaded) == ["i0", "i1", "i2", "i3"]
    assert all(s.metrics[0].used == 9 for s in loaded.values())


def test_clear_some_or_all(tmp_path: Path) -> None:
    cache = SnapshotCache(tmp_path / "snapshots.json")
    cache.update([snap("a"), snap("b")])
    assert cache.clear(["a"]) is True and sorted(cache.load()) == ["b"]
    assert cache.clear(["zzz"]) is False
    assert cache.clear() is True and not cache.path.exists()


def test_history_append_read_skip_bad_lines_and_rotate(tmp_path: Path) -> None:
    history = History(tmp_path / "history.jsonl", rotate_bytes=2000)
    history.append([snap(at="2026-01-14T12:00:00Z"), snap(at="2026-01-15T12:00:00Z")])
    with open(history.path, "a") as handle:
        handle.write('{"truncated": ')  # a writer killed mid-line
    history.append([snap(at="2026-01-16T12:00:00Z")])
    read = history.read()
    assert [r["ts"] for r in read.records] == [
        "2026-01-14T12:00:00Z",
        "2026-01-15T12:00:00Z",
        "2026-01-16T12:00:00Z",
    ]
    assert read.skipped_lines == 1
    assert all(r["ts"] == r["fetchedAt"] for r in read.records)
    from datetime import datetime, timezone

    since = history.read(since=datetime(2026, 1, 15, tzinfo=timezone.utc))
    assert len(since.records) == 2
    for i in range(20):
        history.append([replace(snap(at=f"2026-01-17T12:{i:02d}:00Z"))])
    assert history.rotated_path.exists()
    total = history.read().records
    current_lines = len(history.path.read_text().splitlines())
    assert total[-1]["ts"] == "2026-01-17T12:19:00Z"
    assert len(total) > current_lines  # the rotated generation is read too
    assert history.clear() and history.read().records == []


def test_history_reads_oldest_first_whatever_the_file_order(tmp_path: Path) -> None:
    """The CLI and the daemon append side by side: a slow probe's line can follow a newer one."""
    history = History(tmp_path / "history.jsonl")
    history.append([snap("b", at="2026-01-15T12:00:01Z")])
    history.append([snap("a", at="2026-01-15T12:00:00.500Z")])
    history.append([snap("c", at="2026-01-15T12:00:01Z")])
    assert [r["instanceId"] for r in history.read().records] == ["a", "b", "c"]


def test_history_records_errors_too(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    failure = error_snapshot(
        provider_id="mock",
        instance_id="mock",
        display_name="Mock",
        state="timed-out",
        message="slow",
        fetched_at="2026-01-15T12:00:00Z",
    )
    history.append([failure])
    (record,) = history.read().records
    assert record["state"] == "timed-out" and record["source"] == "error"
