"""The one serialiser produces exactly the SPEC §2 JSON shapes."""

from __future__ import annotations

import json

from usagestat.core.models import (
    BadgeLine,
    ErrorInfo,
    LastError,
    MetricFormat,
    Pace,
    ProgressLine,
    ProviderStatus,
    ProviderSummary,
    TextLine,
    UsageSnapshot,
)
from usagestat.core.results import error_snapshot
from usagestat.core.serialize import dumps, snapshot_from_json, to_json

GOLDEN = {
    "providerId": "claude",
    "instanceId": "claude-work",
    "displayName": "Claude (work)",
    "source": "oauth",
    "plan": "Max 20x",
    "metrics": [
        {
            "type": "progress",
            "label": "Session",
            "used": 42.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2026-01-15T15:00:00Z",
            "periodDurationMs": 18000000,
        },
        {
            "type": "progress",
            "label": "Extra usage",
            "used": 4.5,
            "limit": 10.0,
            "format": {"kind": "dollars", "currency": "EUR"},
            "color": "#de7356",
            "detail": True,
        },
        {
            "type": "progress",
            "label": "Credits",
            "used": 950.0,
            "limit": 1000.0,
            "format": {"kind": "count", "suffix": "credits"},
        },
        {"type": "text", "label": "Today", "value": "$5.17", "subtitle": "9.2M tokens"},
        {"type": "badge", "label": "Status", "text": "OK", "color": "green"},
    ],
    "fetchedAt": "2026-01-15T12:00:00Z",
    "statusPageUrl": "https://status.claude.com",
    "pace": {
        "stage": "on_track",
        "deltaPercent": 2.0,
        "expectedUsedPercent": 40.0,
        "actualUsedPercent": 42.0,
        "willLastToReset": True,
        "etaSeconds": None,
    },
    "state": "ready",
    "error": None,
    "stale": False,
    "lastError": None,
}


def golden_snapshot() -> UsageSnapshot:
    return UsageSnapshot(
        provider_id="claude",
        instance_id="claude-work",
        display_name="Claude (work)",
        source="oauth",
        plan="Max 20x",
        metrics=[
            ProgressLine(
                "Session", 42.0, 100.0, MetricFormat("percent"), "2026-01-15T15:00:00Z", 18000000.0
            ),
            ProgressLine(
                "Extra usage",
                4.5,
                10.0,
                MetricFormat("dollars", currency="EUR"),
                color="#de7356",
                detail=True,
            ),
            ProgressLine("Credits", 950.0, 1000.0, MetricFormat("count", suffix="credits")),
            TextLine("Today", "$5.17", subtitle="9.2M tokens"),
            BadgeLine("Status", "OK", color="green"),
        ],
        fetched_at="2026-01-15T12:00:00Z",
        status_page_url="https://status.claude.com",
        pace=Pace("on_track", 2.0, 40.0, 42.0, True, None),
    )


def test_snapshot_golden_json_including_key_order() -> None:
    data = to_json(golden_snapshot())
    assert data == GOLDEN
    assert list(data) == list(GOLDEN)
    assert json.loads(dumps(golden_snapshot())) == GOLDEN


def test_used_and_limit_are_floats_and_a_whole_period_an_integer() -> None:
    text = dumps(golden_snapshot())
    assert '"used":42.0,"limit":100.0,' in text
    assert '"periodDurationMs":18000000}' in text
    snap = golden_snapshot()
    snap.metrics[0].period_duration_ms = 1500.5
    assert '"periodDurationMs":1500.5}' in dumps(snap)


def test_optional_members_are_omitted_never_null() -> None:
    text = dumps(
        UsageSnapshot(
            provider_id="x",
            instance_id="x",
            display_name="X",
            source="api",
            metrics=[TextLine("a", "b")],
            fetched_at="2026-01-15T12:00:00Z",
        )
    )
    data = json.loads(text)
    assert "plan" not in data and "status" not in data
    assert data["metrics"] == [{"type": "text", "label": "a", "value": "b"}]
    # statusPageUrl, pace, error, lastError are always present
    for key in ("statusPageUrl", "pace", "error", "lastError"):
        assert key in data and data[key] is None
    assert data["stale"] is False


def test_error_snapshot_shape() -> None:
    snap = error_snapshot(
        provider_id="codex",
        instance_id="codex",
        display_name="Codex",
        state="missing-auth",
        message="Not logged in. Run `codex login`.",
        fetched_at="2026-01-15T12:00:00Z",
    )
    data = to_json(snap)
    assert data["source"] == "error"
    assert data["state"] == "missing-auth"
    assert data["error"] == {"code": "missing-auth", "message": "Not logged in. Run `codex login`."}
    assert data["metrics"] == [
        {
            "type": "badge",
            "label": "Error",
            "text": "Not logged in. Run `codex login`.",
            "color": "red",
        }
    ]


def test_unknown_state_becomes_failed() -> None:
    snap = error_snapshot(
        provider_id="a",
        instance_id="a",
        display_name="A",
        state="weird",
        message="m",
        fetched_at="2026-01-15T12:00:00Z",
    )
    assert snap.state == "failed" and snap.error == ErrorInfo("failed", "m")


def test_round_trip_through_json() -> None:
    snap = golden_snapshot()
    snap.last_error = LastError("rate-limited", "slow down", "2026-01-15T12:05:00Z")
    snap.status = ProviderStatus(
        "claude",
        "Claude",
        "https://status.claude.com/api/v2/status.json",
        "minor",
        "Degraded",
        None,
    )
    back = snapshot_from_json(json.loads(dumps(snap)))
    back.pace = snap.pace
    assert to_json(back) == to_json(snap)


def test_provider_summary_shape() -> None:
    summary = ProviderSummary(
        id="mock", name="Mock", enabled=True, supported_modes=["local"], auto_mode="local", dev=True
    )
    assert to_json(summary) == {
        "id": "mock",
        "name": "Mock",
        "enabled": True,
        "supportedModes": ["local"],
        "autoMode": "local",
        "webUrl": None,
        "links": [],
        "dev": True,
    }
