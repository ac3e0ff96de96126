"""The data contracts of SPEC §2 as dataclasses.

Field names are snake_case here and camelCase on the wire. The conversion lives
in exactly one place, :mod:`usagestat.core.serialize`, driven by the field
metadata declared below:

* ``ALWAYS`` marks members that are always present in JSON (``null`` when
  unset); every other optional member is omitted when it is ``None``.
* ``OMIT_FALSE`` marks booleans that are written only when true
  (``"detail": true``).
* ``INTEGRAL`` marks numbers written as JSON integers when they are whole
  (``"periodDurationMs": 18000000``); SPEC §2.1 asks floats only of
  ``used``/``limit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

ALWAYS = {"always": True}
OMIT_FALSE = {"omit_false": True}
INTEGRAL = {"integral": True}

#: Snapshot states (SPEC §2.1). An error snapshot's ``error.code`` is one of these.
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
ERROR_STATES = STATES[1:]
SOURCES = ("web", "cli", "oauth", "api", "local", "custom", "mock")
MODES = ("web", "cli", "oauth", "api", "local", "custom")
NAMED_COLORS = ("red", "amber", "green", "blue", "grey")
FORMAT_KINDS = ("percent", "dollars", "count")


@dataclass(frozen=True)
class MetricFormat:
    kind: str
    suffix: str | None = None
    currency: str | None = None


@dataclass
class TextLine:
    type: ClassVar[str] = "text"
    label: str
    value: str
    color: str | None = None
    subtitle: str | None = None
    detail: bool = field(default=False, metadata=OMIT_FALSE)


@dataclass
class BadgeLine:
    type: ClassVar[str] = "badge"
    label: str
    text: str
    color: str | None = None
    subtitle: str | None = None
    detail: bool = field(default=False, metadata=OMIT_FALSE)


@dataclass
class ProgressLine:
    type: ClassVar[str] = "progress"
    label: str
    used: float
    limit: float
    format: MetricFormat
    resets_at: str | None = None
    period_duration_ms: float | None = field(default=None, metadata=INTEGRAL)
    color: str | None = None
    detail: bool = field(default=False, metadata=OMIT_FALSE)


MetricLine = Union[TextLine, BadgeLine, ProgressLine]  # noqa: UP007 - a runtime alias on 3.10
LINE_TYPES: dict[str, type] = {cls.type: cls for cls in (TextLine, BadgeLine, ProgressLine)}


@dataclass
class ErrorInfo:
    code: str
    message: str


@dataclass
class LastError:
    code: str
    message: str
    at: str


@dataclass
class Pace:
    stage: str
    delta_percent: float
    expected_used_percent: float
    actual_used_percent: float
    will_last_to_reset: bool
    eta_seconds: float | None = field(default=None, metadata=ALWAYS)


@dataclass
class ProviderStatus:
    provider_id: str
    display_name: str
    status_url: str | None = field(default=None, metadata=ALWAYS)
    indicator: str = "unknown"
    description: str | None = field(default=None, metadata=ALWAYS)
    error: str | None = field(default=None, metadata=ALWAYS)


@dataclass(kw_only=True)
class UsageSnapshot:
    """One provider instance's usage at one moment (SPEC §2.1); field order = JSON key order."""

    provider_id: str
    instance_id: str
    display_name: str
    source: str
    plan: str | None = None
    metrics: list[MetricLine]
    fetched_at: str
    status_page_url: str | None = field(default=None, metadata=ALWAYS)
    pace: Pace | None = field(default=None, metadata=ALWAYS)
    state: str = "ready"
    error: ErrorInfo | None = field(default=None, metadata=ALWAYS)
    stale: bool = False
    last_error: LastError | None = field(default=None, metadata=ALWAYS)
    status: ProviderStatus | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None


@dataclass(kw_only=True)
class IconInfo:
    kind: str = "svg"
    path: str
    monochrome: bool = True
    supports_current_color: bool = True
    monochrome_path: str
    color_path: str | None = None


@dataclass
class Link:
    label: str
    url: str


@dataclass
class ProviderSummary:
    id: str
    name: str
    enabled: bool
    supported_modes: list[str] = field(default_factory=list)
    auto_mode: str | None = field(default=None, metadata=ALWAYS)
    web_url: str | None = field(default=None, metadata=ALWAYS)
    status_page_url: str | None = None
    usage_dashboard_url: str | None = None
    brand_color: str | None = None
    links: list[Link] = field(default_factory=list)
    icon: IconInfo | None = None
    dev: bool = field(default=False, metadata=OMIT_FALSE)
    permissions: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class ValidationProblem:
    level: str  # "error" | "warning"
    file: str
    message: str


@dataclass
class PluginValidation:
    id: str | None = field(metadata=ALWAYS)
    path: str
    valid: bool
    problems: list[ValidationProblem] = field(default_factory=list)


@dataclass
class ConfigIssue:
    level: str  # "error" | "warning"
    path: str
    message: str


@dataclass
class ConfigValidation:
    path: str
    valid: bool
    issues: list[ConfigIssue] = field(default_factory=list)


@dataclass
class CacheClearResult:
    cache: str
    path: str
    cleared: bool
    error: str | None = field(default=None, metadata=ALWAYS)
