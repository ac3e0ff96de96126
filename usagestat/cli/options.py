"""Small helpers shared by command modules: output format, ``--since`` dates, engine check."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .errors import CliError, UsageError

if TYPE_CHECKING:
    from usagestat.plugins.instances import Instance

    from .context import CliContext


def output_format(
    ctx: CliContext, args: argparse.Namespace, choices: Sequence[str], default: str
) -> str:
    """``--format``, with ``--json`` meaning ``--format json`` (a conflict is a usage error)."""
    chosen = getattr(args, "format", None)
    if ctx.json:
        if "json" not in choices:
            raise UsageError(f"--json is not available here (formats: {', '.join(choices)})")
        if chosen not in (None, "json"):
            raise UsageError(f"--json conflicts with --format {chosen}")
        return "json"
    if ctx.plain and chosen not in (None, "text", default):
        raise UsageError(f"--plain conflicts with --format {chosen}")
    return chosen or default


def parse_since(text: str) -> datetime:
    """``YYYY-MM-DD`` (local midnight) or an RFC 3339 timestamp, as aware UTC."""
    import re

    from usagestat.core.timeutil import UTC, parse_timestamp

    value = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        try:
            local = datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise UsageError(f"--since: not a date: {text!r}")
        return local.astimezone().astimezone(UTC)
    if "T" not in value.upper() and " " not in value:
        raise UsageError(f"--since: expected YYYY-MM-DD or an RFC 3339 time, got {text!r}")
    moment = parse_timestamp(value)
    if moment is None:
        raise UsageError(f"--since: expected YYYY-MM-DD or an RFC 3339 time, got {text!r}")
    return moment


def require_engine(instances: Sequence[Instance]) -> None:
    """Fail with one line (exit 1) when a JS plugin must run and the engine is missing."""
    if not any(inst.plugin is not None for inst in instances):
        return
    from usagestat.plugins.engine import EngineUnavailable, load_engine
    from usagestat.plugins.isolation import engine_file

    try:
        if engine_file() is not None:  # in the .pyz this extracts the engine (or says why not)
            return
        load_engine()
    except EngineUnavailable as exc:
        raise CliError(str(exc))
