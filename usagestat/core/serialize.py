"""The one place that turns contract dataclasses into JSON and back.

Keys are camelCase; members whose value is ``None`` are omitted unless the
field is marked ``ALWAYS`` (then ``null``); booleans marked ``OMIT_FALSE`` are
written only when true. Field order is declaration order, so the dataclasses in
:mod:`usagestat.core.models` define the wire order too.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .models import (
    LINE_TYPES,
    ErrorInfo,
    LastError,
    MetricFormat,
    MetricLine,
    ProgressLine,
    ProviderStatus,
    UsageSnapshot,
)

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
# "corrupt file" message.


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


def line_from_json(data: Any) -> MetricLine:
    if not isinstance(data, dict):
        raise ValueError("metric: expected object")
    cls = LINE_TYPES.get(data.get("type"))
    if cls is None:
        raise ValueError(f"metric: unknown type {data.get('type')!r}")
    common = {
        "label": _require(data, "label", str),
        "color": _optional_str(data, "color"),
        "detail": bool(data.get("detail", False)),
    }
    if cls is ProgressLine:
        fmt = _require(data, "format", dict)
        return ProgressLine(
            used=float(_require(data, "used", (int, float))),
            limit=float(_require(data, "limit", (int, float))),
            format=MetricFormat(
                kind=_require(fmt, "kind", str),
                suffix=_optional_str(fmt, "suffix"),
                currency=_optional_str(fmt, "currency"),
            ),
            resets_at=_optional_str(data, "resetsAt"),
            period_duration_ms=(
                float(data["periodDurationMs"])
                if data.get("periodDurationMs") is not None
                else None
            ),
            **common,
        )
    key = "value" if cls.type == "text" else "text"
    return cls(
        **{key: _require(data, key, str)}, subtitle=_optional_str(data, "subtitle"), **common
    )


def snapshot_from_json(data: Any) -> UsageSnapshot:
    """Rebuild a snapshot from its JSON form (pace is recomputed on output, not read)."""
    if not isinstance(data, dict):
        raise ValueError("snapshot: expected object")
    metrics = _require(data, "metrics", list)
    error = data.get("error")
    last_error = data.get("lastError")
    status = data.get("status")
    return UsageSnapshot(
        provider_id=_require(data, "providerId", str),
        instance_id=_require(data, "instanceId", str),
        display_name=_require(data, "displayName", str),
        source=_require(data, "source", str),
        plan=_optional_str(data, "plan"),
        metrics=[line_from_json(item) for item in metrics],
        fetched_at=_require(data, "fetchedAt", str),
        status_page_url=_optional_str(data, "statusPageUrl"),
        state=_require(data, "state", str),
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
                at=_require(last_error, "at", str),
            )
            if isinstance(last_error, dict)
            else None
        ),
        status=(
            ProviderStatus(**{_snake(k): v for k, v in status.items()})
            if isinstance(status, dict)
            else None
        ),
    )


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)
