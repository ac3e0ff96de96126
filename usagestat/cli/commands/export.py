"""``usagestat export``: usage as CSV, JSON or JSON Lines, from live probes or history."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..options import output_format, parse_since

if TYPE_CHECKING:
    from ..context import CliContext

DESCRIPTION = """\
Export usage for spreadsheets and scripts.

By default the enabled providers (or those named with --provider) are probed
now, exactly as `usagestat usage` would (the cache and minimum intervals
apply). With --from-history the records saved by `usage --save` and by the
daemon are exported instead (history.jsonl and its rotated generation),
oldest first; --since keeps records at or after a date.

formats:
  csv    header ts,provider_id,display_name,plan,primary_percent,input_tokens,
         output_tokens,cost,reset_time (primary_percent: the highest percent bar,
         2 decimals; cost: the first dollars amount, 6 decimals; empty = unknown)
  json   an array of history records (a UsageSnapshot plus "ts")
  jsonl  one history record per line

DATE is YYYY-MM-DD (local midnight) or an RFC 3339 time.

examples:
  usagestat export --format csv > usage.csv
  usagestat export --from-history --since 2026-01-01 --format jsonl
  usagestat export --from-history --provider claude --json

output (csv):
  ts,provider_id,display_name,plan,primary_percent,input_tokens,output_tokens,cost,reset_time
  2026-01-15T12:00:00Z,claude,Claude,Max 5x,42.00,,,,2026-01-15T15:12:00Z
"""
FORMATS = ("csv", "json", "jsonl")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "export",
        parents=[common],
        help="export usage as CSV, JSON or JSON Lines (live or from history)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--format", choices=FORMATS, help="csv (default), json or jsonl")
    parser.add_argument(
        "--from-history", action="store_true", help="export saved history instead of probing"
    )
    parser.add_argument(
        "--since", metavar="DATE", help="with --from-history: records at or after DATE"
    )
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="ID",
        help="only this provider or instance (repeatable)",
    )


Row = tuple[Any, str, dict[str, Any]]  # (snapshot, ts, history record)


def _live(ctx: CliContext, args: argparse.Namespace, progress: bool) -> list[Row]:
    from usagestat.core.history import record_json
    from usagestat.core.pace import compute_pace
    from usagestat.core.timeutil import now_utc

    from .usage import collect

    instances = ctx.select(list(args.provider))
    snapshots = collect(ctx, instances, progress=progress)
    now = now_utc()
    for snap in snapshots:
        snap.pace = None if snap.is_error else compute_pace(snap.metrics, now)
    return [(snap, snap.fetched_at, record_json(snap)) for snap in snapshots]


def _history(ctx: CliContext, args: argparse.Namespace) -> list[Row]:
    from usagestat.core.history import History
    from usagestat.core.serialize import snapshot_from_json

    since = parse_since(args.since) if args.since else None
    read = History().read(since=since)
    if read.skipped_lines:
        noun = "line" if read.skipped_lines == 1 else "lines"
        ctx.warn(f"skipped {read.skipped_lines} unreadable history {noun}")
    records = read.records
    wanted = set(args.provider)
    if wanted:
        seen = {r.get("providerId") for r in records} | {r.get("instanceId") for r in records}
        for name in args.provider:
            if name not in seen:
                _check_known(ctx, name, seen)
        records = [
            r for r in records if r.get("providerId") in wanted or r.get("instanceId") in wanted
        ]
    return [(snapshot_from_json(r), str(r.get("ts") or ""), r) for r in records]


def _check_known(ctx: CliContext, name: str, in_history: set[Any]) -> None:
    """An id found neither in history nor among current providers is a usage error."""
    known = set(ctx.provider_names())
    if name in known:
        return
    from usagestat.core.config import did_you_mean

    candidates = sorted(known | {n for n in in_history if isinstance(n, str)})
    raise UsageError(f"unknown provider {name!r}{did_you_mean(name, candidates)}")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    import json

    fmt = output_format(ctx, args, FORMATS, "csv")
    if args.since and not args.from_history:
        raise UsageError("--since only applies with --from-history")
    rows = _history(ctx, args) if args.from_history else _live(ctx, args, fmt == "csv")
    if fmt == "csv":
        from usagestat.core.export import to_csv

        ctx.stdout.write(to_csv((snap, ts) for snap, ts, _ in rows))
    elif fmt == "json":
        ctx.print_json([record for _, _, record in rows])
    else:
        for _, _, record in rows:
            ctx.stdout.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return 0
