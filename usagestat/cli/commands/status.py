"""``usagestat status``: each provider's service status from its Statuspage page."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from usagestat.core.models import ProviderStatus

    from ..context import CliContext

DESCRIPTION = """\
Ask each provider's status page (Statuspage, <statusPageUrl>/api/v2/status.json)
whether the service is healthy. Pages are fetched in parallel with a 10 s
timeout. A provider without a status page, or whose page cannot be read,
shows the indicator "unknown" (with the reason in JSON). No credentials are
used and no usage is probed.

With no IDs: the enabled providers (--all: every discovered provider).

indicators: none (operational), minor, major, critical, maintenance, unknown

examples:
  usagestat status
  usagestat status claude codex
  usagestat status --json        # ProviderStatus objects

output:
  Claude  operational   All Systems Operational
  Codex   minor         Partially Degraded Service
  Mock    unknown       no status page
"""
LABELS = {
    "none": ("operational", "green"),
    "minor": ("minor", "amber"),
    "major": ("major", "red"),
    "critical": ("critical", "red"),
    "maintenance": ("maintenance", "blue"),
    "unknown": ("unknown", "dim"),
}


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "status",
        parents=[common],
        help="show each provider's service status (Statuspage)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="provider or instance ids")


def statuses(ctx: CliContext, ids: list[str]) -> list[ProviderStatus]:
    """One status per distinct provider among the selected instances, in order."""
    from usagestat.core.statuspage import fetch_statuses

    seen: set[str] = set()
    targets = []
    for inst in ctx.select(ids):
        if inst.provider_id in seen:
            continue
        seen.add(inst.provider_id)
        name = inst.plugin.manifest.name if inst.plugin else inst.display_name
        targets.append((inst.provider_id, name, inst.status_page_url))
    return fetch_statuses(targets, ca_bundle=ctx.config.ca_bundle)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    found = statuses(ctx, list(args.ids))
    if ctx.json:
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(found))
        return 0
    if ctx.plain:
        for item in found:
            detail = (
                item.description or item.error or ("no status page" if not item.status_url else "")
            )
            ctx.out(f"{item.provider_id}: {item.indicator}" + (f" ({detail})" if detail else ""))
        return 0
    if not found:
        ctx.stderr.write("usagestat: no providers are enabled; name some or use --all\n")
        return 0
    rows = []
    for item in found:
        label, style = LABELS.get(item.indicator, ("unknown", "dim"))
        if item.description:
            detail, detail_style = item.description, None
        elif item.error:
            detail, detail_style = item.error, "red"
        else:
            detail, detail_style = "no status page", "dim"
        rows.append([(item.display_name, "bold"), (label, style), (detail, detail_style)])
    ctx.table(rows)
    return 0
