"""``usagestat list``: every discovered provider, enabled or not (no network, no engine)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from usagestat.core.models import ProviderSummary

    from ..context import CliContext

DESCRIPTION = """\
List every provider usagestat knows: the bundled plugins, your own plugins
and the built-in custom provider, with whether each is enabled and the source
modes it supports. Nothing is probed and no network is used.

A provider is enabled when the config says so; a provider the config does not
mention is enabled when its credentials are detected on this machine (or it
is enabled by default). Invalid plugins are listed with their first problem.

examples:
  usagestat list
  usagestat list --json                # ProviderSummary objects (icons as absolute paths)
  usagestat list claude --permissions  # what the claude plugin may touch

output:
  claude      enabled   Claude       oauth,web   (auto: oauth)
  codex       disabled  Codex        oauth,cli   (auto: oauth)
  custom      disabled  Custom command  custom
"""


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "list",
        parents=[common],
        help="list every provider and whether it is enabled (no network)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="only these providers")
    parser.add_argument(
        "--permissions", action="store_true", help="show what each plugin may touch (SPEC §3.4)"
    )


def _check_ids(ctx: CliContext, ids: list[str], items: list[ProviderSummary]) -> None:
    known = {s.id for s in items}
    missing = [i for i in ids if i not in known]
    if missing:
        from usagestat.core.config import did_you_mean
        from usagestat.plugins.summary import summaries

        names = [s.id for s in summaries(ctx.resolution, ctx.registry)]
        raise UsageError(f"unknown provider {missing[0]!r}{did_you_mean(missing[0], names)}")


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from usagestat.plugins.summary import summaries

    items = summaries(
        ctx.resolution, ctx.registry, permissions=args.permissions, ids=args.ids or None
    )
    if args.ids:
        _check_ids(ctx, args.ids, items)
    if ctx.json:
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(items))
        return 0
    if ctx.plain:
        for item in items:
            state = "invalid" if item.error else ("enabled" if item.enabled else "disabled")
            ctx.out(f"{item.id}: {state}")
            if item.error:
                ctx.out(f"{item.id}.error: {item.error}")
            if args.permissions and item.permissions is not None:
                for key, value in item.permissions.items():
                    shown = ",".join(value) if isinstance(value, list) else str(value).lower()
                    ctx.out(f"{item.id}.permissions.{key}: {shown}")
        return 0
    rows = []
    for item in items:
        if item.error:
            rows.append([(item.id, None), ("invalid", "red"), (item.error, "red")])
            continue
        state = ("enabled", "green") if item.enabled else ("disabled", "dim")
        modes = ",".join(item.supported_modes) or "-"
        extra = (
            f"(auto: {item.auto_mode})" if item.auto_mode and len(item.supported_modes) > 1 else ""
        )
        if item.dev:
            extra = (extra + " (dev)").strip()
        rows.append([(item.id, None), state, (item.name, None), (modes, "dim"), (extra, "dim")])
    ctx.table(rows)
    if args.permissions:
        _permissions(ctx, items)
    enabled = sum(1 for item in items if item.enabled)
    noun = "provider" if len(items) == 1 else "providers"
    ctx.out(f"\n{len(items)} {noun}, {enabled} enabled")
    return 0


def _permissions(ctx: CliContext, items: list[ProviderSummary]) -> None:
    for item in items:
        if item.permissions is None:
            continue
        ctx.out("")
        ctx.out(f"{item.id}:")
        for key, value in item.permissions.items():
            if isinstance(value, list):
                shown = ", ".join(value) if value else "-"
            else:
                shown = str(value).lower() if isinstance(value, bool) else str(value)
            ctx.out(f"  {key}: {shown}")
