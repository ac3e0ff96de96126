"""The OpenAPI 3.1 description served at ``/openapi.json``.

Built from the live settings (port, whether a token is required) so that it
describes exactly what this daemon answers; the schemas mirror
:mod:`usagestat.core.models` as :mod:`usagestat.core.serialize` writes them,
closed with ``additionalProperties: false`` so a drift between the two fails
the contract test (schemathesis) instead of surprising a client.
"""

from __future__ import annotations

from typing import Any

from usagestat.core.models import ERROR_STATES, NAMED_COLORS, STATES

ID_PATTERN = "^[a-z0-9][a-z0-9-]*$"
ERROR_CODES = (
    "bad_request",
    "unauthorized",
    "forbidden_host",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "pending",
    "busy",
)
PACE_STAGES = (
    "well_under",
    "under",
    "slightly_under",
    "on_track",
    "slightly_over",
    "over",
    "well_over",
)


def _obj(required: list[str], properties: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
COLOR = {"type": "string", "description": "#rrggbb or one of " + ", ".join(NAMED_COLORS)}
DETAIL = {"const": True, "description": "present (true) only on secondary lines"}


def schemas() -> dict[str, Any]:
    common_line = {"label": STRING, "color": COLOR, "subtitle": STRING, "detail": DETAIL}
    return {
        "Error": _obj(
            ["error"],
            {
                "error": _obj(
                    ["code", "message"],
                    {"code": {"type": "string", "enum": list(ERROR_CODES)}, "message": STRING},
                )
            },
        ),
        "Health": _obj(
            ["status", "version", "uptimeSec", "providers", "lastCycleAt"],
            {
                "status": {"const": "ok"},
                "version": STRING,
                "uptimeSec": {"type": "integer", "minimum": 0},
                "providers": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "number of enabled instances",
                },
                "lastCycleAt": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "when the latest probe result landed; null before the first",
                },
            },
        ),
        "MetricFormat": _obj(
            ["kind"],
            {
                "kind": {"enum": ["percent", "dollars", "count"]},
                "suffix": STRING,
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
        ),
        "TextLine": _obj(
            ["type", "label", "value"], {"type": {"const": "text"}, "value": STRING, **common_line}
        ),
        "BadgeLine": _obj(
            ["type", "label", "text"], {"type": {"const": "badge"}, "text": STRING, **common_line}
        ),
        "ProgressLine": _obj(
            ["type", "label", "used", "limit", "format"],
            {
                "type": {"const": "progress"},
                "label": STRING,
                "used": {"type": "number"},
                "limit": {"type": "number", "exclusiveMinimum": 0},
                "format": _ref("MetricFormat"),
                "resetsAt": TIMESTAMP,
                "periodDurationMs": {"type": "number"},
                "color": COLOR,
                "detail": DETAIL,
            },
        ),
        "MetricLine": {
            "oneOf": [_ref("TextLine"), _ref("BadgeLine"), _ref("ProgressLine")],
        },
        "Pace": _obj(
            [
                "stage",
                "deltaPercent",
                "expectedUsedPercent",
                "actualUsedPercent",
                "willLastToReset",
                "etaSeconds",
            ],
            {
                "stage": {"enum": list(PACE_STAGES)},
                "deltaPercent": {"type": "number"},
                "expectedUsedPercent": {"type": "number", "minimum": 0, "maximum": 100},
                "actualUsedPercent": {"type": "number", "minimum": 0, "maximum": 100},
                "willLastToReset": {"type": "boolean"},
                "etaSeconds": {"type": ["number", "null"]},
            },
        ),
        "ErrorInfo": _obj(
            ["code", "message"], {"code": {"enum": list(ERROR_STATES)}, "message": STRING}
        ),
        "LastError": _obj(
            ["code", "message", "at"],
            {"code": {"enum": list(ERROR_STATES)}, "message": STRING, "at": TIMESTAMP},
        ),
        "UsageSnapshot": _obj(
            [
                "providerId",
                "instanceId",
                "displayName",
                "source",
                "metrics",
                "fetchedAt",
                "statusPageUrl",
                "pace",
                "state",
                "error",
                "stale",
                "lastError",
            ],
            {
                "providerId": {"type": "string", "pattern": ID_PATTERN},
                "instanceId": {"type": "string", "pattern": ID_PATTERN},
                "displayName": STRING,
                "source": {
                    "enum": ["oauth", "api", "web", "local", "cli", "custom", "mock", "error"],
                },
                "plan": STRING,
                "metrics": {"type": "array", "minItems": 1, "items": _ref("MetricLine")},
                "fetchedAt": TIMESTAMP,
                "statusPageUrl": NULLABLE_STRING,
                "pace": {"oneOf": [_ref("Pace"), {"type": "null"}]},
                "state": {"enum": list(STATES)},
                "error": {"oneOf": [_ref("ErrorInfo"), {"type": "null"}]},
                "stale": {
                    "type": "boolean",
                    "description": "true when this is the last good data and newer probes failed",
                },
                "lastError": {"oneOf": [_ref("LastError"), {"type": "null"}]},
            },
        ),
        "Link": _obj(["label", "url"], {"label": STRING, "url": STRING}),
        "Icon": _obj(
            ["kind", "path", "monochrome", "supportsCurrentColor", "monochromePath"],
            {
                "kind": {"const": "svg"},
                "path": STRING,
                "monochrome": {"type": "boolean"},
                "supportsCurrentColor": {"type": "boolean"},
                "monochromePath": STRING,
                "colorPath": STRING,
            },
        ),
        "ProviderSummary": _obj(
            ["id", "name", "enabled", "supportedModes", "autoMode", "webUrl", "links"],
            {
                "id": STRING,
                "name": STRING,
                "enabled": {"type": "boolean"},
                "supportedModes": {"type": "array", "items": STRING},
                "autoMode": NULLABLE_STRING,
                "webUrl": NULLABLE_STRING,
                "statusPageUrl": STRING,
                "usageDashboardUrl": STRING,
                "brandColor": STRING,
                "links": {"type": "array", "items": _ref("Link")},
                "icon": _ref("Icon"),
                "dev": {"const": True},
                "error": STRING,
            },
        ),
        "RefreshResult": _obj(
            ["queued"],
            {
                "queued": {
                    "type": "array",
                    "items": {"type": "string", "pattern": ID_PATTERN},
                    "description": "instances that will report a new result",
                }
            },
        ),
    }


def _json(
    schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "headers": {
            "Cache-Control": {"$ref": "#/components/headers/CacheControl"},
            **(headers or {}),
        },
        "content": {"application/json": {"schema": schema}},
    }
    return out


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _json(_ref("Error"), description, headers)


def build(version: str, base_url: str, *, token: bool) -> dict[str, Any]:
    """The whole document for a daemon at ``base_url``."""
    retry_after = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    common: dict[str, Any] = {
        "400": _error("Malformed request (bad query value, request line or headers too long)"),
        "403": _error(
            "The Host header names neither this daemon nor localhost, or the Origin is not allowed"
        ),
        "503": _error("Too many connections (busy)", retry_after),
        "default": _error("Any other error, as a JSON error object"),
    }
    if token:
        common["401"] = _error("Missing or wrong bearer token")
    refresh = {
        "name": "refresh",
        "in": "query",
        "required": False,
        "description": "wait (at most the probe deadline) for a fresh probe before answering",
        "schema": {"type": "boolean"},
    }

    def op(
        summary: str, operation_id: str, responses: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        return {
            "summary": summary,
            "operationId": operation_id,
            **extra,
            "responses": {**common, **responses},
        }

    paths: dict[str, Any] = {
        "/health": {
            "get": op(
                "Liveness and a summary",
                "getHealth",
                {"200": _json(_ref("Health"), "The daemon is up")},
            )
        },
        "/v1/providers": {
            "get": op(
                "Every discovered provider (config order, then by id)",
                "listProviders",
                {"200": _json({"type": "array", "items": _ref("ProviderSummary")}, "Providers")},
            )
        },
        "/v1/usage": {
            "get": op(
                "Latest usage of every enabled instance that has a result",
                "listUsage",
                {"200": _json({"type": "array", "items": _ref("UsageSnapshot")}, "Snapshots")},
                parameters=[refresh],
            )
        },
        "/v1/usage/{id}": {
            "get": op(
                "Latest usage of one instance (instanceId, else the first enabled instance of a provider id)",
                "getUsage",
                {
                    "200": _json(_ref("UsageSnapshot"), "The snapshot"),
                    "404": _error("No enabled instance or provider with that id"),
                    "503": _error(
                        "The first probe of this instance is still running (pending), or busy",
                        retry_after,
                    ),
                },
                parameters=[
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": ID_PATTERN},
                    },
                    refresh,
                ],
            )
        },
        "/v1/refresh": {
            "post": op(
                "Probe now (all enabled instances, or one id); instances inside minIntervalSec, Retry-After or backoff are skipped",
                "refresh",
                {
                    "202": _json(_ref("RefreshResult"), "Probes queued"),
                    "404": _error("No enabled instance or provider with that id"),
                    "413": _error("Request body too large"),
                },
                parameters=[
                    {
                        "name": "provider",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "pattern": ID_PATTERN},
                    }
                ],
            )
        },
        "/metrics": {
            "get": op(
                "Prometheus text exposition",
                "getMetrics",
                {
                    "200": {
                        "description": "Gauges and counters (text format 0.0.4)",
                        "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}},
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
        "/openapi.json": {
            "get": op(
                "This document",
                "getOpenApi",
                {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
            )
        },
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "usagestat daemon",
            "version": version,
            "description": "Local HTTP API of usagestat: AI quota, credit and balance usage. "
            "Every response carries Cache-Control: no-store; errors are "
            '{"error":{"code","message"}}; HEAD is accepted wherever GET is.',
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "headers": {
                "CacheControl": {"schema": {"const": "no-store"}},
                "RetryAfter": {
                    "description": "seconds to wait before retrying",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
            },
        },
    }
    if token:
        document["components"]["securitySchemes"] = {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "first line of apiTokenFile",
            }
        }
        document["security"] = [{"bearerAuth": []}]
    return document
