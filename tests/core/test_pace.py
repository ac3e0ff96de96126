"""Pace stages and edge cases (SPEC §2.3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from usagestat.core.models import MetricFormat, ProgressLine
from usagestat.core.pace import compute_pace, stage_for
from usagestat.core.timeutil import format_timestamp

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
HOUR = 3600 * 1000


def line(
    used: float,
    elapsed_hours: float,
    period_hours: float = 5,
    limit: float = 100,
    kind: str = "percent",
):
    resets = NOW + timedelta(hours=period_hours - elapsed_hours)
    return ProgressLine(
        "S", used, limit, MetricFormat(kind), format_timestamp(resets), period_hours * HOUR
    )


@pytest.mark.parametrize(
    ("delta", "stage"),
    [
        (-20.01, "well_under"),
        (-20.0, "under"),
        (-10.01, "under"),
        (-10.0, "slightly_under"),
        (-3.01, "slightly_under"),
        (-3.0, "on_track"),
        (0.0, "on_track"),
        (3.0, "on_track"),
        (3.01, "slightly_over"),
        (10.0, "slightly_over"),
        (10.01, "over"),
        (20.0, "over"),
        (20.01, "well_over"),
    ],
)
def test_stage_boundaries(delta: float, stage: str) -> None:
    assert stage_for(delta) == stage


def test_half_way_on_track() -> None:
    pace = compute_pace([line(50, 2.5)], NOW)
    assert pace is not None
    assert pace.stage == "on_track"
    assert pace.expected_used_percent == 50.0 and pace.actual_used_percent == 50.0
    assert pace.will_last_to_reset is True


def test_over_pace_runs_out_before_reset() -> None:
    pace = compute_pace([line(80, 2.0)], NOW)  # 80% used after 2 of 5 hours
    assert pace is not None
    assert pace.stage == "well_over" and pace.delta_percent == 40.0
    # burn = 40 %/h, 20 % left -> 0.5 h
    assert pace.eta_seconds == pytest.approx(1800, abs=1)
    assert pace.will_last_to_reset is False


def test_zero_burn_has_no_eta_and_lasts() -> None:
    pace = compute_pace([line(0, 1.0)], NOW)
    assert pace is not None and pace.eta_seconds is None and pace.will_last_to_reset is True
    assert pace.stage == "under"  # delta exactly -20


def test_values_are_clamped() -> None:
    pace = compute_pace([line(150, 2.5)], NOW)
    assert pace is not None and pace.actual_used_percent == 100.0


@pytest.mark.parametrize(
    "metrics",
    [
        [],
        [ProgressLine("S", 1, 100, MetricFormat("percent"))],  # no reset/period
        [line(10, 1, kind="dollars")],  # not percent
        [line(10, -1)],  # elapsed <= 0 (reset further away than a period)
        [line(10, 6)],  # reset already passed
    ],
)
def test_no_pace(metrics) -> None:
    assert compute_pace(metrics, NOW) is None


def test_first_eligible_line_wins() -> None:
    first = line(10, 2.5)
    second = line(90, 2.5)
    pace = compute_pace([ProgressLine("x", 5, 10, MetricFormat("count", "c")), first, second], NOW)
    assert pace is not None and pace.actual_used_percent == 10.0
