"""RFC 3339 timestamps in UTC.

Every timestamp usagestat emits is UTC with a ``Z`` suffix. Python 3.10's
``datetime.fromisoformat`` rejects ``Z`` and more than six fractional digits,
both of which real provider APIs send, so parsing is done here once.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def now_utc() -> datetime:
    """The current time as an aware UTC datetime.

    ``USAGESTAT_NOW`` (an RFC 3339 timestamp) pins the clock for reproducible
    output: golden tests and documentation examples use it.
    """
    pinned = os.environ.get("USAGESTAT_NOW")
    if pinned:
        moment = parse_timestamp(pinned)
        if moment is not None:
            return moment
    return datetime.now(UTC)


def parse_timestamp(value: object) -> datetime | None:
    """Parse an RFC 3339 / ISO 8601 string or a Unix time (s or ms) into aware UTC.

    A string without an offset is taken as UTC. Returns None for anything else.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            return None
        if abs(number) >= 1e11:  # milliseconds
            number /= 1000.0
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, frac, offset = match.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        result = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        try:
            result -= sign * delta
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
            return None
    return result


def format_timestamp(moment: datetime) -> str:
    """Format as UTC RFC 3339 with ``Z``; milliseconds only when non-zero."""
    moment = moment.astimezone(UTC)
    # Not strftime: glibc's %Y does not zero-pad years before 1000 ("999-12-31").
    base = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    millis = moment.microsecond // 1000
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def normalize_timestamp(value: object) -> str | None:
    """Parse anything :func:`parse_timestamp` accepts and re-format it, else None."""
    parsed = parse_timestamp(value)
    return format_timestamp(parsed) if parsed else None
