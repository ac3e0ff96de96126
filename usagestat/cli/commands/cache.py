"""``usagestat cache clear``: forget cached snapshots, history or plugin data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CliError, UsageError

if TYPE_CHECKING:
    from usagestat.core.history import History
    from usagestat.core.models import CacheClearResult

    from ..context import CliContext

DESCRIPTION = """\
Manage what usagestat keeps in its data directory
(~/.local/share/usagestat, or $USAGESTAT_DATA_DIR).

  clear   remove cached snapshots, history and/or plugin data

examples:
  usagestat cache clear --history
  usagestat cache clear --snapshots --provider claude
  usagestat cache clear --all --json
"""

CLEAR_DESCRIPTION = """\
Remove cached data. Name at least one target:

  --snapshots    snapshots.json: the last good result of every instance
                 (what `usage --cached` and a starting daemon show)
  --history      history.jsonl and its rotated generation history.jsonl.1
  --plugin-data  plugin-data/<instanceId>/: what plugins keep between runs
                 (refreshed tokens of some providers: they are fetched again)
  --all          all three

With --provider ID only that instance's data goes (ID is an instanceId, or a
provider id meaning all its instances): its snapshot entry, its history
lines and its plugin-data folder. The daemon keeps its in-memory copy until
it restarts. Exit 1 when something could not be removed.

examples:
  usagestat cache clear --history
  usagestat cache clear --snapshots --plugin-data --provider codex
  usagestat cache clear --all --json     # [{cache, path, cleared, error}]

output:
  snapshots    cleared        /home/me/.local/share/usagestat/snapshots.json
  history      nothing to do  /home/me/.local/share/usagestat/history.jsonl
"""
TARGETS = ("snapshots", "history", "plugin-data")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "cache",
        parents=[common],
        help="clear cached snapshots, history or plugin data",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="cache_action", metavar="ACTION", required=True)
    clear = actions.add_parser(
        "clear",
        parents=[common],
        help="remove cached snapshots, history and/or plugin data",
        description=CLEAR_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    clear.add_argument("--snapshots", action="store_true", help="clear snapshots.json")
    clear.add_argument("--history", action="store_true", help="clear history.jsonl (+ .1)")
    clear.add_argument(
        "--plugin-data", action="store_true", help="clear plugin-data/<instanceId>/ folders"
    )
    clear.add_argument(
        "--provider", action="append", default=[], metavar="ID", help="only this instance/provider"
    )


def _instance_ids(ctx: CliContext, ids: list[str]) -> list[str] | None:
    """The instance ids to clear (None = everything).

    An id no longer in the config may still have data: it is accepted as it is
    when data for it exists, else it must name a current instance or provider.
    """
    if not ids:
        return None
    from usagestat.core import paths
    from usagestat.core.config import ID_PATTERN

    out: list[str] = []
    for wanted in ids:
        known = [i for i in ctx.resolution.instances if wanted in (i.instance_id, i.provider_id)]
        if known:
            out.extend(i.instance_id for i in known)
        elif ID_PATTERN.match(wanted) and (
            (paths.plugin_data_root() / wanted).exists() or _in_snapshots(wanted)
        ):
            out.append(wanted)
        else:
            ctx.select([wanted])  # raises the usage error with a "did you mean"
    return sorted(set(out))


def _in_snapshots(instance_id: str) -> bool:
    from usagestat.core.cache import SnapshotCache

    return instance_id in SnapshotCache().load()


def _clear_snapshots(ids: list[str] | None) -> bool:
    from usagestat.core.cache import SnapshotCache

    return SnapshotCache().clear(ids)


def _clear_history(ids: list[str] | None) -> bool:
    from usagestat.core.history import History

    history = History()
    if ids is None:
        return history.clear()
    return _filter_history(history, set(ids))


def _filter_history(history: History, ids: set[str]) -> bool:
    """Rewrite history without the lines of ``ids`` (under its lock, atomically)."""
    import json
    import os

    from usagestat.core.atomicio import atomic_write_bytes, locked

    removed = False
    with locked(history.lock_path):
        for file in (history.rotated_path, history.path):
            try:
                raw_lines = Path(file).read_bytes().splitlines(keepends=True)
            except FileNotFoundError:
                continue
            kept = []
            for raw in raw_lines:
                try:
                    data = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    kept.append(raw)
                    continue
                if isinstance(data, dict) and data.get("instanceId") in ids:
                    removed = True
                    continue
                kept.append(raw)
            if len(kept) != len(raw_lines):
                mode = os.stat(file).st_mode & 0o777
                atomic_write_bytes(Path(file), b"".join(kept), mode=mode)
    return removed


def _clear_plugin_data(ids: list[str] | None) -> bool:
    import shutil

    from usagestat.core import paths

    root = paths.plugin_data_root()
    if not root.exists():
        return False
    targets = [root / i for i in ids] if ids is not None else sorted(root.iterdir())
    removed = False
    for target in targets:
        if target.is_symlink() or target.is_file():
            target.unlink()
            removed = True
        elif target.is_dir():
            shutil.rmtree(target)
            removed = True
    return removed


def _path_of(target: str) -> Path:
    from usagestat.core import paths

    return {
        "snapshots": paths.snapshots_path(),
        "history": paths.history_path(),
        "plugin-data": paths.plugin_data_root(),
    }[target]


def clear(ctx: CliContext, args: argparse.Namespace) -> list[CacheClearResult]:
    from usagestat.core.models import CacheClearResult

    chosen = [
        name
        for name, on in (
            ("snapshots", args.snapshots),
            ("history", args.history),
            ("plugin-data", args.plugin_data),
        )
        if on
    ]
    if ctx.flag("all"):
        chosen = list(TARGETS)
    if not chosen:
        raise UsageError("name what to clear: --snapshots, --history, --plugin-data or --all")
    ids = _instance_ids(ctx, list(args.provider))
    results = []
    for target in chosen:
        path = _path_of(target)
        try:
            if target == "snapshots":
                done = _clear_snapshots(ids)
            elif target == "history":
                done = _clear_history(ids)
            else:
                done = _clear_plugin_data(ids)
            results.append(CacheClearResult(target, str(path), done, None))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
            results.append(CacheClearResult(target, str(path), False, f"{reason}{where}"))
        except Exception as exc:  # e.g. a lock held too long by the daemon
            results.append(
                CacheClearResult(target, str(path), False, str(exc) or type(exc).__name__)
            )
    return results


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.cache_action != "clear":  # pragma: no cover - argparse enforces the choice
        raise CliError(f"unknown cache action {args.cache_action!r}")
    results = clear(ctx, args)
    failed = any(r.error for r in results)
    if ctx.json:
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(results))
        return 1 if failed else 0
    if ctx.plain:
        for r in results:
            state = "error" if r.error else ("cleared" if r.cleared else "empty")
            ctx.out(f"{r.cache}: {state}" + (f" ({r.error})" if r.error else ""))
        return 1 if failed else 0
    rows = []
    for r in results:
        if r.error:
            rows.append([(r.cache, None), ("failed", "red"), (f"{r.path}: {r.error}", "red")])
        elif r.cleared:
            rows.append([(r.cache, None), ("cleared", "green"), (r.path, "dim")])
        else:
            rows.append([(r.cache, None), ("nothing to do", "dim"), (r.path, "dim")])
    ctx.table(rows)
    return 1 if failed else 0
