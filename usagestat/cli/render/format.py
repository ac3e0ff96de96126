"""Formatting of single values, shared by every human-facing renderer.

Numbers are written for people: ``950``, ``1000``, ``45,000``, ``12.3M``; money
with its symbol (``$4.50``, ``€12.34``); durations as ``3h 12m``. ``--plain``
uses :func:`exact` instead, so scripts get every digit.
"""

from __future__ import annotations

from datetime import datetime

from usagestat.core.models import MetricFormat, Pace, ProgressLine
from usagestat.core.timeutil import format_timestamp, parse_timestamp

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}
_COMPACT = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def number(value: float) -> str:
    """Human-sized number: 42, 4.5, 1000, 45,000, 12.3M, 123.5B, 0.0001.

    Four-digit numbers have no separator (``950 / 1000 credits``); from five
    digits a comma groups thousands; from ten million a suffix keeps it short.
    """
    magnitude = abs(value)
    for bound, suffix in _COMPACT:
        if magnitude >= bound * 10 or (bound >= 1e9 and magnitude >= bound):
            return f"{value / bound:.1f}".rstrip("0").rstrip(".") + suffix
    if value == int(value):
        whole = int(value)
        return f"{whole:,}" if abs(whole) >= 10000 else str(whole)
    if magnitude >= 100:
        text = f"{value:.0f}"
        return f"{round(value):,}" if magnitude >= 10000 else text
    if magnitude >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


def exact(value: float) -> str:
    """Every digit, no grouping: ``123456789012``, ``4.5``, ``0.0001`` (for ``--plain``)."""
    if value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return repr(float(value))


def money(value: float, currency: str | None) -> str:
    code = (currency or "USD").upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    amount = f"{value:,.2f}"
    if amount.startswith("-"):
        return f"-{symbol}{amount[1:]}" if symbol else f"{amount} {code}"
    return f"{symbol}{amount}" if symbol else f"{amount} {code}"


def percent_of(line: ProgressLine) -> float:
    return line.used / line.limit * 100.0 if line.limit else 0.0


def progress_value(line: ProgressLine, digits: str = "human") -> str:
    """``42.0% (42 / 100)``, ``$4.50 / $10.00`` or ``950 / 1000 credits``."""
    fmt: MetricFormat = line.format
    show = exact if digits == "exact" else number
    if fmt.kind == "percent":
        return f"{percent_of(line):.1f}% ({show(line.used)} / {show(line.limit)})"
    if fmt.kind == "dollars":
        return f"{money(line.used, fmt.currency)} / {money(line.limit, fmt.currency)}"
    return f"{show(line.used)} / {show(line.limit)} {fmt.suffix or ''}".rstrip()


def duration(seconds: float) -> str:
    """``3h 12m``, ``2d 4h``, ``45m``, ``<1m``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return "<1m"


def local_date(moment: datetime, now: datetime) -> str:
    """``Sat 17 Jan 12:00`` in local time (with the year when it is not this year)."""
    local = moment.astimezone()
    same_year = local.year == now.astimezone().year
    return local.strftime("%a %d %b %H:%M" if same_year else "%a %d %b %Y %H:%M")


def resets(resets_at: str | None, now: datetime) -> str | None:
    """``resets in 3h 12m``, or a local date when more than a day away."""
    moment = parse_timestamp(resets_at)
    if moment is None:
        return None
    left = (moment - now).total_seconds()
    if left <= 0:
        return "reset due"
    if left <= 86400:
        return f"resets in {duration(left)}"
    return "resets " + local_date(moment, now)


def resets_plain(resets_at: str | None) -> str | None:
    moment = parse_timestamp(resets_at)
    return f"resets {format_timestamp(moment)}" if moment else None


def ago(fetched_at: str | None, now: datetime) -> str | None:
    moment = parse_timestamp(fetched_at)
    if moment is None:
        return None
    return f"{duration((now - moment).total_seconds())} ago"


def pace_text(pace: Pace | None, dash: str = "—") -> str | None:
    """``on track`` / ``over by 12% — runs out in 2h 10m`` / ``under by 8%``."""
    if pace is None:
        return None
    delta = abs(pace.delta_percent)
    if pace.stage == "on_track":
        head = "on track"
    elif pace.delta_percent > 0:
        head = f"over by {delta:.0f}%"
    else:
        head = f"under by {delta:.0f}%"
    if not pace.will_last_to_reset and pace.eta_seconds is not None:
        return f"{head} {dash} runs out in {duration(pace.eta_seconds)}"
    return head
