"""Turn what a probe returned (or threw) into a validated :class:`UsageSnapshot`.

Plugins are untrusted: every member is checked and an invalid line becomes an
error naming the plugin, the line index and the reason (SPEC §3.3). Nothing
that fails these checks ever reaches a snapshot.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .models import (
    ERROR_STATES,
    FORMAT_KINDS,
    NAMED_COLORS,
    SOURCES,
    BadgeLine,
    ErrorInfo,
    MetricFormat,
    MetricLine,
    ProgressLine,
    TextLine,
    UsageSnapshot,
)
from .timeutil import normalize_timestamp

MAX_STRING = 4096
MAX_LINES = 200
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Replace lone UTF-16 surrogates (JS strings may hold them) with U+FFFD.

    They cannot be encoded as UTF-8, so one left in a snapshot would break every
    JSON answer, cache write and history line that includes it.
    """
    return _LONE_SURROGATE.sub("\ufffd", value)


class InvalidResult(ValueError):
    """The probe's result does not follow the contract."""


@dataclass
class ProbeResult:
    metrics: list[MetricLine]
    display_name: str | None = None
    source: str | None = None
    plan: str | None = None
    retry_after_sec: float | None = None


@dataclass
class ProbeFailure:
    state: str
    message: str
    retry_after_sec: float | None = None


def _string(
    value: Any, where: str, *, required: bool = True, allow_number: bool = False
) -> str | None:
    if value is None:
        if required:
            raise InvalidResult(f"{where} is missing")
        return None
    if allow_number and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidResult(f"{where} must be a string")
    value = clean_text(value)
    if len(value.encode("utf-8")) > MAX_STRING:
        raise InvalidResult(f"{where} is longer than 4 KiB")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidResult(f"{where} must be a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range (custom commands print any JSON)
        raise InvalidResult(f"{where} must be a finite number")
    if not math.isfinite(number):
        raise InvalidResult(f"{where} must be a finite number")
    return number


def _color(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidResult(f"{where} must be a string")
    if value in NAMED_COLORS:
        return value
    if _HEX_COLOR.match(value):
        hex_digits = value[1:].lower()
        if len(hex_digits) == 3:
            hex_digits = "".join(ch * 2 for ch in hex_digits)
        return "#" + hex_digits
    raise InvalidResult(f"{where} must be #rrggbb or one of {', '.join(NAMED_COLORS)}")


def _format(value: Any, where: str) -> MetricFormat:
    if not isinstance(value, dict):
        raise InvalidResult(f"{where} must be an object like {{kind: 'percent'}}")
    kind = value.get("kind")
    if kind not in FORMAT_KINDS:
        raise InvalidResult(f"{where}.kind must be one of {', '.join(FORMAT_KINDS)}")
    suffix = currency = None
    if kind == "count":
        suffix = _string(value.get("suffix"), f"{where}.suffix")
        if not suffix:
            raise InvalidResult(f"{where}.suffix is required for count")
    if kind == "dollars" and value.get("currency") is not None:
        currency = _string(value.get("currency"), f"{where}.currency")
        if not _CURRENCY.match(currency or ""):
            raise InvalidResult(f"{where}.currency must be an ISO 4217 code such as EUR")
        if currency == "USD":
            currency = None
    return MetricFormat(kind=kind, suffix=suffix, currency=currency)


def parse_line(raw: Any, where: str) -> MetricLine:
    if not isinstance(raw, dict):
        raise InvalidResult(f"{where} must be an object")
    kind = raw.get("type")
    label = _string(raw.get("label"), f"{where}.label")
    color = _color(raw.get("color"), f"{where}.color")
    detail = raw.get("detail", False)
    if detail is None:
        detail = False
    if not isinstance(detail, bool):
        raise InvalidResult(f"{where}.detail must be true or false")
    if kind == "text":
        return TextLine(
            label=label,
            value=_string(raw.get("value"), f"{where}.value", allow_number=True),
            color=color,
            subtitle=_string(raw.get("subtitle"), f"{where}.subtitle", required=False),
            detail=detail,
        )
    if kind == "badge":
        return BadgeLine(
            label=label,
            text=_string(raw.get("text"), f"{where}.text", allow_number=True),
            color=color,
            subtitle=_string(raw.get("subtitle"), f"{where}.subtitle", required=False),
            detail=detail,
        )
    if kind == "progress":
        used = _number(raw.get("used"), f"{where}.used")
        limit = _number(raw.get("limit"), f"{where}.limit")
        if used < 0:
            raise InvalidResult(f"{where}.used must not be negative")
        if limit <= 0:
            raise InvalidResult(f"{where}.limit must be greater than 0")
        resets_raw = raw.get("resetsAt")
        resets_at = None
        if resets_raw is not None:
            resets_at = normalize_timestamp(resets_raw) if isinstance(resets_raw, str) else None
            if resets_at is None:
                raise InvalidResult(f"{where}.resetsAt must be an RFC 3339 timestamp")
        period = raw.get("periodDurationMs")
        if period is not None:
            period = _number(period, f"{where}.periodDurationMs")
            if period <= 0:
                raise InvalidResult(f"{where}.periodDurationMs must be greater than 0")
        return ProgressLine(
            label=label,
            used=used,
            limit=limit,
            format=_format(raw.get("format"), f"{where}.format"),
            resets_at=resets_at,
            period_duration_ms=period,
            color=color,
            detail=detail,
        )
    raise InvalidResult(f"{where}.type must be text, badge or progress")


def parse_probe_result(raw: Any) -> ProbeResult:
    """Validate a probe's return value. A bare array is taken as the metrics."""
    if isinstance(raw, list):
        raw = {"metrics": raw}
    if not isinstance(raw, dict):
        raise InvalidResult("probe must return an object with metrics")
    metrics = raw.get("metrics")
    key = "metrics"
    if metrics is None and "lines" in raw:
        metrics, key = raw.get("lines"), "lines"
    if metrics is None:
        raise InvalidResult("result has no metrics array")
    if not isinstance(metrics, list):
        raise InvalidResult(f"{key} must be an array")
    if len(metrics) > MAX_LINES:
        raise InvalidResult(f"{key} has more than {MAX_LINES} lines")
    lines = [parse_line(item, f"{key}[{index}]") for index, item in enumerate(metrics)]
    source = _string(raw.get("source"), "source", required=False)
    if source is not None and source not in SOURCES:
        raise InvalidResult(f"source must be one of {', '.join(SOURCES)}")
    retry = raw.get("retryAfterSec")
    retry_after = _number(retry, "retryAfterSec") if retry is not None else None
    return ProbeResult(
        metrics=lines,
        display_name=_string(raw.get("displayName"), "displayName", required=False) or None,
        source=source,
        plan=_string(raw.get("plan"), "plan", required=False) or None,
        retry_after_sec=retry_after if retry_after and retry_after > 0 else None,
    )


def parse_probe_error(raw: Any) -> ProbeFailure:
    """What a probe threw: a string, an Error (already a string here) or ``{code, message}``."""
    if isinstance(raw, dict):
        code = raw.get("code")
        state = code if code in ERROR_STATES else "failed"
        message = raw.get("message")
        if not isinstance(message, str) or not message.strip():
            message = str(code) if isinstance(code, str) and code else "probe failed"
        retry = raw.get("retryAfterSec")
        retry_after = None
        if isinstance(retry, (int, float)) and not isinstance(retry, bool) and retry > 0:
            try:
                retry_after = float(retry)
            except OverflowError:  # an integer beyond the float range
                retry_after = None
            if retry_after is not None and not math.isfinite(retry_after):
                retry_after = None
        return ProbeFailure(state, _clip(message), retry_after)
    if raw is None:
        return ProbeFailure("failed", "probe failed without a message")
    return ProbeFailure("failed", _clip(str(raw)))


def _clip(message: str, limit: int = 1000) -> str:
    message = clean_text(message).strip()
    return message if len(message) <= limit else message[: limit - 1] + "…"


def error_snapshot(
    *,
    provider_id: str,
    instance_id: str,
    display_name: str,
    state: str,
    message: str,
    fetched_at: str,
    status_page_url: str | None = None,
) -> UsageSnapshot:
    """The one shape of an error snapshot (SPEC §2.1)."""
    if state not in ERROR_STATES:
        state = "failed"
    message = _clip(message) or state
    return UsageSnapshot(
        provider_id=provider_id,
        instance_id=instance_id,
        display_name=display_name,
        source="error",
        metrics=[BadgeLine(label="Error", text=message, color="red")],
        fetched_at=fetched_at,
        status_page_url=status_page_url,
        state=state,
        error=ErrorInfo(code=state, message=message),
    )
