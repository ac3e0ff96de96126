"""``usagestat cost``: token usage and cost from the local Claude Code and Codex logs."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..options import output_format

if TYPE_CHECKING:
    from usagestat.core.usagelogs import CostReport

    from ..context import CliContext

HELP = "token costs from local Claude Code / Codex logs"
DESCRIPTION = """\
What did the agents spend? Reads the session logs Claude Code and Codex write
on this machine (~/.claude/projects, $CLAUDE_CONFIG_DIR/projects,
~/.config/claude/projects; $CODEX_HOME/sessions or ~/.codex/sessions), prices
every API call with the bundled price table (see `usagestat pricing`) and
sums them per local day or per model. No network.

The first run reads every log once (about 1 GB per 10 s); an index in the data
directory (log-index/) then makes each later run read only new lines.
Models missing from the price table are counted in tokens and listed as
unpriced, never as $0. Usage from log files the agent has since deleted stays
in the index and keeps counting.

examples:
  usagestat cost                          # both agents, last 30 days, per day
  usagestat cost --provider claude --days 7
  usagestat cost --by model               # which model cost what
  usagestat cost --json                   # one SPEC Cost object per provider
  usagestat cost --format csv > cost.csv  # date,provider,model,… one row per model and day

output (text):
  Claude Code · last 7 days, 2026-01-09 … 2026-01-15 · prices of 2026-11-25
    Date          Input   Output  Cache write  Cache read  Cost
    2026-01-14       12      340        2,000      50,000  $0.03
    2026-01-15    1,203   84,211      650,112     12.4M    $9.87
    Total         1,215   84,551      652,112     12.5M    $9.90
"""
FORMATS = ("text", "json", "csv")
CSV_HEADER = (
    "date",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_usd",
)
NAMES = {"claude": "Claude Code", "codex": "Codex"}
_MISSING: dict[str, str] = {}  # provider -> the log folders looked in, when none exists


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}")
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError("must be between 1 and 3660")
    return value


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "cost", parents=[common], help=HELP, description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument(
        "--provider",
        choices=("claude", "codex"),
        help="only this agent's logs (default: both)",
    )
    parser.add_argument(
        "--days",
        type=_days,
        default=30,
        metavar="N",
        help="the last N local days, today included (default: 30)",
    )
    parser.add_argument(
        "--by",
        choices=("day", "model"),
        default="day",
        help="one row per day (default) or per model (text and CSV; JSON always has both)",
    )
    parser.add_argument("--format", choices=FORMATS, help="text (default), json or csv")


def _today() -> date:
    from usagestat.core.timeutil import now_utc

    return now_utc().astimezone().date()


def _scan(
    ctx: CliContext, provider: str, since: date, until: date, show_progress: bool
) -> CostReport:
    import os

    from usagestat.core import paths, usagelogs
    from usagestat.core.usagelogs.pricing import load_pricing

    pricing = load_pricing()
    for warning in pricing.warnings:
        ctx.warn(warning)
    told = False

    def progress(done: int, pending: int) -> None:
        nonlocal told
        if show_progress and not told and pending > 200e6 and done < pending:
            told = True
            ctx.stderr.write(
                f"usagestat: indexing {pending / 1e9:.1f} GB of {NAMES[provider]} logs "
                "(only once: later runs read new lines only)…\n"
            )
            ctx.stderr.flush()

    roots = usagelogs.default_roots(provider, os.environ, str(paths.home_dir()))
    if not any(root.is_dir() for root in roots):
        home = str(paths.home_dir())
        _MISSING[provider] = ", ".join(
            "~" + str(r)[len(home) :] if str(r).startswith(home + os.sep) else str(r) for r in roots
        )
    return usagelogs.scan(
        provider,
        since=since,
        until=until,
        roots=roots,
        index_dir=paths.log_index_dir(),
        pricing=pricing,
        progress=progress,
    )


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from usagestat.core.usagelogs import report_json

    fmt = output_format(ctx, args, FORMATS, "text")
    if ctx.plain and fmt != "text":
        raise UsageError("--plain only applies to text output")
    _MISSING.clear()
    until = _today()
    since = until - timedelta(days=args.days - 1)
    providers = [args.provider] if args.provider else ["claude", "codex"]
    interactive = fmt == "text" and _isatty(ctx.stderr)
    reports = [_scan(ctx, p, since, until, interactive) for p in providers]
    if fmt == "json":
        ctx.print_json([report_json(r) for r in reports])
    elif fmt == "csv":
        _csv(ctx, reports, args.by)
    elif ctx.plain:
        for report in reports:
            for line in _plain(report, args.by):
                ctx.out(line)
    else:
        blocks = [_text(ctx, report, args.by, args.days) for report in reports]
        ctx.out("\n\n".join("\n".join(block) for block in blocks))
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# -- renderers ------------------------------------------------------------------------------


def _csv(ctx: CliContext, reports: list[CostReport], by: str) -> None:
    import csv

    writer = csv.writer(ctx.stdout, lineterminator="\n")
    writer.writerow(CSV_HEADER)

    def cost(value: float | None) -> str:
        return "" if value is None else f"{value:.6f}"

    for report in reports:
        if by == "model":
            for usage in report.by_model():
                writer.writerow(["", report.provider, usage.model, *usage.tokens, cost(usage.cost)])
            continue
        for day in report.days:
            for usage in sorted(day.models.values(), key=lambda u: u.model):
                writer.writerow(
                    [day.date, report.provider, usage.model, *usage.tokens, cost(usage.cost)]
                )


def _plain(report: CostReport, by: str) -> list[str]:
    from ..render.format import exact

    def line(label: str, tokens: list[int], cost: float | None) -> str:
        money = "unpriced" if cost is None else f"{exact(round(cost, 6))} USD"
        return (
            f"{report.provider} {label}: {money}, input {tokens[0]}, output {tokens[1]}, "
            f"cache write {tokens[2]}, cache read {tokens[3]}"
        )

    out: list[str] = []
    if by == "model":
        out += [line(u.model, u.tokens, u.cost) for u in report.by_model()]
    else:
        out += [line(d.date, d.tokens, d.cost) for d in report.days]
    tokens, total = report.totals
    out.append(line("total", tokens, total))
    if report.unpriced_models:
        out.append(f"{report.provider} unpriced: {', '.join(report.unpriced_models)}")
    if report.skipped_lines:
        out.append(f"{report.provider} skipped lines: {report.skipped_lines}")
    return out


def _text(ctx: CliContext, report: CostReport, by: str, ndays: int) -> list[str]:
    from ..render.format import money, number

    color = ctx.color
    span = "today" if ndays == 1 else f"last {ndays} days, {report.since} … {report.until}"
    title = f"{NAMES[report.provider]} · {span} · prices of {report.pricing_date}"
    lines = [f"\x1b[1m{title}\x1b[0m" if color else title]
    tokens, total = report.totals
    if report.provider in _MISSING:
        lines.append(f"  no logs found (looked in {_MISSING[report.provider]})")
    elif not report.days:
        lines.append("  no usage in this period")
    else:
        first = "Model" if by == "model" else "Date"
        header = [first, "Input", "Output", "Cache write", "Cache read", "Cost"]
        rows: list[list[tuple[str, str | None]]] = [[(h, "dim") for h in header]]

        def row(
            label: str, counts: list[int], cost: float | None, partial: bool
        ) -> list[tuple[str, str | None]]:
            shown = "unpriced" if cost is None else money(cost, "USD") + ("*" if partial else "")
            cells = [number(float(v)) for v in counts]
            return [
                (label, None),
                *((c, None) for c in cells),
                (shown, "grey" if cost is None else None),
            ]

        if by == "model":
            for usage in report.by_model():
                rows.append(row(usage.model, usage.tokens, usage.cost, False))
        else:
            for day in report.days:
                partial = any(u.cost is None for u in day.models.values())
                rows.append(row(day.date, day.tokens, day.cost, partial))
        rows.append(row("Total", tokens, total, bool(report.unpriced_models)))
        lines += _align(rows, color)
    if report.unpriced_models:
        lines.append(
            "  * not counted in cost: no price for "
            + ", ".join(report.unpriced_models)
            + " (tokens are counted; see `usagestat pricing`)"
        )
    if report.skipped_lines:
        lines.append(f"  {report.skipped_lines} unreadable log line(s) skipped")
    return lines


def _align(rows: list[list[tuple[str, str | None]]], color: bool) -> list[str]:
    """Left-aligned first column, right-aligned numbers."""
    from ..render.term import paint
    from ..render.term import width as cells

    widths = [max(cells(r[i][0]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        parts = []
        for i, (text, style) in enumerate(r):
            room = " " * (widths[i] - cells(text))
            padded = text + room if i == 0 else room + text
            parts.append(paint(padded, style, color) if style else padded)
        out.append(("  " + "  ".join(parts)).rstrip())
    return out
