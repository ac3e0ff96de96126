"""Derived figures of a snapshot for CSV export and compact views (SPEC §2.2).

Everything is derived from structured metrics, never by scraping text.
"""

from __future__ import annotations

import csv
import io
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
    """The highest used/limit·100 over percent-format progress lines."""
    values = [
        line.used / line.limit * 100.0
        for line in snap.metrics
        if isinstance(line, ProgressLine) and line.format.kind == "percent" and line.limit > 0
    ]
    return max(values) if values else None


def _token_sum(snap: UsageSnapshot, word: str) -> float | None:
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
    for line in snap.metrics:
        if isinstance(line, ProgressLine) and line.format.kind == "dollars":
            return line.used
    return None


def earliest_reset(snap: UsageSnapshot) -> str | None:
    resets = [
        (parse_timestamp(line.resets_at), line.resets_at)
        for line in snap.metrics
        if isinstance(line, ProgressLine) and line.resets_at
    ]
    resets = [item for item in resets if item[0] is not None]
    return min(resets)[1] if resets else None


def csv_row(snap: UsageSnapshot) -> list[str]:
    def cell(value: Any, digits: int | None = None) -> str:
        if value is None:
            return ""
        if digits is not None:
            return f"{value:.{digits}f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return [
        snap.fetched_at,
        snap.provider_id,
        snap.display_name,
        cell(snap.plan),
        cell(primary_percent(snap), 2),
        cell(_token_sum(snap, "input")),
        cell(_token_sum(snap, "output")),
        cell(cost(snap), 6),
        cell(earliest_reset(snap)),
    ]


def to_csv(snapshots: Iterable[UsageSnapshot]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for snap in snapshots:
        writer.writerow(csv_row(snap))
    return buffer.getvalue()
