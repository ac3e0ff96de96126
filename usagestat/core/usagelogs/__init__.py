"""Native, incremental token and cost accounting from Claude Code and Codex session logs.

``scan()`` brings the on-disk index (``<data>/log-index/``, see :mod:`.store`)
up to date with the logs — reading only bytes appended since the last scan —
and reports usage per local day and model, priced with :mod:`.pricing`.
Used by ``usagestat cost`` and by plugins through ``ctx.host.usage.scanLogs``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from .pricing import PricingTable, load_pricing
from .report import CostReport, DayUsage, ModelUsage, build_report, report_json
from .scanner import Work, iter_roots, plan, read_file
from .store import IndexCorrupt, RootIndex, load_index

__all__ = [
    "PROVIDERS",
    "CostReport",
    "DayUsage",
    "ModelUsage",
    "ScanIncomplete",
    "default_roots",
    "report_json",
    "scan",
]

PROVIDERS = ("claude", "codex")

#: Prompt sizes that split a model's usage into price classes (long-context
#: tiers). The pricing table's thresholds are added; a table with a new
#: threshold makes the index rebuild itself once.
DEFAULT_BOUNDARIES = (100_000, 200_000, 272_000)

LOCK_WAIT_SEC = 300.0  # CLI: how long to wait for another process's scan of the same root


class ScanIncomplete(Exception):
    """The deadline came before the index was up to date; progress is saved for the next scan."""


def default_roots(provider: str, env: Mapping[str, str], home: str) -> list[Path]:
    """Where the agent writes its logs, in the order they are searched (missing ones are skipped)."""
    home_path = Path(home)
    if provider == "claude":
        roots: list[Path] = []
        # CLAUDE_CONFIG_DIR may list several directories separated by commas.
        for entry in (env.get("CLAUDE_CONFIG_DIR") or "").split(","):
            entry = entry.strip()
            if entry:
                roots.append(Path(os.path.expanduser(entry)) / "projects")
        roots.append(home_path / ".claude" / "projects")
        roots.append(home_path / ".config" / "claude" / "projects")
        return roots
    if provider == "codex":
        codex_home = (env.get("CODEX_HOME") or "").strip()
        if codex_home:
            return [Path(os.path.expanduser(codex_home)) / "sessions"]
        return [home_path / ".codex" / "sessions"]
    raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")


def index_name(provider: str, real_root: str) -> str:
    digest = hashlib.sha256(real_root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{provider}-{digest}.json"


def _stop_time(deadline: float | None) -> float | None:
    """Stop reading early enough to save progress and answer before ``deadline``."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    return deadline - min(1.0, max(0.2, 0.15 * left))


def _plan_root(
    path: Path, provider: str, real: str, boundaries: tuple[int, ...], fresh: bool = False
) -> tuple[RootIndex, Path, list[Work]]:
    """Load (or rebuild, when corrupt) one root's index and list the files to read."""
    index = (
        RootIndex(provider, real, boundaries)
        if fresh
        else load_index(path, provider, real, boundaries)
    )
    try:
        work = plan(index, real, provider)
    except IndexCorrupt:
        index = RootIndex(provider, real, boundaries)
        work = plan(index, real, provider)
    index.dirty = index.dirty or fresh
    return index, path, work


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 10e6 else f"{n / 1e6:.1f} MB"


def _decode_blobs(
    loaded: list[tuple[RootIndex, Path, list[Work]]], provider: str, boundaries: tuple[int, ...]
) -> None:
    """Decode every blob this scan or its report needs, rebuilding a root whose blob is damaged.

    All of them when some file is to be read (dedup spans roots: a session copied from
    one config dir to another counts once); otherwise only those whose cached local
    days are for another time zone. Done before any reading, so a damaged blob is
    noticed while the root can still be rebuilt from its logs.
    """
    while True:
        reading = any(work for _, _, work in loaded)
        rebuilt = False
        for n, (index, path, _work) in enumerate(loaded):
            if not (reading or index.needs_blob()):
                continue
            try:
                index.load_blob()
            except IndexCorrupt:
                loaded[n] = _plan_root(path, provider, index.root, boundaries, fresh=True)
                rebuilt = True
        if not rebuilt:  # a rebuilt root has no blob to decode: at most one more round
            return


def scan(
    provider: str,
    *,
    since: date | None = None,
    until: date | None = None,
    roots: list[Path],
    index_dir: str | Path,
    deadline: float | None = None,
    pricing: PricingTable | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CostReport:
    """Update the index for ``roots`` and report usage for local dates ``since``..``until`` (inclusive).

    ``deadline`` is a ``time.monotonic()`` value: when the logs cannot all be
    read before it, the progress made is saved and :class:`ScanIncomplete` is
    raised (the next scan continues from there). ``progress(done, pending)``
    is called with byte counts before reading and after each file.

    A damaged index is rebuilt from the logs: :class:`~.store.IndexCorrupt`
    never reaches the caller.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if pricing is None:
        pricing = load_pricing()
    args = (provider, since, until, roots, Path(index_dir), deadline, pricing, progress)
    try:
        return _scan(*args, rebuild=False)
    except IndexCorrupt:
        # Damage found where it was not expected: start over from the logs alone.
        return _scan(*args, rebuild=True)


def _scan(
    provider: str,
    since: date | None,
    until: date | None,
    roots: list[Path],
    index_path: Path,
    deadline: float | None,
    pricing: PricingTable,
    progress: Callable[[int, int], None] | None,
    rebuild: bool,
) -> CostReport:
    from usagestat.core.atomicio import FileLock, atomic_write_bytes

    boundaries = tuple(sorted(set(DEFAULT_BOUNDARIES) | pricing.thresholds))
    stop_at = _stop_time(deadline)
    real_roots = sorted(iter_roots(roots), key=lambda r: index_name(provider, r))
    if real_roots:
        index_path.mkdir(parents=True, exist_ok=True, mode=0o700)

    locks: list[FileLock] = []
    loaded: list[tuple[RootIndex, Path, list[Work]]] = []
    done = 0
    pending = 0
    finished = True
    try:
        for real in real_roots:
            name = index_name(provider, real)
            lock = FileLock(index_path / f"{name}.lock")
            wait = LOCK_WAIT_SEC if stop_at is None else max(0.0, stop_at - time.monotonic())
            if not lock.acquire(wait):
                raise ScanIncomplete(
                    f"another process is still indexing the {provider} logs in {real}; try again shortly"
                )
            locks.append(lock)
            loaded.append(_plan_root(index_path / name, provider, real, boundaries, rebuild))
        _decode_blobs(loaded, provider, boundaries)
        pending = sum(item.st.st_size - item.start for _, _, work in loaded for item in work)
        if pending and progress is not None:
            progress(0, pending)
        seen: set[int] = set()
        if any(work for _, _, work in loaded):
            for index, _, _ in loaded:
                seen.update(index.all_keys())
        for index, _, work in loaded:
            for item in work:
                complete, nbytes = read_file(index, item, provider, seen, stop_at)
                done += nbytes
                if progress is not None:
                    progress(done, pending)
                if not complete:
                    finished = False
                    break
            if not finished:
                break
        for index, path, _ in loaded:
            if index.dirty:
                atomic_write_bytes(path, index.to_bytes())
                index.dirty = False
    finally:
        for lock in locks:
            lock.release()
    if not finished:
        raise ScanIncomplete(
            f"indexing the {provider} logs did not finish before the deadline "
            f"({_mb(done)} of {_mb(pending)} read); the next scan continues from there"
        )
    return build_report(provider, [index for index, _, _ in loaded], pricing, since, until)
