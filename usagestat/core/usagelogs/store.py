"""The on-disk incremental index: one file per (provider, log root) under ``<data>/log-index/``.

``<provider>-<sha256(root)[:16]>.json`` holds a fixed-width first line
``USL2 <header length> <header crc32> <blob crc32>`` and two JSON documents:

* the **header**, all a repeat scan needs: per file its dev, inode, size,
  mtime and read position, and the usage per (local date, model, prompt-size
  class) for the time zone it was written in (``days``).
* the **blob**, decoded only when some file changed or the time zone differs:
  token totals per (UTC quarter-hour, model, prompt-size class) for every file
  ever indexed under the root (``agg``) — quarter-hours, not local days, keep
  the index valid across time-zone changes: every zone offset is a multiple of
  15 minutes, so each quarter-hour falls on exactly one local date — and per
  file the 32 bytes before the read position (to notice a rewritten file), the
  partial last line, 64-bit hashes of the message ids it contributed (dedup),
  its own rows, the last few messages (to merge late streamed duplicates) and
  reader state (Codex: model, previous cumulative totals); plus the keys of
  retired files.

A file that vanished or was rewritten is *retired*: its usage stays in ``agg``
(spend does not un-happen when Claude Code deletes old sessions) and its keys
keep deduplicating. Writes are atomic (temp file + rename) under
``<name>.lock``; a file failing its checksum or shape checks is rebuilt.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 2
MAGIC = b"USL2 "
_HEAD = len(b"USL2 0000000000 00000000 00000000\n")

RowKey = tuple[int, int, int]  # (quarter-hour since epoch UTC, model index, prompt-size class)


class IndexCorrupt(Exception):
    """The index does not decode; the caller rebuilds it from the logs."""


def _keys_from_b64(blob: str) -> array:
    keys = array("Q")
    if blob:
        keys.frombytes(base64.b64decode(blob))
        if sys.byteorder != "little":  # pragma: no cover - big-endian hosts only
            keys.byteswap()
    return keys


def _keys_to_b64(keys: array) -> str:
    if not keys:
        return ""
    if sys.byteorder != "little":  # pragma: no cover
        keys = array("Q", keys)
        keys.byteswap()
    return base64.b64encode(keys.tobytes()).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def tz_key() -> str:
    """Identifies the local time zone, to know whether cached local-date rows still apply."""
    tz = os.environ.get("TZ")
    if tz is None:
        tz = os.path.realpath("/etc/localtime") if os.path.exists("/etc/localtime") else ""
    return f"{tz}|{time.tzname}|{time.timezone}|{time.altzone}|{time.daylight}"


DayKey = tuple[str, int, int]  # (local date, model index, prompt-size class)


def day_rows(agg: dict[RowKey, list[int]]) -> dict[DayKey, list[int]]:
    """Quarter-hour rows folded into local dates of the current time zone."""
    out: dict[DayKey, list[int]] = {}
    day_of: dict[int, str] = {}
    localtime = time.localtime
    for (qh, mid, tier), row in agg.items():
        day = day_of.get(qh)
        if day is None:
            t = localtime(qh * 900)
            day = day_of[qh] = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
        key = (day, mid, tier)
        target = out.get(key)
        if target is None:
            out[key] = list(row)
        else:
            for i in range(5):
                target[i] += row[i]
    return out


@dataclass
class FileState:
    dev: int
    ino: int
    size: int
    mtime: int
    offset: int = 0  # end of the last complete line
    pos: int = 0  # bytes consumed (offset + len(carry) when the carry is kept)
    skipping: int = 0  # inside an over-long line being discarded (2: it looked like usage)
    skipped: int = 0
    # Blob part (valid once the index's blob is loaded, or for a file created in this scan):
    anchor: bytes = b""  # up to 32 bytes before ``offset``
    carry: bytes = b""
    keys: array = field(default_factory=lambda: array("Q"))
    detail: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> dict[RowKey, list[int]]:
        out: dict[RowKey, list[int]] = {}
        for row in self.detail.get("rows", []):
            out[(row[0], row[1], row[2])] = list(row[3:8])
        return out

    def header_json(self) -> list[int]:
        return [
            self.dev,
            self.ino,
            self.size,
            self.mtime,
            self.offset,
            self.pos,
            self.skipping,
            self.skipped,
        ]

    def blob_json(self) -> list[Any]:
        return [_b64(self.anchor), _b64(self.carry), _keys_to_b64(self.keys), self.detail]

    @classmethod
    def from_header(cls, obj: Any) -> FileState:
        if type(obj) is not list or len(obj) != 8 or any(type(v) is not int or v < 0 for v in obj):
            raise IndexCorrupt("bad file entry")
        state = cls(*obj[:4], offset=obj[4], pos=obj[5], skipping=obj[6], skipped=obj[7])
        if state.offset > state.pos:
            raise IndexCorrupt("file entry offsets disagree")
        return state

    def load_blob(self, obj: Any) -> None:
        try:
            anchor, carry, keys, detail = obj
            self.anchor = base64.b64decode(anchor)
            self.carry = base64.b64decode(carry)
            self.keys = _keys_from_b64(keys)
        except (TypeError, ValueError) as exc:
            raise IndexCorrupt(f"bad file blob: {exc}")
        if type(detail) is not dict:
            raise IndexCorrupt("bad file detail")
        self.detail = detail
        if self.pos - self.offset != len(self.carry):
            raise IndexCorrupt("file carry disagrees with its offsets")


@dataclass
class RootIndex:
    provider: str
    root: str
    boundaries: tuple[int, ...]
    models: list[str] = field(default_factory=list)
    files: dict[str, FileState] = field(default_factory=dict)
    retired_skipped: int = 0
    dirty: bool = False
    _agg: dict[RowKey, list[int]] = field(default_factory=dict, repr=False)
    _retired_keys: array = field(default_factory=lambda: array("Q"), repr=False)
    _days: dict[DayKey, list[int]] | None = field(default=None, repr=False)
    _days_tz: str = ""
    _blob: bytes | None = field(default=None, repr=False)  # undecoded blob (None: decoded or new)
    _blob_crc: int = 0
    _model_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def model_id(self, name: str) -> int:
        if len(self._model_ids) != len(self.models):
            self._model_ids = {n: i for i, n in enumerate(self.models)}
        index = self._model_ids.get(name)
        if index is None:
            index = len(self.models)
            self.models.append(name)
            self._model_ids[name] = index
        return index

    @property
    def agg(self) -> dict[RowKey, list[int]]:
        self.load_blob()
        self._days = None  # the caller may change it
        return self._agg

    def days(self) -> dict[DayKey, list[int]]:
        """Usage per (local date, model, class) in the current time zone (cached in the header)."""
        key = tz_key()
        if self._days is None or self._days_tz != key:
            self.load_blob()
            self._days = day_rows(self._agg)
            self._days_tz = key
        return self._days

    def needs_blob(self) -> bool:
        """Whether :meth:`days` must decode the blob (the cached days are for another time zone)."""
        return self._blob is not None and (self._days is None or self._days_tz != tz_key())

    @property
    def retired_keys(self) -> array:
        self.load_blob()
        return self._retired_keys

    def load_blob(self) -> None:
        """Decode the quarter-hour rows and per-file detail; needed before anything changes."""
        if self._blob is None:
            return
        blob = self._blob
        if zlib.crc32(blob) != self._blob_crc:
            raise IndexCorrupt("blob checksum mismatch")  # and again on every later call
        try:
            doc = json.loads(blob)
            nmodels = len(self.models)
            flat = doc["agg"]
            if len(flat) % 8:
                raise IndexCorrupt("bad aggregate rows")
            agg: dict[RowKey, list[int]] = {}
            for i in range(0, len(flat), 8):
                if not 0 <= flat[i + 1] < nmodels:
                    raise IndexCorrupt("aggregate row names an unknown model")
                agg[(flat[i], flat[i + 1], flat[i + 2])] = flat[i + 3 : i + 8]
            self._agg = agg
            self._retired_keys = _keys_from_b64(doc["retiredKeys"])
            entries = doc["files"]
            if set(entries) != set(self.files):
                raise IndexCorrupt("blob and header list different files")
            for rel, state in self.files.items():
                state.load_blob(entries[rel])
        except IndexCorrupt:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(f"bad blob: {exc}")
        self._blob = None

    def retire(self, rel: str) -> None:
        """Forget a file's position but keep its usage (in ``agg``) and its keys (for dedup)."""
        self.load_blob()
        state = self.files.pop(rel)
        self._retired_keys.extend(state.keys)
        self.retired_skipped += state.skipped
        self.dirty = True

    def all_keys(self) -> array:
        self.load_blob()
        keys = array("Q", self._retired_keys)
        for state in self.files.values():
            keys.extend(state.keys)
        return keys

    @property
    def skipped_lines(self) -> int:
        return self.retired_skipped + sum(s.skipped for s in self.files.values())

    # -- (de)serialisation ---------------------------------------------------------------
    def to_bytes(self) -> bytes:
        names = sorted(self.files)
        days = self.days() if self._blob is None else (self._days or {})
        header = {
            "version": VERSION,
            "provider": self.provider,
            "root": self.root,
            "boundaries": list(self.boundaries),
            "models": self.models,
            "retiredSkipped": self.retired_skipped,
            "files": {rel: self.files[rel].header_json() for rel in names},
            "days": {
                "tz": self._days_tz,
                "rows": [v for k, r in days.items() if any(r) for v in (*k, *r)],
            },
        }
        head = json.dumps(header, separators=(",", ":")).encode()
        if self._blob is not None:  # untouched since loading: keep it byte for byte
            blob = self._blob
            blob_crc = self._blob_crc  # not recomputed: damage stays detectable
        else:
            doc = {
                "agg": [v for k, r in self._agg.items() if any(r) for v in (*k, *r)],
                "retiredKeys": _keys_to_b64(self._retired_keys),
                "files": {rel: self.files[rel].blob_json() for rel in names},
            }
            blob = json.dumps(doc, separators=(",", ":")).encode()
            blob_crc = zlib.crc32(blob)
        first = f"{len(head):010d} {zlib.crc32(head):08x} {blob_crc:08x}\n".encode()
        return MAGIC + first + head + blob

    @classmethod
    def from_bytes(cls, data: bytes, provider: str, root: str) -> RootIndex:
        if not data.startswith(MAGIC) or len(data) < _HEAD or data[_HEAD - 1 : _HEAD] != b"\n":
            raise IndexCorrupt("bad header line")
        try:
            head_len = int(data[5:15])
            head_crc = int(data[16:24], 16)
            blob_crc = int(data[25:33], 16)
        except ValueError:
            raise IndexCorrupt("bad header line")
        head = data[_HEAD : _HEAD + head_len]
        if len(head) != head_len or zlib.crc32(head) != head_crc:
            raise IndexCorrupt("header checksum mismatch")
        try:
            doc = json.loads(head)
            if doc["version"] != VERSION or doc["provider"] != provider or doc["root"] != root:
                raise IndexCorrupt("index belongs to another version, provider or root")
            boundaries = tuple(int(b) for b in doc["boundaries"])
            models = [str(m) for m in doc["models"]]
            retired_skipped = int(doc["retiredSkipped"])
            files = {str(rel): FileState.from_header(obj) for rel, obj in doc["files"].items()}
            days_doc = doc["days"]
            flat = days_doc["rows"]
            if len(flat) % 8:
                raise IndexCorrupt("bad day rows")
            nmodels = len(models)
            days: dict[DayKey, list[int]] = {}
            for i in range(0, len(flat), 8):
                # Shape only: the checksum already vouches for the bytes we wrote.
                if type(flat[i]) is not str or not 0 <= flat[i + 1] < nmodels:
                    raise IndexCorrupt("bad day row")
                days[(flat[i], flat[i + 1], flat[i + 2])] = flat[i + 3 : i + 8]
            days_tz = str(days_doc["tz"])
        except IndexCorrupt:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexCorrupt(f"bad index document: {exc}")
        index = cls(
            provider=provider,
            root=root,
            boundaries=boundaries,
            models=models,
            files=files,
            retired_skipped=retired_skipped,
        )
        index._days = days
        index._days_tz = days_tz
        index._blob = data[_HEAD + head_len :]
        index._blob_crc = blob_crc
        return index


def load_index(path: Path, provider: str, root: str, boundaries: tuple[int, ...]) -> RootIndex:
    """The stored index, or a fresh one when it is missing, corrupt or built for other boundaries."""
    try:
        data = path.read_bytes()
    except OSError:
        return RootIndex(provider, root, boundaries)
    try:
        index = RootIndex.from_bytes(data, provider, root)
    except IndexCorrupt:
        index = None
    if index is None or index.boundaries != boundaries:
        fresh = RootIndex(provider, root, boundaries)
        fresh.dirty = True
        return fresh
    return index
