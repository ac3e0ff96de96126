"""``usage.scanLogs``: token and cost totals from the agents' own session logs.

The scanning lives in :mod:`usagestat.core.usagelogs`; this adapter only
decides which log roots the plugin may read (the ones its ``fs`` permission
covers) and converts the options.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from ..permissions import PermissionDenied
from .session import HostError, HostSession


def _day(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise HostError(f"usage.scanLogs: {what} must be YYYY-MM-DD")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise HostError(f"usage.scanLogs: {what} must be YYYY-MM-DD")


def scan_logs(session: HostSession, opts: dict[str, Any]) -> dict[str, Any]:
    from usagestat.core import usagelogs

    provider = opts.get("provider")
    if provider not in usagelogs.PROVIDERS:
        raise HostError(f"usage.scanLogs: provider must be one of {', '.join(usagelogs.PROVIDERS)}")
    policy = session.policy
    allowed = []
    for root in usagelogs.default_roots(provider, env=policy.env, home=policy.home):
        try:
            policy.resolve_read(str(root))
        except PermissionDenied:
            continue
        allowed.append(root)
    try:
        report = usagelogs.scan(
            provider,
            since=_day(opts.get("since"), "since"),
            until=_day(opts.get("until"), "until"),
            roots=allowed,
            index_dir=os.path.join(session.data_dir, "log-index"),
            deadline=session.deadline.at,
        )
    except usagelogs.ScanIncomplete as exc:  # progress is saved; the next probe continues
        raise HostError(f"usage.scanLogs: {exc}")
    except OSError as exc:
        raise HostError(f"usage.scanLogs: cannot update the log index: {exc.strerror or exc}")
    return usagelogs.report_json(report)
