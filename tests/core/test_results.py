"""The validator never lets an invalid line through, and says what is wrong."""

from __future__ import annotations

import pytest

from usagestat.core.results import InvalidResult, parse_probe_error, parse_probe_result

OK = {"type": "progress", "label": "S", "used": 1, "limit": 2, "format": {"kind": "percent"}}


def test_valid_result_is_normalised() -> None:
    result = parse_probe_result(
        {
            "plan": "Pro",
            "displayName": "Mine",
            "retryAfterSec": 30,
            "lines": [
                {
                    **OK,
                    "resetsAt": "2026-01-15T12:00:00.123456+02:00",
                    "color": "#ABC",
                    "periodDurationMs": 1000,
                },
                {"type": "text", "label": "n", "value": 5, "color": None},
                {"type": "badge", "label": "b", "text": "ok", "color": "amber", "detail": True},
            ],
        }
    )
    progress = result.metrics[0]
    assert progress.resets_at == "2026-01-15T10:00:00.123Z"
    assert progress.color == "#aabbcc" and result.metrics[1].value == "5"
    assert result.plan == "Pro" and result.retry_after_sec == 30


def test_bare_array_is_metrics() -> None:
    assert len(parse_probe_result([OK]).metrics) == 1


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"metrics": "x"}, "metrics must be an array"),
        ("nope", "must return an object"),
        ({}, "no metrics"),
        ({"metrics": [5]}, "metrics[0] must be an object"),
        ({"metrics": [{**OK, "type": "graph"}]}, "metrics[0].type"),
        ({"metrics": [{**OK, "used": "1"}]}, "metrics[0].used must be a number"),
        ({"metrics": [{**OK, "used": float("nan")}]}, "finite"),
        ({"metrics": [{**OK, "used": -1}]}, "negative"),
        ({"metrics": [{**OK, "limit": 0}]}, "greater than 0"),
        ({"metrics": [{**OK, "format": {"kind": "bytes"}}]}, "format.kind"),
        ({"metrics": [{**OK, "format": {"kind": "count"}}]}, "suffix"),
        ({"metrics": [{**OK, "format": {"kind": "dollars", "currency": "euro"}}]}, "ISO 4217"),
        ({"metrics": [{**OK, "resetsAt": "tomorrow"}]}, "resetsAt"),
        ({"metrics": [{**OK, "color": "pink"}]}, "color"),
        ({"metrics": [{**OK, "label": 3}]}, "label must be a string"),
        ({"metrics": [{**OK, "label": "x" * 5000}]}, "4 KiB"),
        ({"metrics": [{"type": "text", "label": "a"}]}, "value is missing"),
        ({"metrics": [OK], "source": "satellite"}, "source"),
        ({"metrics": [OK] * 201}, "more than 200"),
        ({"metrics": [{**OK, "detail": "yes"}]}, "detail"),
    ],
)
def test_invalid_results(raw, fragment: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_probe_result(raw)
    assert fragment in str(info.value)


def test_thrown_values() -> None:
    assert parse_probe_error("boom").state == "failed"
    failure = parse_probe_error({"code": "rate-limited", "message": "later", "retryAfterSec": 90})
    assert (failure.state, failure.message, failure.retry_after_sec) == (
        "rate-limited",
        "later",
        90,
    )
    assert parse_probe_error({"code": "bogus", "message": "x"}).state == "failed"
    assert parse_probe_error({"code": "missing-auth"}).message == "missing-auth"
    assert parse_probe_error(None).message
    assert len(parse_probe_error("x" * 5000).message) <= 1000
