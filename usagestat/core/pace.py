"""Pace: is the user on course to run out before the window resets? (SPEC §2.3)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .models import MetricLine, Pace, ProgressLine
from .timeutil import parse_timestamp

#: (upper bound of delta, stage); the first bound the delta is below (or at) wins.
_STAGES = (
    (-20.0, "well_under", False),
    (-10.0, "under", False),
    (-3.0, "slightly_under", False),
    (3.0, "on_track", True),
    (10.0, "slightly_over", True),
    (20.0, "over", True),
)


def stage_for(delta: float) -> str:
    """Map actual − expected (percentage points) to a pace stage name."""
    for bound, name, inclusive in _STAGES:
        if delta < bound or (inclusive and delta == bound):
            return name
    return "well_over"


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def pace_line(metrics: Iterable[MetricLine]) -> ProgressLine | None:
    """The line pace is computed from: the first percent bar with a reset and a period."""
    for line in metrics:
        if (
            isinstance(line, ProgressLine)
            and line.format.kind == "percent"
            and line.resets_at
            and line.period_duration_ms
            and line.limit > 0
        ):
            return line
    return None


def compute_pace(metrics: Iterable[MetricLine], now: datetime) -> Pace | None:
    line = pace_line(metrics)
    if line is None:
        return None
    resets_at = parse_timestamp(line.resets_at)
    if resets_at is None:
        return None
    period = float(line.period_duration_ms or 0) / 1000.0
    to_reset = (resets_at - now).total_seconds()
    if to_reset <= 0 or period <= 0:
        return None
    elapsed = period - to_reset
    if elapsed <= 0:
        return None
    actual = _clamp(line.used / line.limit * 100.0)
    expected = _clamp(elapsed / period * 100.0)
    delta = actual - expected
    burn = actual / elapsed  # percent per second
    if burn <= 0:
        eta: float | None = None
        will_last = True
    else:
        eta = max(0.0, (100.0 - actual) / burn)
        will_last = eta >= to_reset
    return Pace(
        stage=stage_for(delta),
        delta_percent=round(delta, 2),
        expected_used_percent=round(expected, 2),
        actual_used_percent=round(actual, 2),
        will_last_to_reset=will_last,
        eta_seconds=round(eta, 1) if eta is not None else None,
    )
