"""When each instance is probed: a ``sched`` timeline feeding a bounded pool of probe threads.

Every enabled instance has one pending event on the timeline. When it fires the
instance joins the ready queue, and one of ``maxParallel`` probe threads runs
it (each probe is a child process with its own deadline, so a hung plugin
holds one thread until its deadline and the others keep flowing). An instance
is never probed twice at once.

Cadence after a probe (SPEC §8):

* ``max(refreshSec, minIntervalSec)`` from the start of the previous probe;
* never before ``Retry-After`` / ``retryAfterSec`` has passed;
* after *n* consecutive failures, not before ``min(30 min, 10 s · 2^(n−1))``
  scaled by a random 0.8–1.0 (jitter, so many instances failing together do
  not retry in lock-step).

A manual refresh (``POST /v1/refresh``, ``?refresh=true``) skips the wait for
``refreshSec`` but not ``minIntervalSec``, Retry-After or the backoff window.
"""

from __future__ import annotations

import random
import sched
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from usagestat.plugins.instances import Instance
from usagestat.plugins.probe import ProbeOutcome

from .log import Log
from .store import Store

BACKOFF_BASE_SEC = 10.0
BACKOFF_CAP_SEC = 30 * 60.0
MAX_RETRY_AFTER_SEC = 24 * 3600.0

ProbeFn = Callable[[Instance], ProbeOutcome]


def backoff_delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to hold an instance after ``failures`` consecutive failures (0 for none)."""
    if failures <= 0:
        return 0.0
    raw = min(BACKOFF_CAP_SEC, BACKOFF_BASE_SEC * 2.0 ** min(failures - 1, 30))
    return raw * (rng or random).uniform(0.8, 1.0)


@dataclass
class Slot:
    """Scheduling state of one instance (monotonic clock)."""

    instance: Instance
    event: sched.Event | None = None
    running: bool = False
    queued: bool = False
    started_at: float | None = None
    min_until: float = 0.0  # minIntervalSec since the last probe
    hold_until: float = 0.0  # backoff or Retry-After
    failures: int = 0
    completed: int = 0  # probes finished; changes with ``running`` under the lock


class Scheduler:
    def __init__(
        self, store: Store, log: Log, run_probe: ProbeFn, *, threads: int, refresh_sec: float
    ) -> None:
        self.store = store
        self.log = log
        self.run_probe = run_probe
        self.refresh_sec = float(refresh_sec)
        self._threads = max(1, threads)
        self._lock = threading.Condition()
        self._done = threading.Condition(self._lock)
        self._wake = threading.Condition()
        self._kicked = False
        self._stopping = False
        self._timeline = sched.scheduler(time.monotonic, self._delay)
        self._slots: dict[str, Slot] = {}
        self._ready: deque[str] = deque()
        self._workers: dict[int, threading.Thread] = {}
        self._dispatcher: threading.Thread | None = None

    # -- timeline ---------------------------------------------------------------
    def _delay(self, seconds: float) -> None:
        """``sched``'s sleep: wakes early when an earlier event is entered or on stop."""
        with self._wake:
            if not self._kicked and not self._stopping and seconds > 0:
                self._wake.wait(min(seconds, 60.0))
            self._kicked = False

    def _kick(self) -> None:
        with self._wake:
            self._kicked = True
            self._wake.notify()

    def _dispatch_loop(self) -> None:
        while not self._stopping:
            try:
                self._timeline.run()
            except Exception as exc:  # pragma: no cover - a bug, but polling must go on
                self.log.error(f"scheduler: {exc!r}")
            self._delay(1.0)

    def _schedule(self, slot: Slot, at: float) -> None:
        """(Re)place the slot's single pending event; caller holds ``_lock``."""
        self._cancel(slot)
        slot.event = self._timeline.enterabs(at, 0, self._due, (slot.instance.instance_id,))
        self._kick()

    def _cancel(self, slot: Slot) -> None:
        if slot.event is not None:
            try:
                self._timeline.cancel(slot.event)
            except ValueError:
                pass  # already fired
            slot.event = None

    def _due(self, instance_id: str) -> None:
        with self._lock:
            slot = self._slots.get(instance_id)
            if slot is None or self._stopping:
                return
            slot.event = None
            self._enqueue(slot)

    def _enqueue(self, slot: Slot) -> None:
        if slot.running or slot.queued:
            return
        slot.queued = True
        self._ready.append(slot.instance.instance_id)
        self._lock.notify()

    # -- probe threads --------------------------------------------------------------
    def _work(self, index: int) -> None:
        while True:
            with self._lock:
                while not self._ready and not self._stopping and index < self._threads:
                    self._lock.wait()
                if self._stopping or index >= self._threads:
                    if self._workers.get(index) is threading.current_thread():
                        del self._workers[index]
                    return
                instance_id = self._ready.popleft()
                slot = self._slots.get(instance_id)
                if slot is None or not slot.queued:
                    continue
                slot.queued = False
                slot.running = True
                slot.started_at = time.monotonic()
                interval = slot.instance.min_interval_sec or 0.0
                slot.min_until = slot.started_at + interval
                instance = slot.instance
            outcome: ProbeOutcome | None
            try:
                outcome = self.run_probe(instance)
            except Exception as exc:  # probe_instance never raises; be safe anyway
                self.log.error(f"[{instance_id}] probe crashed: {exc!r}")
                outcome = None
            with self._lock:
                # publish and count in one step (see Store.publish)
                published = (
                    outcome is not None and not self._stopping and self.store.publish(outcome)
                )
                slot.running = False
                slot.completed += 1
                self._done.notify_all()
                if not self._stopping and self._slots.get(instance_id) is slot:
                    self._after(slot, outcome)
            if published and outcome is not None:
                self.store.append_history(outcome.snapshot)
                self._log_outcome(outcome)

    def _log_outcome(self, outcome: ProbeOutcome) -> None:
        snap = outcome.snapshot
        if snap.error is not None:
            self.log.warn(
                f"[{snap.instance_id}] {snap.error.code}: {snap.error.message} ({outcome.duration_sec:.2f}s)"
            )
        elif self.log.enabled("debug"):
            self.log.debug(f"[{snap.instance_id}] ok ({outcome.duration_sec:.2f}s)")

    def _after(self, slot: Slot, outcome: ProbeOutcome | None) -> None:
        """Schedule the next probe of a slot that just finished; caller holds ``_lock``."""
        now = time.monotonic()
        failed = outcome is None or outcome.snapshot.is_error
        if failed:
            slot.failures += 1
            slot.hold_until = now + backoff_delay(slot.failures)
        else:
            if slot.failures:
                self.log.info(
                    f"[{slot.instance.instance_id}] recovered after {slot.failures} failure(s)"
                )
            slot.failures = 0
            slot.hold_until = 0.0
        retry = outcome.retry_after_sec if outcome is not None else None
        if retry:
            slot.hold_until = max(slot.hold_until, now + min(float(retry), MAX_RETRY_AFTER_SEC))
        started = slot.started_at if slot.started_at is not None else now
        self._schedule(slot, max(started + self.interval(slot.instance), slot.hold_until, now))

    def interval(self, instance: Instance) -> float:
        return max(self.refresh_sec, float(instance.min_interval_sec or 0.0))

    def _ensure_workers(self) -> None:
        for index in range(self._threads):
            thread = self._workers.get(index)
            if thread is None or not thread.is_alive():
                thread = threading.Thread(
                    target=self._work, args=(index,), name=f"probe-{index}", daemon=True
                )
                self._workers[index] = thread
                thread.start()

    # -- control -----------------------------------------------------------------
    def configure(
        self,
        instances: Iterable[Instance],
        *,
        refresh_sec: float | None = None,
        threads: int | None = None,
        last_fetch_age: Callable[[str], float | None] | None = None,
    ) -> None:
        """Adopt a new set of enabled instances (start-up and SIGHUP).

        Kept instances keep their timing but lose any backoff (a reload is the
        user saying "I fixed it"); new ones are due now, or when the cached
        snapshot is older than the provider's ``minIntervalSec``.
        """
        with self._lock:
            if refresh_sec is not None:
                self.refresh_sec = float(refresh_sec)
            if threads is not None:
                self._threads = max(1, threads)
                self._lock.notify_all()
            now = time.monotonic()
            slots: dict[str, Slot] = {}
            for inst in instances:
                slot = self._slots.pop(inst.instance_id, None)
                if slot is not None:
                    slot.instance = inst
                    slot.failures = 0
                    slot.hold_until = 0.0
                    if not slot.running and not slot.queued:
                        base = (
                            slot.started_at + self.interval(inst)
                            if slot.started_at is not None
                            else now
                        )
                        self._schedule(slot, max(now, base, slot.min_until))
                else:
                    slot = Slot(inst)
                    age = last_fetch_age(inst.instance_id) if last_fetch_age else None
                    if age is not None and inst.min_interval_sec:
                        slot.min_until = now + max(0.0, inst.min_interval_sec - age)
                    self._schedule(slot, max(now, slot.min_until))
                slots[inst.instance_id] = slot
            for gone in self._slots.values():
                self._cancel(gone)
            self._slots = slots
            if self._dispatcher is not None:
                self._ensure_workers()

    def start(self) -> None:
        with self._lock:
            self._ensure_workers()
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="scheduler", daemon=True
        )
        self._dispatcher.start()

    def request(self, instances: Iterable[Instance]) -> list[str]:
        """Probe now where allowed; returns the instanceIds that will report a new result."""
        with self._lock:
            return list(self._request(instances))

    def _request(self, instances: Iterable[Instance]) -> dict[str, int]:
        """Queue what may be probed; {instanceId: completions so far}. Caller holds ``_lock``.

        An instance already queued or running is listed too: its result is on the way.
        """
        queued: dict[str, int] = {}
        now = time.monotonic()
        for inst in instances:
            slot = self._slots.get(inst.instance_id)
            if slot is None:
                continue
            if not (slot.running or slot.queued):
                if now < slot.hold_until or now < slot.min_until:
                    continue
                self._cancel(slot)
                self._enqueue(slot)
            queued[inst.instance_id] = slot.completed
        return queued

    def refresh_and_wait(
        self, instances: Iterable[Instance], timeout: Callable[[Instance], float]
    ) -> list[str]:
        """``?refresh=true``: queue like :meth:`request`, then wait for those results.

        The wait is bounded by the longest probe deadline among the queued
        instances; on timeout the caller serves what it has.
        """
        with self._lock:
            targets = self._request(instances)
            if not targets:
                return []
            deadline = time.monotonic() + max(timeout(self._slots[i].instance) for i in targets)

            def pending() -> bool:
                return any(
                    (slot := self._slots.get(i)) is not None and slot.completed <= count
                    for i, count in targets.items()
                )

            while pending() and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._done.wait(left)
        return list(targets)

    def is_active(self, instance_id: str) -> bool:
        """True when a probe of this instance is queued or running."""
        slot = self._slots.get(instance_id)
        return slot is not None and (slot.running or slot.queued)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for slot in self._slots.values():
                self._cancel(slot)
            self._ready.clear()
            self._lock.notify_all()
            self._done.notify_all()
        self._kick()
