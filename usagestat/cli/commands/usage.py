"""``usagestat usage``: probe providers and show their usage (the default command)."""

from __future__ import annotations

import argparse
import threading
from typing import TYPE_CHECKING

from ..options import output_format, require_engine

if TYPE_CHECKING:
    from usagestat.core.models import ProviderStatus, UsageSnapshot
    from usagestat.plugins.instances import Instance

    from ..context import CliContext

HELP = "probe providers and show usage (the default command)"
DESCRIPTION = """\
Probe the enabled providers (or the IDs given) in parallel and show each
quota, credit pool or balance: how much is used, when it resets and whether
you are on pace to run out before it does.

An ID is an instanceId from your config, else a provider id (all of its
instances). Named providers are probed even when disabled; --all probes every
discovered provider. A provider probed more recently than its minimum
interval (claude: 5 minutes) is answered from the cache, so a status bar can
poll every few seconds without tripping rate limits.

Provider failures are shown in-band (a red line, or an error snapshot in
JSON) and the exit code stays 0, unless --strict is given and every
selected provider failed.

examples:
  usagestat                              # every enabled provider
  usagestat usage claude codex           # just these two
  usagestat --json usage claude          # a JSON array of UsageSnapshot objects
  usagestat usage --provider claude --save   # also append to history.jsonl
  usagestat usage --cached --plain       # last known data, no network
  usagestat usage --format waybar        # {text, tooltip, class, percentage}
  usagestat usage --format prometheus    # the /metrics families

output (text):
  Claude · Max 5x
    Session   42.0% (42 / 100)   resets in 3h 12m
              pace: over by 12% — runs out in 2h 10m
    Weekly    18.0% (18 / 100)   resets Sat 17 Jan 12:00
"""
FORMATS = ("text", "json", "waybar", "prometheus")
SOURCES = ("auto", "web", "cli", "oauth", "api", "local", "custom")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "usage",
        parents=[common],
        help=HELP,
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "ids", nargs="*", metavar="ID", help="instance or provider ids (default: the enabled ones)"
    )
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="ID",
        help="add a provider or instance (repeatable; same as an ID)",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        metavar="MODE",
        help="force a source mode: " + ", ".join(SOURCES),
    )
    parser.add_argument("--save", action="store_true", help="append every result to history.jsonl")
    parser.add_argument(
        "--status", action="store_true", help="add each provider's status page indicator"
    )
    parser.add_argument(
        "--cached", action="store_true", help="show the last good data without probing"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when every selected provider failed"
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="text (default), json, waybar or prometheus"
    )


def _cached_answer(ctx: CliContext, instances: list[Instance]) -> dict[str, UsageSnapshot]:
    from usagestat.core.cache import SnapshotCache, with_staleness
    from usagestat.core.results import error_snapshot
    from usagestat.core.timeutil import format_timestamp, now_utc

    cached = SnapshotCache(warn=ctx.warn).load()
    out: dict[str, UsageSnapshot] = {}
    for inst in instances:
        snap = cached.get(inst.instance_id)
        if snap is None:
            out[inst.instance_id] = error_snapshot(
                provider_id=inst.provider_id,
                instance_id=inst.instance_id,
                display_name=inst.display_name,
                state="no-data",
                message="nothing cached yet for this instance; run `usagestat usage` first",
                fetched_at=format_timestamp(now_utc()),
                status_page_url=inst.status_page_url,
            )
        else:
            out[inst.instance_id] = with_staleness(snap)
    return out


def collect(
    ctx: CliContext,
    instances: list[Instance],
    *,
    source: str | None = None,
    cached: bool = False,
    save: bool = False,
    progress: bool = False,
    durations: dict[str, float] | None = None,
) -> list[UsageSnapshot]:
    """Snapshots for ``instances``, in order: probed, or from the cache when fresh enough.

    Probed results refresh ``snapshots.json`` (successes, and ``lastError``
    beside the last good data) and, with ``save``, go to ``history.jsonl``.
    ``durations`` (instanceId → seconds) receives how long each probe took.
    """
    if cached:
        answers = _cached_answer(ctx, instances)
        return [answers[inst.instance_id] for inst in instances]

    from usagestat.core.cache import SnapshotCache, with_staleness
    from usagestat.core.models import LastError
    from usagestat.core.timeutil import now_utc, parse_timestamp
    from usagestat.plugins.probe import ProbeOptions, probe_many

    from ..progress import Progress
    from ..render.term import terminal_columns

    cache = SnapshotCache(warn=ctx.warn)
    stored = cache.load()
    now = now_utc()
    results: dict[str, UsageSnapshot] = {}
    to_probe: list[Instance] = []
    for inst in instances:
        snap = stored.get(inst.instance_id)
        interval = inst.min_interval_sec
        if snap is not None and interval and source is None:
            fetched = parse_timestamp(snap.fetched_at)
            if fetched is not None and 0 <= (now - fetched).total_seconds() < interval:
                results[inst.instance_id] = with_staleness(snap)
                continue
        to_probe.append(inst)

    require_engine(to_probe)
    meter = Progress(
        enabled=progress and ctx.stderr_tty,
        stream=ctx.stderr,
        total=len(to_probe),
        width=terminal_columns(),
    )

    def on_log(instance_id: str, level: str, message: str) -> None:
        if ctx.verbose or ctx.debug:
            meter.message(f"[{instance_id}] {level}: {message}")

    options = ProbeOptions(
        source=source,
        isolated=not ctx.debug,
        on_log=on_log,
        on_start=lambda inst: meter.begin(inst.display_name),
        on_done=lambda outcome: meter.end(outcome.instance.display_name),
    )
    meter.start()
    try:
        outcomes = probe_many(to_probe, ctx.config, options)
    finally:
        meter.finish()
    successes = []
    failures = []
    for outcome in outcomes:
        snap = outcome.snapshot
        results[snap.instance_id] = snap
        if durations is not None:
            durations[snap.instance_id] = outcome.duration_sec
        if snap.is_error:
            assert snap.error is not None
            failures.append(
                (snap.instance_id, LastError(snap.error.code, snap.error.message, snap.fetched_at))
            )
        else:
            successes.append(snap)
    try:
        cache.update(successes, failures)
    except OSError as exc:
        ctx.warn(f"could not update the snapshot cache {cache.path}: {_os_reason(exc, cache.path)}")
    except Exception as exc:  # a lock timeout must not lose the user's answer
        ctx.warn(f"could not update the snapshot cache {cache.path}: {exc}")
    if save:
        from usagestat.core.history import History

        history = History()
        try:
            history.append(o.snapshot for o in outcomes)
        except OSError as exc:
            ctx.warn(f"could not append to history {history.path}: {_os_reason(exc, history.path)}")
    return [results[inst.instance_id] for inst in instances]


def _os_reason(exc: OSError, path: object) -> str:
    """The OS reason, naming the file that failed when it is not ``path`` (a lock, the folder)."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None and str(exc.filename) != str(path):
        return f"{exc.filename}: {reason}"
    return reason


class _StatusFetch:
    """Fetch status pages in the background while the probes run."""

    def __init__(self, ctx: CliContext, instances: list[Instance]) -> None:
        from usagestat.core.statuspage import fetch_statuses

        targets = [(i.provider_id, i.display_name, i.status_page_url) for i in instances]
        self.result: list[ProviderStatus] = []
        ca_bundle = ctx.config.ca_bundle

        def work() -> None:
            self.result = fetch_statuses(targets, ca_bundle=ca_bundle)

        self.thread = threading.Thread(target=work, name="status", daemon=True)
        self.thread.start()

    def get(self) -> list[ProviderStatus]:
        while self.thread.is_alive():
            self.thread.join(0.1)
        return self.result


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from usagestat.core.pace import compute_pace
    from usagestat.core.timeutil import now_utc

    fmt = output_format(ctx, args, FORMATS, "text")
    instances = ctx.select(list(args.ids) + list(args.provider))
    status = _StatusFetch(ctx, instances) if args.status else None
    durations: dict[str, float] = {}
    snapshots = collect(
        ctx,
        instances,
        source=args.source,
        cached=args.cached,
        save=args.save,
        progress=fmt == "text",
        durations=durations,
    )
    now = now_utc()
    for snap in snapshots:
        snap.pace = None if snap.is_error else compute_pace(snap.metrics, now)
    if status is not None:
        for snap, found in zip(snapshots, status.get(), strict=False):
            snap.status = found
    emit(ctx, snapshots, fmt, now, durations)
    if args.strict and snapshots and all(s.is_error for s in snapshots):
        return 1
    return 0


def emit(
    ctx: CliContext,
    snapshots: list[UsageSnapshot],
    fmt: str,
    now,
    durations: dict[str, float] | None = None,
) -> None:
    """Print snapshots in the chosen format (``durations``: probe seconds per instance)."""
    if fmt == "json":
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(snapshots))
    elif fmt == "waybar":
        from ..render.waybar import render as render_waybar

        ctx.print_json(render_waybar(snapshots, ctx.config.notify), compact=True)
    elif fmt == "prometheus":
        from usagestat.core.prometheus import ProbeStats
        from usagestat.core.prometheus import render as render_prometheus

        # probed instances only: one answered from the cache had no probe this run
        stats = {iid: ProbeStats(duration_sec=sec) for iid, sec in (durations or {}).items()}
        ctx.stdout.write(render_prometheus(snapshots, stats))
    elif not snapshots:
        ctx.stderr.write(
            "usagestat: no providers are enabled: name some (`usagestat usage ID`, see "
            "`usagestat list`) or enable them in the config (`usagestat config init`)\n"
        )
    elif ctx.plain:
        from ..render.plain import render as render_plain

        ctx.out(render_plain(snapshots))
    else:
        from ..render.text import render

        ctx.out(render(snapshots, now, ctx.text_style()))
