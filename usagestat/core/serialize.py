"""The one place that turns contract dataclasses into JSON and back.

Keys are camelCase; members whose value is ``None`` are omitted unless the
field is marked ``ALWAYS`` (then ``null``); booleans marked ``OMIT_FALSE`` are
written only when true; whole numbers in fields marked ``INTEGRAL`` are written
as integers. Field order is declaration order, so the dataclasses in
:mod:`usagestat.core.models` define the wire order too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .models import (
    LINE_TYPES,
    SOURCES,
    STATES,
    ErrorInfo,
    LastError,
    MetricLine,
    ProviderStatus,
    UsageSnapshot,
)
from .results import parse_line
from .timeutil import normalize_timestamp

_CAMEL_CACHE: dict[str, str] = {}


def camel(name: str) -> str:
    """``status_page_url`` -> ``statusPageUrl``."""
    cached = _CAMEL_CACHE.get(name)
    if cached is None:
        head, *rest = name.split("_")
        cached = head + "".join(part[:1].upper() + part[1:] for part in rest)
        _CAMEL_CACHE[name] = cached
    return cached


def to_json(value: Any) -> Any:
    """Convert a contract dataclass (or a list/dict of them) into JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        line_type = getattr(type(value), "type", None)
        if isinstance(line_type, str) and type(value) in LINE_TYPES.values():
            out["type"] = line_type
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None and not f.metadata.get("always"):
                continue
            if item is False and f.metadata.get("omit_false"):
                continue
            if (
                f.metadata.get("integral")
                and isinstance(item, float)
                and item.is_integer()
                and abs(item) < 2**53
            ):
                item = int(item)
            out[camel(f.name)] = to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def dumps(value: Any, *, pretty: bool = False) -> str:
    """Serialise contract objects to a JSON string (UTF-8 safe, stable key order)."""
    data = to_json(value)
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------
# Reading back (cache and history files). The input is trusted only as far as
# its shape: anything unexpected raises ValueError, which callers turn into a
# "corrupt file" message. What is read back passes the same checks as a
# plugin's result, so a damaged or hand-edited file can never put an invalid
# snapshot in front of a client.

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(value: Any) -> None:
    """Refuse escaped lone surrogates anywhere: they cannot be written out as UTF-8."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise ValueError("text is not valid Unicode (a lone surrogate)")
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{key}: expected {getattr(kind, '__name__', kind)}")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key}: expected string")
    return value


def _timestamp(data: dict[str, Any], key: str) -> str:
    value = normalize_timestamp(_require(data, key, str))
    if value is None:
        raise ValueError(f"{key}: not an RFC 3339 timestamp")
    return value


def line_from_json(data: Any) -> MetricLine:
    """A metric line, checked exactly like a line a plugin returns."""
    return parse_line(data, "metric")  # InvalidResult is a ValueError


def snapshot_from_json(data: Any) -> UsageSnapshot:
    """Rebuild a snapshot from its JSON form (pace is recomputed on output, not read)."""
    if not isinstance(data, dict):
        raise ValueError("snapshot: expected object")
    _check_text(data)
    metrics = _require(data, "metrics", list)
    if not metrics:
        raise ValueError("metrics: empty")
    state = _require(data, "state", str)
    source = _require(data, "source", str)
    if state not in STATES or source not in (*SOURCES, "error"):
        raise ValueError("state or source: unknown value")
    error = data.get("error")
    if (state == "ready") != (error is None) or (state != "ready") != (source == "error"):
        raise ValueError("error, state and source do not agree")
    last_error = data.get("lastError")
    status = data.get("status")
    try:
        provider_status = (
            ProviderStatus(**{_snake(k): v for k, v in status.items()})
            if isinstance(status, dict)
            else None
        )
    except TypeError:
        raise ValueError("status: unexpected members")
    return UsageSnapshot(
        provider_id=_require(data, "providerId", str),
        instance_id=_require(data, "instanceId", str),
        display_name=_require(data, "displayName", str),
        source=source,
        plan=_optional_str(data, "plan"),
        metrics=[line_from_json(item) for item in metrics],
        fetched_at=_timestamp(data, "fetchedAt"),
        status_page_url=_optional_str(data, "statusPageUrl"),
        state=state,
        error=(
            ErrorInfo(code=_require(error, "code", str), message=_require(error, "message", str))
            if isinstance(error, dict)
            else None
        ),
        stale=bool(data.get("stale", False)),
        last_error=(
            LastError(
                code=_require(last_error, "code", str),
                message=_require(last_error, "message", str),
                at=_timestamp(last_error, "at"),
            )
            if isinstance(last_error, dict)
            else None
        ),
        status=provider_status,
    )


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)
