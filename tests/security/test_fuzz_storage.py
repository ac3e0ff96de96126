"""Damaged ``snapshots.json`` and ``history.jsonl``: never a crash, never bad data served.

Every input here is something a disk, a crash or a person can leave behind:
truncated files, random bytes, valid JSON of the wrong shape, numbers beyond
the float range, nesting deeper than Python's recursion limit, text that is
not UTF-8 or holds escaped lone surrogates.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from usagestat.core.cache import SnapshotCache
from usagestat.core.history import History
from usagestat.core.models import MetricFormat, ProgressLine, UsageSnapshot
from usagestat.core.serialize import snapshot_from_json, to_json
from usagestat.core.timeutil import parse_timestamp

from .conftest import fuzz
from .oracle import check_snapshot

GOOD = UsageSnapshot(
    provider_id="mock",
    instance_id="mock",
    display_name="Mock",
    source="mock",
    metrics=[ProgressLine("Session", 10.0, 100.0, MetricFormat("percent"))],
    fetched_at="2026-01-15T12:00:00Z",
)
GOOD_JSON = to_json(GOOD)
GOOD_FILE = json.dumps({"version": 1, "snapshots": {"mock": GOOD_JSON}}).encode()
GOOD_LINE = json.dumps({**GOOD_JSON, "ts": GOOD_JSON["fetchedAt"]}).encode()

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**308, max_value=10**400),
        st.floats(),
        st.text(max_size=10),
        st.sampled_from(["\ud800", "2026-01-15T12:00:00Z", "percent", "progress"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mutated_snapshot(draw) -> object:
    """The good snapshot with one member (at any depth) replaced by a random value."""
    data = json.loads(json.dumps(GOOD_JSON))
    target = data
    path = draw(
        st.sampled_from(
            [
                (),
                ("metrics",),
                ("metrics", 0),
                ("metrics", 0, "used"),
                ("metrics", 0, "limit"),
                ("metrics", 0, "format"),
                ("metrics", 0, "format", "kind"),
                ("metrics", 0, "type"),
                ("metrics", 0, "periodDurationMs"),
                ("fetchedAt",),
                ("instanceId",),
                ("lastError",),
                ("status",),
                ("error",),
            ]
        )
    )
    if not path:
        return draw(json_values)
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = draw(json_values)
    return data


def damaged_bytes(good: bytes) -> st.SearchStrategy[bytes]:
    """Truncations, bit flips, random bytes, deep nesting, escaped surrogates."""
    return st.one_of(
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)).map(
            lambda t: good[: t[0]] + bytes([good[t[0]] ^ t[1]]) + good[t[0] + 1 :]
        ),
        st.binary(max_size=300),
        st.integers(1, 100_000).map(lambda n: b"[" * n),
        st.integers(500, 50_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.just(good.replace(b'"Session"', b'"S\\ud800"')),
        st.just(good.replace(b"10.0", b"1" + b"0" * 400)),
        st.just(b"\xef\xbb\xbf" + good),
        st.just(good.replace(b'"mock"', b'"\xff\xfe"', 1)),
    )


cache_files = st.one_of(
    damaged_bytes(GOOD_FILE),
    mutated_snapshot().map(lambda s: json.dumps({"version": 1, "snapshots": {"mock": s}}).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@fuzz(300)
@given(raw=cache_files)
def test_damaged_cache_is_set_aside_or_valid(tmp_path_factory, raw: bytes) -> None:
    folder = tmp_path_factory.mktemp("cache")
    path = folder / "snapshots.json"
    path.write_bytes(raw)
    warnings: list[str] = []
    cache = SnapshotCache(path, warn=warnings.append)
    loaded = cache.load()
    for snap in loaded.values():
        check_snapshot(to_json(snap) | {"pace": None})
    if not loaded and not _empty_cache(raw):
        assert not path.exists(), "a corrupt cache must be moved aside"
        assert list(folder.glob("snapshots.json.corrupt-*")) and warnings
    # Whatever was loaded can be written back and read again (no poisoned entry).
    cache.update([GOOD])
    again = SnapshotCache(path).load()
    kept = loaded.get("mock")
    newer = kept is not None and (  # the newer fetchedAt wins (compared as moments, not text)
        parse_timestamp(kept.fetched_at) > parse_timestamp(GOOD.fetched_at)
    )
    assert to_json(again["mock"]) == (to_json(kept) if newer else GOOD_JSON)
    for snap in again.values():
        check_snapshot(to_json(snap) | {"pace": None})


def _empty_cache(raw: bytes) -> bool:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return data == {"version": 1, "snapshots": {}}


history_lines = st.lists(
    st.one_of(
        st.just(GOOD_LINE),
        damaged_bytes(GOOD_LINE),
        mutated_snapshot().map(lambda s: json.dumps(s).encode()),
    ),
    max_size=6,
)


@fuzz(300)
@given(lines=history_lines)
def test_damaged_history_lines_are_skipped_and_counted(tmp_path_factory, lines) -> None:
    folder = tmp_path_factory.mktemp("history")
    history = History(folder / "history.jsonl")
    body = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    history.path.write_bytes(body)
    read = history.read()
    for record in read.records:  # exported as they are, and as snapshots
        json.dumps(record, ensure_ascii=False).encode("utf-8")
        check_snapshot(to_json(snapshot_from_json(record)) | {"pace": None})
    nonblank = sum(1 for line in body.split(b"\n") if line.strip())
    assert len(read.records) + read.skipped_lines == nonblank
    # Appending after damage starts on a fresh line: the new record is readable.
    history.append([GOOD])
    after = history.read()
    assert len(after.records) == len(read.records) + 1
    assert after.records[-1]["instanceId"] == "mock"


def test_rotated_history_is_read_too(tmp_path: Path) -> None:
    history = History(tmp_path / "history.jsonl", rotate_bytes=int(len(GOOD_LINE) * 2.5))
    for _ in range(5):
        history.append([GOOD])
    assert history.rotated_path.exists()
    history.rotated_path.write_bytes(history.rotated_path.read_bytes()[:-7])  # torn tail
    read = history.read()
    assert (len(read.records), read.skipped_lines) == (4, 1)
