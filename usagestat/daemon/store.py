"""What the daemon knows: the last good snapshot of each instance, its latest failure, stats.

Readers (HTTP threads) and writers (probe threads) meet here. A probe result
is visible to readers the moment :meth:`Store.publish` returns (the scheduler
calls it under its own lock, then :meth:`Store.append_history`). Failures never
replace good data: they become ``lastError`` beside it and mark it ``stale``
(an instance that never succeeded shows its error snapshot instead).

Serialised bodies are cached per store version and clock second, so a status
bar polling ``/v1/usage`` costs a dictionary lookup, while pace still follows
the current clock. ``snapshots.json`` is written by a background thread,
debounced, through :class:`~usagestat.core.cache.SnapshotCache` (atomic,
merged with the CLI's writes); every result, errors included, is appended to
``history.jsonl`` as it lands.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from usagestat.core.cache import SnapshotCache, with_staleness
from usagestat.core.history import History
from usagestat.core.models import LastError, UsageSnapshot
from usagestat.core.pace import compute_pace
from usagestat.core.prometheus import ProbeStats, render
from usagestat.core.serialize import to_json
from usagestat.core.timeutil import format_timestamp, now_utc
from usagestat.plugins.instances import Instance
from usagestat.plugins.probe import ProbeOutcome

from .log import Log

DEBOUNCE_SEC = 2.0


def encode(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Record:
    """One instance's state; ``good`` is kept in stored form (no pace, not stale)."""

    good: UsageSnapshot | None = None
    last_error: LastError | None = None
    error_snapshot: UsageSnapshot | None = None
    duration_sec: float | None = None
    last_success: str | None = None
    errors_by_state: dict[str, int] = field(default_factory=dict)


class Store:
    def __init__(
        self,
        log: Log,
        cache: SnapshotCache | None = None,
        history: History | None = None,
        debounce_sec: float = DEBOUNCE_SEC,
    ) -> None:
        self.log = log
        self.cache = cache or SnapshotCache(warn=log.warn)
        self.history = history or History()
        self.debounce_sec = debounce_sec
        self._lock = threading.Lock()
        self._records: dict[str, Record] = {}
        self._instances: list[Instance] = []
        self.version = 0
        self.last_result_at: str | None = None
        self.closing = False
        self._usage: tuple[tuple[int, int], bytes] | None = None
        self._single: dict[str, tuple[tuple[int, int], bytes]] = {}
        self._metrics: tuple[int, bytes] | None = None
        self._pending_ok: dict[str, UsageSnapshot] = {}
        self._pending_fail: dict[str, LastError] = {}
        self._dirty = threading.Event()
        self._writer_stop = threading.Event()
        self._writer: threading.Thread | None = None

    # -- set-up ----------------------------------------------------------------
    def load_cache(self) -> int:
        """Seed from ``snapshots.json`` so a restarted daemon answers at once."""
        loaded = self.cache.load()
        with self._lock:
            for instance_id, snap in loaded.items():
                rec = self._records.setdefault(instance_id, Record())
                if rec.good is None and not snap.is_error:
                    rec.good = replace(snap, pace=None, stale=False, last_error=None, status=None)
                    rec.last_error = snap.last_error
                    rec.last_success = snap.fetched_at
            self._bump()
        return len(loaded)

    def set_instances(self, instances: Iterable[Instance]) -> None:
        """The enabled instances, in the order ``/v1/usage`` lists them."""
        with self._lock:
            self._instances = list(instances)
            self._bump()

    @property
    def instances(self) -> list[Instance]:
        return self._instances

    def find(self, wanted: str) -> Instance | None:
        """The instance with that instanceId, else the first enabled one of that provider."""
        instances = self._instances
        for inst in instances:
            if inst.instance_id == wanted:
                return inst
        for inst in instances:
            if inst.provider_id == wanted:
                return inst
        return None

    def select(self, wanted: str) -> list[Instance]:
        """An instanceId, else every enabled instance of that provider id."""
        instances = self._instances
        exact = [inst for inst in instances if inst.instance_id == wanted]
        return exact or [inst for inst in instances if inst.provider_id == wanted]

    # -- results ------------------------------------------------------------
    def record(self, outcome: ProbeOutcome) -> bool:
        """Make a probe result visible and append it to history; False when shutting down."""
        if not self.publish(outcome):
            return False
        self.append_history(outcome.snapshot)
        return True

    def publish(self, outcome: ProbeOutcome) -> bool:
        """Make a probe result visible to readers (memory only); False when shutting down.

        Split from :meth:`append_history` so the scheduler can publish and count
        a completion in one step: a ``?refresh=true`` reader must never count a
        probe whose result it has already seen.
        """
        snap = outcome.snapshot
        instance_id = snap.instance_id
        with self._lock:
            if self.closing:
                return False
            rec = self._records.setdefault(instance_id, Record())
            rec.duration_sec = outcome.duration_sec
            if snap.is_error:
                assert snap.error is not None
                failure = LastError(snap.error.code, snap.error.message, snap.fetched_at)
                rec.errors_by_state[failure.code] = rec.errors_by_state.get(failure.code, 0) + 1
                rec.error_snapshot = snap
                if rec.good is not None:
                    rec.last_error = failure
                    self._pending_fail[instance_id] = failure
            else:
                rec.good = replace(snap, pace=None, stale=False, last_error=None, status=None)
                rec.last_error = None
                rec.error_snapshot = None
                rec.last_success = snap.fetched_at
                self._pending_ok[instance_id] = rec.good
                self._pending_fail.pop(instance_id, None)
            self.last_result_at = format_timestamp(now_utc())
            self._bump()
        self._dirty.set()
        return True

    def append_history(self, snap: UsageSnapshot) -> None:
        try:
            self.history.append([snap])
        except Exception as exc:  # a full disk or a stuck lock must not stop polling
            self.log.warn(f"could not append to {self.history.path}: {exc}")

    def _bump(self) -> None:
        self.version += 1

    def has_result(self, instance_id: str) -> bool:
        rec = self._records.get(instance_id)
        return rec is not None and (rec.good is not None or rec.error_snapshot is not None)

    # -- output -------------------------------------------------------------
    def output(self, instance_id: str, now=None) -> UsageSnapshot | None:
        """The snapshot to serve: good data (maybe stale) or the latest error; None if pending."""
        rec = self._records.get(instance_id)
        if rec is None:
            return None
        good = rec.good
        if good is not None:
            now = now or now_utc()
            shown = with_staleness(replace(good, last_error=rec.last_error))
            shown.pace = compute_pace(shown.metrics, now)
            return shown
        return rec.error_snapshot

    def _clock_key(self) -> tuple[int, int]:
        return (self.version, int(time.time()))

    def usage_body(self) -> bytes:
        """``GET /v1/usage``: enabled instances with a result, in order (cached per second)."""
        key = self._clock_key()
        cached = self._usage
        if cached is not None and cached[0] == key:
            return cached[1]
        now = now_utc()
        snaps = [s for s in (self.output(i.instance_id, now) for i in self._instances) if s]
        body = encode(to_json(snaps))
        self._usage = (key, body)
        return body

    def instance_body(self, instance_id: str) -> bytes | None:
        key = self._clock_key()
        cached = self._single.get(instance_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        snap = self.output(instance_id)
        if snap is None:
            return None
        body = encode(to_json(snap))
        if len(self._single) > 1000:
            self._single.clear()
        self._single[instance_id] = (key, body)
        return body

    def metrics_body(self) -> bytes:
        version = self.version
        cached = self._metrics
        if cached is not None and cached[0] == version:
            return cached[1]
        now = now_utc()
        snaps = []
        stats: dict[str, ProbeStats] = {}
        for inst in self._instances:
            snap = self.output(inst.instance_id, now)
            if snap is None:
                continue
            snaps.append(snap)
            rec = self._records[inst.instance_id]
            stats[inst.instance_id] = ProbeStats(
                duration_sec=rec.duration_sec,
                last_success=rec.last_success,
                errors_by_state=dict(rec.errors_by_state),
            )
        body = render(snaps, stats).encode("utf-8")
        self._metrics = (version, body)
        return body

    # -- snapshots.json -----------------------------------------------------------
    def start_writer(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="cache-writer", daemon=True)
        self._writer.start()

    def _write_loop(self) -> None:
        while not self._writer_stop.is_set():
            self._dirty.wait()
            if self._writer_stop.is_set():
                return
            # Debounce: results of one polling wave land together; write once.
            self._writer_stop.wait(self.debounce_sec)
            self._dirty.clear()
            self.flush()

    def flush(self) -> None:
        """Write pending results to ``snapshots.json`` now (merge under its lock)."""
        with self._lock:
            successes, self._pending_ok = self._pending_ok, {}
            failures, self._pending_fail = self._pending_fail, {}
        if not successes and not failures:
            return
        try:
            self.cache.update(successes.values(), failures.items())
        except Exception as exc:
            self.log.warn(f"could not update {self.cache.path}: {exc}")
            with self._lock:  # keep them for the next attempt unless newer data arrived
                for key, snap in successes.items():
                    self._pending_ok.setdefault(key, snap)
                for key, failure in failures.items():
                    self._pending_fail.setdefault(key, failure)

    def close(self) -> None:
        """Stop accepting results, stop the writer and flush what is pending."""
        with self._lock:
            self.closing = True
        self._writer_stop.set()
        self._dirty.set()
        if self._writer is not None:
            self._writer.join(1.0)
        self.flush()
