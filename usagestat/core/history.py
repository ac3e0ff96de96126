"""``history.jsonl``: one line per probe result, errors included (SPEC §6).

Written by ``usage --save`` and by the daemon with one schema: the snapshot
plus ``ts``. Appends are locked; at 50 MiB the file becomes ``history.jsonl.1``
(one generation kept) and readers read both. Bad lines are skipped and counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import paths
from .atomicio import append_lines_locked, locked
from .models import UsageSnapshot
from .serialize import snapshot_from_json, to_json
from .timeutil import parse_timestamp

ROTATE_BYTES = 50 * 1024 * 1024


def record_json(snapshot: UsageSnapshot) -> dict:
    data = to_json(snapshot)
    data["ts"] = snapshot.fetched_at
    return data


@dataclass
class HistoryRead:
    records: list[dict]
    skipped_lines: int


class History:
    def __init__(self, path: Path | None = None, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.path = Path(path) if path else paths.history_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.rotated_path = self.path.with_name(self.path.name + ".1")
        self.rotate_bytes = rotate_bytes

    def append(self, snapshots: Iterable[UsageSnapshot]) -> None:
        lines = [
            json.dumps(record_json(snap), separators=(",", ":"), ensure_ascii=False)
            for snap in snapshots
        ]
        if not lines:
            return
        paths.ensure_private_dir(self.path.parent)
        self._maybe_rotate()
        append_lines_locked(self.path, lines, self.lock_path)

    def _maybe_rotate(self) -> None:
        try:
            if self.path.stat().st_size < self.rotate_bytes:
                return
        except FileNotFoundError:
            return
        with locked(self.lock_path):
            try:
                if self.path.stat().st_size >= self.rotate_bytes:
                    os.replace(self.path, self.rotated_path)
            except FileNotFoundError:
                pass

    def files(self) -> list[Path]:
        return [p for p in (self.rotated_path, self.path) if p.exists()]

    def iter_lines(self) -> Iterator[tuple[dict | None, str]]:
        for file in self.files():
            try:
                handle = open(file, "rb")  # noqa: SIM115 - closed by the with below
            except OSError:
                continue
            with handle:
                for raw in handle:
                    try:
                        data = json.loads(raw)
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        if raw.strip():
                            yield None, "bad"
                        continue
                    yield (data if isinstance(data, dict) else None), "ok"

    def read(self, since: datetime | None = None, provider: str | None = None) -> HistoryRead:
        """Records at or after ``since`` (and of one provider/instance), oldest first.

        Sorted by time, not taken in file order: the CLI and the daemon append
        side by side, each a result as it lands, so a slow probe's line can
        follow a newer one.
        """
        records: list[tuple[datetime, dict]] = []
        skipped = 0
        for data, _ in self.iter_lines():
            if data is None:
                skipped += 1
                continue
            moment = parse_timestamp(data.get("ts"))
            if moment is None:
                skipped += 1
                continue
            try:
                snapshot_from_json(data)
            except (ValueError, TypeError, KeyError, AttributeError):
                skipped += 1
                continue
            if since is not None and moment < since:
                continue
            if provider and provider not in (data.get("providerId"), data.get("instanceId")):
                continue
            records.append((moment, data))
        records.sort(key=lambda pair: pair[0])  # stable: equal moments keep file order
        return HistoryRead([data for _, data in records], skipped)

    def clear(self) -> bool:
        removed = False
        with locked(self.lock_path):
            for file in (self.path, self.rotated_path):
                try:
                    file.unlink()
                    removed = True
                except FileNotFoundError:
                    pass
        return removed
