"""``usagestat pricing``: show or refresh the model price table used by ``cost`` (offline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CliError, UsageError

if TYPE_CHECKING:
    from usagestat.core.usagelogs.pricing import PricingTable

    from ..context import CliContext

HELP = "update the model price table used by cost"
DESCRIPTION = """\
The prices `usagestat cost` applies (USD per million tokens: input, output,
5-minute and 1-hour cache writes, cache reads, and long-context rates where a
model has them) ship with usagestat in a dated table. `pricing update --from
FILE` installs a newer table without a network connection: the file is
validated, then copied to <data>/pricing.json, which is used instead of the
bundled table whenever its date is newer. Prices apply to all history at
report time, so an update re-prices past days too.

The file has the shape of usagestat/core/pricing.json:
  {"date": "2026-12-01",
   "models": {"claude-opus-4-6": {"input": 5, "output": 25, "cacheWrite": 6.25,
                                  "cacheWrite1h": 10, "cacheRead": 0.5},
              "claude-sonnet-4-5": {"input": 3, "output": 15, …,
                                    "longContext": {"threshold": 200000, "input": 6, "output": 22.5}}},
   "aliases": {"claude-opus-4-0": "claude-opus-4"}}

examples:
  usagestat pricing show                      # the table in effect, per model
  usagestat pricing update --from prices.json # validate and install; prints what changed
  usagestat --json pricing update --from prices.json
"""


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "pricing",
        parents=[common],
        help=HELP,
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    update = actions.add_parser(
        "update",
        parents=[common],
        help="validate FILE and install it as the price table",
        description="Validate FILE and install it as <data>/pricing.json (atomically).\n\n"
        "examples:\n  usagestat pricing update --from prices.json\n",
        formatter_class=HelpFormatter,
    )
    update.add_argument(
        "--from", dest="source", metavar="FILE", required=True, help="a pricing.json"
    )
    show = actions.add_parser(
        "show",
        parents=[common],
        help="print the price table in effect",
        description="Print the price table in effect (bundled, or the installed newer one).\n\n"
        "examples:\n  usagestat pricing show\n  usagestat --json pricing show\n",
        formatter_class=HelpFormatter,
    )
    del show


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "update":
        return _update(ctx, Path(args.source).expanduser())
    if action == "show":
        return _show(ctx)
    raise UsageError("expected an action: pricing update --from FILE, or pricing show")


def _fmt(value: float) -> str:
    return f"{value:g}"


def _flat(table: PricingTable) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, price in table.models.items():
        fields = {k: v for k, v in price.base.as_json().items()}
        if price.long is not None and price.threshold is not None:
            fields["longContext.threshold"] = float(price.threshold)
            fields.update({f"longContext.{k}": v for k, v in price.long.as_json().items()})
        out[name] = fields
    return out


def _update(ctx: CliContext, source: Path) -> int:
    from usagestat.core import paths
    from usagestat.core.atomicio import atomic_write_bytes
    from usagestat.core.usagelogs.pricing import (
        PricingError,
        bundled_table,
        load_pricing,
        parse_table,
    )

    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}")
    import json

    try:
        new = parse_table(json.loads(raw), origin=str(source))
    except (ValueError, UnicodeDecodeError) as exc:
        message = str(exc) if isinstance(exc, PricingError) else f"not valid JSON: {exc}"
        raise CliError(f"{source}: {message}")
    before = load_pricing()
    target = paths.pricing_override_path()
    paths.ensure_private_dir(target.parent)
    atomic_write_bytes(target, raw, mode=0o600)
    bundled = bundled_table()
    active = new.date > bundled.date

    old_flat, new_flat = _flat(before), _flat(new)
    added = sorted(set(new_flat) - set(old_flat))
    removed = sorted(set(old_flat) - set(new_flat))
    changed = []
    for name in sorted(set(new_flat) & set(old_flat)):
        for key in sorted(set(old_flat[name]) | set(new_flat[name])):
            old, cur = old_flat[name].get(key), new_flat[name].get(key)
            if old != cur:
                changed.append({"model": name, "field": key, "old": old, "new": cur})
    if ctx.json:
        ctx.print_json(
            {
                "installed": str(target),
                "date": new.date,
                "models": len(new.models),
                "active": active,
                "previousDate": before.date,
                "added": added,
                "removed": removed,
                "changed": changed,
            }
        )
        return 0
    ctx.out(f"installed {target} (prices of {new.date}, {len(new.models)} models)")
    if not active:
        ctx.warn(
            f"the bundled table (prices of {bundled.date}) is as new or newer and stays in effect"
        )
    for name in added:
        price = new.models[name].base
        ctx.out(f"  added    {name}: ${_fmt(price.input)} in / ${_fmt(price.output)} out per MTok")
    for item in changed:
        old = "-" if item["old"] is None else _fmt(item["old"])
        cur = "-" if item["new"] is None else _fmt(item["new"])
        ctx.out(f"  changed  {item['model']} {item['field']}: {old} → {cur}")
    for name in removed:
        ctx.out(f"  removed  {name}")
    if not (added or changed or removed):
        ctx.out(f"  no price changes against the table in use (prices of {before.date})")
    return 0


def _show(ctx: CliContext) -> int:
    from usagestat.core.usagelogs.pricing import load_pricing

    table = load_pricing()
    for warning in table.warnings:
        ctx.warn(warning)
    if ctx.json:
        doc: dict[str, Any] = {"date": table.date, "origin": table.origin, "models": {}}
        for name, price in sorted(table.models.items()):
            entry: dict[str, Any] = price.base.as_json()
            if price.long is not None:
                entry["longContext"] = {"threshold": price.threshold, **price.long.as_json()}
            doc["models"][name] = entry
        doc["aliases"] = dict(sorted(table.aliases.items()))
        ctx.print_json(doc)
        return 0
    origin = "bundled" if table.origin == "bundled" else f"installed ({table.origin})"
    ctx.out(f"prices of {table.date}, {origin}; USD per million tokens")
    header = ("model", "input", "output", "cache 5m", "cache 1h", "cache read")
    rows = [header]
    for name, price in sorted(table.models.items()):
        base = price.base
        rows.append(
            (
                name,
                *(
                    _fmt(v)
                    for v in (
                        base.input,
                        base.output,
                        base.cache_write,
                        base.cache_write_1h,
                        base.cache_read,
                    )
                ),
            )
        )
        if price.long is not None:
            long = price.long
            rows.append(
                (
                    f"  > {price.threshold:,} prompt tokens",
                    *(
                        _fmt(v)
                        for v in (
                            long.input,
                            long.output,
                            long.cache_write,
                            long.cache_write_1h,
                            long.cache_read,
                        )
                    ),
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, len(row))]
        ctx.out("  ".join(cells).rstrip())
    return 0
