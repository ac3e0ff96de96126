"""The on-disk incremental index: one file per (provider, log root) under ``<data>/log-index/``.

Layout (``<provider>-<sha256(root)[:16]>.json``): a first line ``USL1 <crc32>``
then one JSON document:

* ``agg`` — token totals per (UTC quarter-hour, model, prompt-size class) for
  every file ever indexed under the root. Quarter-hours (not local days) keep
  the index valid when the time zone changes: every zone offset is a multiple
  of 15 minutes, so each quarter-hour falls on exactly one local date.
* ``files`` — per file: dev, inode, size, mtime, the offset after the last
  complete line, a 32-byte anchor before it and the partial last line
  (``carry``, when small), so a repeat scan reads only appended bytes and
  notices a truncated or replaced file. ``keys`` (64-bit hashes of the message
  ids the file contributed) and ``detail`` (its own rows, the last few messages
  for merging streamed duplicates, reader state) are base64 blobs decoded only
  when the file changes, so a warm scan parses little.
* ``retired`` — keys of files that vanished or were rewritten. Their usage stays
  in ``agg``: spend does not un-happen when Claude Code deletes old sessions.

Writes are atomic (temp file + rename) and happen under ``<name>.lock``; a file
that fails its checksum or shape checks is treated as absent and rebuilt.
"""

from __future__ import annotations

import base64
import json
import sys
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1
MAGIC = b"USL1 "

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


@dataclass
class FileState:
    dev: int
    ino: int
    size: int
    mtime: int
    offset: int = 0  # end of the last complete line
    pos: int = 0  # bytes consumed (offset + len(carry) when the carry is kept)
    anchor: bytes = b""  # up to 32 bytes before ``offset``
    carry: bytes = b""
    skipping: int = 0  # inside an over-long line being discarded (2: it looked like usage)
    skipped: int = 0
    keys_b64: str = ""
    detail_b64: str = ""
    # Decoded lazily (only for files that are read or retired in this scan):
    _keys: array | None = None
    _detail: dict[str, Any] | None = None

    @property
    def keys(self) -> array:
        if self._keys is None:
            self._keys = _keys_from_b64(self.keys_b64)
        return self._keys

    @property
    def detail(self) -> dict[str, Any]:
        if self._detail is None:
            if self.detail_b64:
                try:
                    detail = json.loads(base64.b64decode(self.detail_b64))
                except (ValueError, TypeError) as exc:
                    raise IndexCorrupt(f"bad file detail: {exc}")
                if not isinstance(detail, dict):
                    raise IndexCorrupt("bad file detail")
                self._detail = detail
            else:
                self._detail = {}
        return self._detail

    def rows(self) -> dict[RowKey, list[int]]:
        out: dict[RowKey, list[int]] = {}
        for row in self.detail.get("rows", []):
            out[(row[0], row[1], row[2])] = list(row[3:8])
        return out

    def to_json(self) -> dict[str, Any]:
        if self._keys is not None:
            self.keys_b64 = _keys_to_b64(self._keys)
        if self._detail is not None:
            self.detail_b64 = base64.b64encode(
                json.dumps(self._detail, separators=(",", ":")).encode()
            ).decode("ascii")
        return {
            "dev": self.dev,
            "ino": self.ino,
            "size": self.size,
            "mtime": self.mtime,
            "offset": self.offset,
            "pos": self.pos,
            "anchor": base64.b64encode(self.anchor).decode("ascii"),
            "carry": base64.b64encode(self.carry).decode("ascii"),
            "skipping": self.skipping,
            "skipped": self.skipped,
            "keys": self.keys_b64,
            "detail": self.detail_b64,
        }

    @classmethod
    def from_json(cls, obj: Any) -> FileState:
        if not isinstance(obj, dict):
            raise IndexCorrupt("file entry is not an object")
        try:
            ints = [obj[k] for k in ("dev", "ino", "size", "mtime", "offset", "pos", "skipped")]
            if any(type(v) is not int or v < 0 for v in ints):
                raise IndexCorrupt("file entry has a bad number")
            state = cls(
                dev=ints[0],
                ino=ints[1],
                size=ints[2],
                mtime=ints[3],
                offset=ints[4],
                pos=ints[5],
                skipped=ints[6],
                anchor=base64.b64decode(obj["anchor"]),
                carry=base64.b64decode(obj["carry"]),
                skipping=int(obj["skipping"]),
                keys_b64=str(obj["keys"]),
                detail_b64=str(obj["detail"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorrupt(f"bad file entry: {exc}")
        if state.offset > state.pos or state.pos - state.offset != len(state.carry):
            raise IndexCorrupt("file entry offsets disagree")
        return state


@dataclass
class RootIndex:
    provider: str
    root: str
    boundaries: tuple[int, ...]
    models: list[str] = field(default_factory=list)
    agg: dict[RowKey, list[int]] = field(default_factory=dict)
    files: dict[str, FileState] = field(default_factory=dict)
    retired_keys_b64: list[str] = field(default_factory=list)
    retired_skipped: int = 0
    dirty: bool = False
    _model_ids: dict[str, int] = field(default_factory=dict, repr=False)

    def model_id(self, name: str) -> int:
        index = self._model_ids.get(name)
        if index is None:
            if not self._model_ids and self.models:
                self._model_ids = {n: i for i, n in enumerate(self.models)}
                index = self._model_ids.get(name)
            if index is None:
                index = len(self.models)
                self.models.append(name)
                self._model_ids[name] = index
        return index

    def retire(self, rel: str) -> None:
        """Forget a file's position but keep its usage (in ``agg``) and its keys (for dedup)."""
        state = self.files.pop(rel)
        if state.keys_b64 or state._keys:
            self.retired_keys_b64.append(_keys_to_b64(state.keys))
        self.retired_skipped += state.skipped
        self.dirty = True

    def all_keys(self) -> array:
        keys = array("Q")
        for blob in self.retired_keys_b64:
            keys.extend(_keys_from_b64(blob))
        for state in self.files.values():
            keys.extend(state.keys)
        return keys

    @property
    def skipped_lines(self) -> int:
        return self.retired_skipped + sum(s.skipped for s in self.files.values())

    # -- (de)serialisation ---------------------------------------------------------------
    def to_bytes(self) -> bytes:
        doc = {
            "version": VERSION,
            "provider": self.provider,
            "root": self.root,
            "boundaries": list(self.boundaries),
            "models": self.models,
            "agg": [[*key, *row] for key, row in self.agg.items() if any(row)],
            "retired": {"keys": self.retired_keys_b64, "skipped": self.retired_skipped},
            "files": {rel: state.to_json() for rel, state in sorted(self.files.items())},
        }
        body = json.dumps(doc, separators=(",", ":")).encode()
        return MAGIC + f"{zlib.crc32(body):08x}\n".encode() + body

    @classmethod
    def from_bytes(cls, data: bytes, provider: str, root: str) -> RootIndex:
        if not data.startswith(MAGIC) or len(data) < 15 or data[13:14] != b"\n":
            raise IndexCorrupt("bad header")
        body = data[14:]
        try:
            crc = int(data[5:13], 16)
        except ValueError:
            raise IndexCorrupt("bad checksum field")
        if zlib.crc32(body) != crc:
            raise IndexCorrupt("checksum mismatch")
        try:
            doc = json.loads(body)
            if doc["version"] != VERSION or doc["provider"] != provider or doc["root"] != root:
                raise IndexCorrupt("index belongs to another version, provider or root")
            boundaries = tuple(int(b) for b in doc["boundaries"])
            models = [str(m) for m in doc["models"]]
            agg: dict[RowKey, list[int]] = {}
            for row in doc["agg"]:
                if len(row) != 8 or any(type(v) is not int for v in row):
                    raise IndexCorrupt("bad aggregate row")
                if not 0 <= row[1] < len(models):
                    raise IndexCorrupt("aggregate row names an unknown model")
                agg[(row[0], row[1], row[2])] = row[3:]
            retired = doc["retired"]
            retired_keys = [str(b) for b in retired["keys"]]
            retired_skipped = int(retired["skipped"])
            files = {str(rel): FileState.from_json(obj) for rel, obj in doc["files"].items()}
        except IndexCorrupt:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexCorrupt(f"bad index document: {exc}")
        return cls(
            provider=provider,
            root=root,
            boundaries=boundaries,
            models=models,
            agg=agg,
            files=files,
            retired_keys_b64=retired_keys,
            retired_skipped=retired_skipped,
        )


def load_index(path: Path, provider: str, root: str, boundaries: tuple[int, ...]) -> RootIndex:
    """The stored index, or a fresh one when it is missing, corrupt or built for other boundaries."""
    try:
        data = path.read_bytes()
    except OSError:
        return RootIndex(provider, root, boundaries)
    try:
        index = RootIndex.from_bytes(data, provider, root)
    except IndexCorrupt:
        fresh = RootIndex(provider, root, boundaries)
        fresh.dirty = True
        return fresh
    if index.boundaries != boundaries:
        fresh = RootIndex(provider, root, boundaries)
        fresh.dirty = True
        return fresh
    return index
