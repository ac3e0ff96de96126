"""Derived figures of a snapshot for CSV export and compact views (SPEC §2.2).

Everything is derived from structured metrics, never by scraping digits out of
text: ``primary_percent`` is the highest used/limit·100 over percent bars,
``cost`` the first dollars ``used``, token counts the sums of count bars whose
suffix says tokens and whose label says input/output, ``reset_time`` the
earliest ``resetsAt``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import ProgressLine, UsageSnapshot
from .timeutil import parse_timestamp

CSV_HEADER = (
    "ts",
    "provider_id",
    "display_name",
    "plan",
    "primary_percent",
    "input_tokens",
    "output_tokens",
    "cost",
    "reset_time",
)


def primary_percent(snap: UsageSnapshot) -> float | None:
    """The highest used/limit·100 over percent-format progress lines (None when there is none)."""
    values = [
        line.used / line.limit * 100.0
        for line in snap.metrics
        if isinstance(line, ProgressLine) and line.format.kind == "percent" and line.limit > 0
    ]
    return max(values) if values else None


def token_sum(snap: UsageSnapshot, word: str) -> float | None:
    """Sum of ``used`` over token count bars whose label contains ``word`` (case-insensitive)."""
    values = [
        line.used
        for line in snap.metrics
        if isinstance(line, ProgressLine)
        and line.format.kind == "count"
        and "token" in (line.format.suffix or "").lower()
        and word in line.label.lower()
    ]
    return sum(values) if values else None


def cost(snap: UsageSnapshot) -> float | None:
    """The ``used`` amount of the first dollars-format bar."""
    for line in snap.metrics:
        if isinstance(line, ProgressLine) and line.format.kind == "dollars":
            return line.used
    return None


def earliest_reset(snap: UsageSnapshot) -> str | None:
    found = [
        (moment, line.resets_at)
        for line in snap.metrics
        if isinstance(line, ProgressLine) and line.resets_at
        for moment in (parse_timestamp(line.resets_at),)
        if moment is not None
    ]
    return min(found)[1] if found else None


def _cell(value: Any, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is not None:
        return f"{value:.{digits}f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csv_row(snap: UsageSnapshot, ts: str | None = None) -> list[str]:
    """One CSV row; ``ts`` defaults to the snapshot's ``fetchedAt``.

    An error snapshot has no metrics to derive from, so its figures are empty.
    """
    derive = not snap.is_error
    return [
        ts or snap.fetched_at,
        snap.provider_id,
        snap.display_name,
        _cell(snap.plan),
        _cell(primary_percent(snap) if derive else None, 2),
        _cell(token_sum(snap, "input") if derive else None),
        _cell(token_sum(snap, "output") if derive else None),
        _cell(cost(snap) if derive else None, 6),
        _cell(earliest_reset(snap) if derive else None),
    ]


def to_csv(snapshots: Iterable[UsageSnapshot | tuple[UsageSnapshot, str]]) -> str:
    """The header plus one row per snapshot (or ``(snapshot, ts)`` pair)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for item in snapshots:
        if isinstance(item, tuple):
            writer.writerow(csv_row(item[0], item[1]))
        else:
            writer.writerow(csv_row(item))
    return buffer.getvalue()
