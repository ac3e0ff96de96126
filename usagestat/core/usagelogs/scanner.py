"""Walking a log root and reading only what changed since the last scan.

Per file the index remembers (dev, inode, size, mtime, offset, anchor,
carry). A file whose size and mtime match is not even opened. A grown file is
read from where the last scan stopped, after checking that the 32 bytes before
that point (and the kept partial line) are unchanged. A file that shrank,
changed under the anchor or got a new inode is retired (its usage and message
keys stay) and read again from the start; the keys make sure nothing already
counted is counted twice. A file renamed within the root keeps its state.
"""

from __future__ import annotations

import os
import stat as stat_mod
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .readers import READERS, FileReader
from .store import FileState, RootIndex

CHUNK = 8 << 20  # bytes per read
MAX_LINE = 16 << 20  # longer lines are skipped (and counted when they look like usage)
CARRY_KEEP = 64 << 10  # a longer partial last line is re-read next time instead of stored
ANCHOR = 32


def _matches(provider: str, name: str) -> bool:
    if not name.endswith(".jsonl"):
        return False
    return provider != "codex" or name.startswith("rollout-")


def walk(root: str, provider: str) -> dict[str, tuple[str, os.stat_result]]:
    """relative path -> (absolute path, stat) for every log file under ``root`` (no symlinks)."""
    found: dict[str, tuple[str, os.stat_result]] = {}
    stack = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, prefix + entry.name + "/"))
                elif _matches(provider, entry.name) and not entry.is_symlink():
                    # Symlinks are not followed: a plugin may only learn about the logs
                    # inside the roots its fs permission covers.
                    st = entry.stat(follow_symlinks=False)
                    if stat_mod.S_ISREG(st.st_mode):
                        found[prefix + entry.name] = (entry.path, st)
            except OSError:
                continue
    return found


def _anchor_ok(path: str, state: FileState) -> bool:
    """The bytes before the read position (and the kept partial line) are as we left them."""
    start = state.offset - len(state.anchor)
    expected = state.anchor + state.carry
    if not expected:
        return True
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            return handle.read(len(expected)) == expected
    except OSError:
        return False


@dataclass
class Work:
    rel: str
    path: str
    st: os.stat_result
    fresh: bool
    start: int = 0  # bytes already read from this file in earlier scans


def plan(index: RootIndex, root: str, provider: str) -> list[Work]:
    """Reconcile the index with the files on disk; return the files that need reading."""
    current = walk(root, provider)
    unchanged = len(current) == len(index.files) and all(
        (state := index.files.get(rel)) is not None
        and st.st_size == state.size
        and st.st_mtime_ns == state.mtime
        and st.st_ino == state.ino
        for rel, (_, st) in current.items()
    )
    if unchanged:
        return []  # the warm path: the per-file blob is never decoded
    index.load_blob()
    orphans: dict[tuple[int, int], tuple[str, FileState]] = {}
    for rel, state in list(index.files.items()):
        entry = current.get(rel)
        if entry is None or (entry[1].st_dev, entry[1].st_ino) != (state.dev, state.ino):
            del index.files[rel]
            orphans[(state.dev, state.ino)] = (rel, state)
            index.dirty = True
    for rel, (path, st) in current.items():
        if rel in index.files:
            continue
        orphan = orphans.get((st.st_dev, st.st_ino))
        if orphan is not None and st.st_size >= orphan[1].pos and _anchor_ok(path, orphan[1]):
            index.files[rel] = orphan[1]  # renamed within the root: keep reading where we were
            del orphans[(st.st_dev, st.st_ino)]
    for rel, state in orphans.values():
        index.files[rel] = state
        index.retire(rel)

    work: list[Work] = []
    for rel, (path, st) in current.items():
        state = index.files.get(rel)
        if state is None:
            work.append(Work(rel, path, st, True))
            continue
        if st.st_size == state.size and st.st_mtime_ns == state.mtime:
            continue  # the warm path: nothing opened
        if st.st_size < state.pos or not _anchor_ok(path, state):
            index.retire(rel)  # truncated or rewritten: read it again, dedup keeps totals exact
            work.append(Work(rel, path, st, True))
        elif st.st_size == state.pos:
            state.mtime = st.st_mtime_ns
            state.size = st.st_size
            index.dirty = True
        else:
            work.append(Work(rel, path, st, False, state.pos))
    # Oldest first: the original of a copied message owns it.
    work.sort(key=lambda w: (w.st.st_mtime_ns, w.rel))
    return work


def read_file(
    index: RootIndex, item: Work, provider: str, seen: set[int], stop_at: float | None
) -> tuple[bool, int]:
    """Read ``item`` from its last position; returns (finished, bytes read)."""
    st = item.st
    state = index.files.get(item.rel) if not item.fresh else None
    if state is None:
        state = FileState(dev=st.st_dev, ino=st.st_ino, size=0, mtime=st.st_mtime_ns)
        index.files[item.rel] = state
    reader: FileReader = READERS[provider](index, state, seen, item.fresh)
    finished = True
    start_pos = state.pos
    try:
        handle = open(item.path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError:
        # Vanished between the walk and now: forget the fresh entry, keep an old one.
        if item.fresh:
            index.files.pop(item.rel, None)
        return True, 0
    index.dirty = True
    with handle:
        pos = state.pos
        offset = state.offset
        carry = state.carry
        skipping = state.skipping
        handle.seek(pos)
        huge = reader.huge_line_seen
        overlap = b""  # the end of the previous chunk, so a needle split by a read is still seen
        while True:
            if stop_at is not None and time.monotonic() > stop_at:
                finished = False
                break
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            pos += len(chunk)
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    if skipping == 1 and huge(overlap + chunk):
                        skipping = 2
                    overlap = chunk[-32:]
                    offset = pos
                    continue
                if skipping == 2 or huge(overlap + chunk[:newline]):
                    reader.skipped += 1
                skipping = 0
                chunk = chunk[newline + 1 :]
                carry = b""
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) > MAX_LINE:
                    skipping = 2 if huge(data) else 1
                    overlap = data[-32:]
                    carry = b""
                    offset = pos
                else:
                    carry = data
                    offset = pos - len(carry)
                continue
            reader.feed(data, cut + 1)
            carry = data[cut + 1 :]
            offset = pos - len(carry)
        if len(carry) > CARRY_KEEP:
            carry = b""
            pos = offset  # re-read the long partial line next time rather than store it
        state.offset = offset
        state.pos = pos
        state.carry = carry
        state.skipping = skipping
        state.size = pos
        state.mtime = st.st_mtime_ns
        state.dev, state.ino = st.st_dev, st.st_ino
        if offset:
            begin = max(0, offset - ANCHOR)
            handle.seek(begin)
            state.anchor = handle.read(offset - begin)
        else:
            state.anchor = b""
    reader.commit()
    return finished, pos - start_pos


def iter_roots(roots: list[Path | str]) -> Iterator[str]:
    """Existing roots as real paths, each once (``~/.claude`` may be a symlink to another root)."""
    seen: set[str] = set()
    for root in roots:
        real = os.path.realpath(os.path.expanduser(str(root)))
        if real in seen or not os.path.isdir(real):
            continue
        seen.add(real)
        yield real
