"""A child process that writes ``snapshots.json`` and ``history.jsonl`` as fast as it can.

``python crashwriter.py DATA_DIR FIRST_SEQ`` loops forever: write round ``seq``
to the cache (every instance gets a fetchedAt derived from ``seq``), append one
history line for it, then print ``ack <seq>`` once both calls returned. The
crash-safety tests kill it with SIGKILL at random moments and check what is
left on disk against the acknowledgements.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from usagestat.core.cache import SnapshotCache
from usagestat.core.history import History
from usagestat.core.models import MetricFormat, ProgressLine, TextLine, UsageSnapshot
from usagestat.core.timeutil import format_timestamp

INSTANCES = 8
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def stamp(seq: int) -> str:
    """The fetchedAt of round ``seq`` (one second per round: ordered, comparable)."""
    return format_timestamp(EPOCH + timedelta(seconds=seq))


def snapshot(instance: int, seq: int, notes: int = 40) -> UsageSnapshot:
    # ~40 lines per instance: a cache write is a few hundred KiB, long enough to be hit.
    lines = [TextLine(f"note {n}", "x" * 200) for n in range(notes)]
    return UsageSnapshot(
        provider_id="crash",
        instance_id=f"crash-{instance}",
        display_name="Crash",
        source="api",
        metrics=[ProgressLine("Round", float(seq), 1e12, MetricFormat("percent")), *lines],
        fetched_at=stamp(seq),
    )


def main() -> None:
    data = Path(sys.argv[1])
    seq = int(sys.argv[2])
    cache = SnapshotCache(data / "snapshots.json", warn=lambda m: print("warn", m, flush=True))
    history = History(data / "history.jsonl")
    while True:
        cache.update([snapshot(i, seq) for i in range(INSTANCES)])
        history.append([snapshot(seq % INSTANCES, seq, notes=2)])  # small: 10 000s of lines
        print(f"ack {seq}", flush=True)
        seq += 1


if __name__ == "__main__":
    main()
