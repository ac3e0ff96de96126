"""An independent check of the SPEC §2.1 wire shapes, written from the spec, not the code.

The validator in ``usagestat.core.results`` decides what a plugin may return;
this module decides, separately, whether what came out is a valid snapshot, so
a fuzzer can catch the validator letting something through.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

STATES = (
    "ready",
    "missing-auth",
    "credential-denied",
    "rate-limited",
    "timed-out",
    "unsupported",
    "no-data",
    "failed",
)
SOURCES = ("oauth", "api", "web", "local", "cli", "custom", "mock")
COLORS = ("red", "amber", "green", "blue", "grey")
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
HEX_COLOR = re.compile(r"^#[0-9a-f]{6}$")
ALWAYS = ("statusPageUrl", "pace", "error", "stale", "lastError")


def _text(value: Any, where: str, *, limit: bool = True) -> None:
    assert isinstance(value, str), f"{where}: not a string: {value!r}"
    encoded = value.encode("utf-8")  # raises on a lone surrogate
    if limit:
        assert len(encoded) <= 4096, f"{where}: longer than 4 KiB"


def _number(value: Any, where: str) -> None:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    assert math.isfinite(value), f"{where}: not finite"


def check_line(line: Any, where: str) -> None:
    assert isinstance(line, dict), where
    assert all(v is not None for v in line.values()), f"{where}: optional member is null"
    kind = line.get("type")
    _text(line.get("label"), f"{where}.label")
    if "color" in line:
        assert line["color"] in COLORS or HEX_COLOR.match(line["color"]), f"{where}.color"
    if "detail" in line:
        assert line["detail"] is True, f"{where}.detail is written only when true"
    if kind == "text":
        assert set(line) <= {"type", "label", "value", "color", "subtitle", "detail"}, where
        _text(line.get("value"), f"{where}.value")
    elif kind == "badge":
        assert set(line) <= {"type", "label", "text", "color", "subtitle", "detail"}, where
        _text(line.get("text"), f"{where}.text")
    elif kind == "progress":
        allowed = {"type", "label", "used", "limit", "format", "resetsAt", "periodDurationMs"}
        assert set(line) <= allowed | {"color", "detail"}, where
        _number(line.get("used"), f"{where}.used")
        _number(line.get("limit"), f"{where}.limit")
        assert line["used"] >= 0 and line["limit"] > 0, f"{where}: used/limit out of range"
        fmt = line.get("format")
        assert isinstance(fmt, dict) and fmt.get("kind") in ("percent", "dollars", "count"), where
        if fmt["kind"] == "count":
            _text(fmt.get("suffix"), f"{where}.format.suffix")
            assert fmt["suffix"], f"{where}.format.suffix is empty"
        if "currency" in fmt:
            assert fmt["kind"] == "dollars" and re.match(r"^[A-Z]{3}$", fmt["currency"]), where
        if "resetsAt" in line:
            assert RFC3339_Z.match(line["resetsAt"]), f"{where}.resetsAt"
        if "periodDurationMs" in line:
            _number(line["periodDurationMs"], f"{where}.periodDurationMs")
            assert line["periodDurationMs"] > 0
    else:
        raise AssertionError(f"{where}.type: {kind!r}")
    if "subtitle" in line:
        _text(line["subtitle"], f"{where}.subtitle")


def check_snapshot(snap: Any) -> None:
    """Raise AssertionError unless ``snap`` is a valid UsageSnapshot (JSON form)."""
    assert isinstance(snap, dict), "snapshot is not an object"
    for key in ALWAYS:
        assert key in snap, f"{key} must always be present"
    for key in ("providerId", "instanceId", "displayName"):
        _text(snap.get(key), key, limit=False)
    assert snap["state"] in STATES, snap["state"]
    assert RFC3339_Z.match(snap.get("fetchedAt") or ""), "fetchedAt"
    assert isinstance(snap["stale"], bool)
    metrics = snap.get("metrics")
    assert isinstance(metrics, list) and metrics, "metrics must be a non-empty array"
    for index, line in enumerate(metrics):
        check_line(line, f"metrics[{index}]")
    if "plan" in snap:
        _text(snap["plan"], "plan")
    if snap["state"] == "ready":
        assert snap["source"] in SOURCES, snap["source"]
        assert snap["error"] is None
    else:
        assert snap["source"] == "error"
        error = snap["error"]
        assert isinstance(error, dict) and error.get("code") == snap["state"], error
        _text(error.get("message"), "error.message")
        assert error["message"].strip(), "an error needs a message"
        assert metrics == [
            {"type": "badge", "label": "Error", "text": error["message"], "color": "red"}
        ]
    # What every consumer does with it: strict JSON in UTF-8.
    json.dumps(snap, ensure_ascii=False, allow_nan=False).encode("utf-8")


def clear_message(message: str) -> None:
    """A message a user can act on: no Python internals."""
    assert message and message.strip(), "empty message"
    for marker in ("Traceback", "worker error:", "internal error", 'File "', "RecursionError"):
        assert marker not in message, f"unclear message: {message[:300]!r}"
