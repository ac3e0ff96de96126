"""``snapshots.json``: the last good snapshot of every instance (SPEC §6).

CLI and daemon both write it. Each write re-reads the file under
``snapshots.json.lock`` and merges per instance, the newer ``fetchedAt``
winning, then replaces the file atomically. Failures never replace good data;
they are recorded as ``lastError`` beside it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from . import paths
from .atomicio import atomic_write_text, locked
from .models import LastError, UsageSnapshot
from .serialize import snapshot_from_json, to_json
from .timeutil import format_timestamp, now_utc, parse_timestamp

FORMAT_VERSION = 1
Warn = Callable[[str], None]


def _ignore(_message: str) -> None:
    pass


class SnapshotCache:
    def __init__(self, path: Path | None = None, warn: Warn = _ignore) -> None:
        self.path = Path(path) if path else paths.snapshots_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.warn = warn

    # -- reading ---------------------------------------------------------
    def load(self) -> dict[str, UsageSnapshot]:
        """Every cached snapshot by instanceId; a corrupt file is set aside, never fatal."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self.warn(f"cannot read {self.path}: {exc.strerror or exc}")
            return {}
        try:
            return self._decode(raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._set_aside(str(exc))
            return {}

    @staticmethod
    def _decode(raw: bytes) -> dict[str, UsageSnapshot]:
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:  # nesting deeper than the interpreter's limit
            raise ValueError("nested too deeply")
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError("unknown format version")
        entries = data.get("snapshots")
        if not isinstance(entries, dict):
            raise ValueError("snapshots: expected an object")
        return {key: snapshot_from_json(value) for key, value in entries.items()}

    def _set_aside(self, reason: str) -> None:
        stamp = format_timestamp(now_utc()).replace(":", "").replace("-", "")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
            self.warn(
                f"{self.path} was corrupt ({reason}); moved it to {target.name} and started afresh"
            )
        except OSError as exc:
            self.warn(f"{self.path} is corrupt ({reason}) and could not be moved aside: {exc}")

    # -- writing ---------------------------------------------------------
    def update(
        self,
        successes: Iterable[UsageSnapshot] = (),
        failures: Iterable[tuple[str, LastError]] = (),
    ) -> dict[str, UsageSnapshot]:
        """Merge good snapshots and failures into the file; return the merged view.

        A success replaces the cached entry unless the cached one is newer (and
        clears ``lastError``). A failure only sets ``lastError`` on an existing
        entry; with nothing cached there is nothing to keep it beside.
        """
        successes = list(successes)
        failures = list(failures)
        if not successes and not failures:
            return self.load()
        paths.ensure_private_dir(self.path.parent)
        with locked(self.lock_path):
            current = self.load()
            changed = False
            for snap in successes:
                if snap.is_error:
                    continue
                old = current.get(snap.instance_id)
                if old is not None and _newer(old.fetched_at, snap.fetched_at):
                    continue
                stored = _stored_form(snap)
                current[snap.instance_id] = stored
                changed = True
            for instance_id, error in failures:
                old = current.get(instance_id)
                if old is None:
                    continue
                if old.last_error is None or not _newer(old.last_error.at, error.at):
                    old.last_error = error
                    changed = True
            if changed:
                self._write(current)
            return current

    def _write(self, snapshots: dict[str, UsageSnapshot]) -> None:
        """Replace the file (the caller holds the lock)."""
        # Temp files are only written under the lock: any present now belongs to a
        # writer that was killed mid-write and would otherwise pile up.
        for orphan in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            try:
                orphan.unlink()
            except OSError:
                pass
        payload = {
            "version": FORMAT_VERSION,
            "snapshots": {key: to_json(snap) for key, snap in sorted(snapshots.items())},
        }
        atomic_write_text(self.path, json.dumps(payload, separators=(",", ":"), ensure_ascii=False))

    def clear(self, instance_ids: Iterable[str] | None = None) -> bool:
        """Remove all entries, or only the given instances; True when anything was removed."""
        if instance_ids is None:
            with locked(self.lock_path):
                try:
                    self.path.unlink()
                    return True
                except FileNotFoundError:
                    return False
        wanted = set(instance_ids)
        with locked(self.lock_path):
            current = self.load()
            kept = {key: snap for key, snap in current.items() if key not in wanted}
            if len(kept) == len(current):
                return False
            self._write(kept)
            return True


def _newer(a: str, b: str) -> bool:
    """True when timestamp ``a`` is strictly later than ``b``."""
    pa, pb = parse_timestamp(a), parse_timestamp(b)
    if pa is None or pb is None:
        return False
    return pa > pb


def _stored_form(snap: UsageSnapshot) -> UsageSnapshot:
    """What goes to disk: the data as probed (pace and stale are recomputed on output)."""
    from dataclasses import replace

    return replace(snap, pace=None, stale=False, last_error=None, status=None)


def with_staleness(snap: UsageSnapshot) -> UsageSnapshot:
    """Mark a cached snapshot ``stale`` when a failure newer than its data is recorded."""
    from dataclasses import replace

    stale = snap.last_error is not None and _newer(snap.last_error.at, snap.fetched_at)
    return replace(snap, stale=stale)
