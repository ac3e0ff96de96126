"""The human view of ``usagestat usage``: one block per provider, a row per metric.

::

    Claude · Max 5x
      Session   ████░░░░░░  42.0% (42 / 100)  resets in 3h 12m
                pace: over by 12% — runs out in 2h 10m
      Spend     ██░░░░░░░░  $4.50 / $10.00     resets Sat 17 Jan 12:00

Bars and colour appear only on a colour terminal; rows are clipped to the
terminal width (values give way, labels and escape codes never break).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from usagestat.core.models import BadgeLine, ProgressLine, TextLine, UsageSnapshot

from . import format as f
from .term import UNICODE, Glyphs, Span, clip, pad, render_row, sanitize, width

BAR_WIDTH = 10
LABEL_MAX = 24
VALUE_MAX = 34
INDENT = "  "
GAP = "  "
STATUS_STYLE = {
    "none": "green",
    "minor": "amber",
    "major": "red",
    "critical": "red",
    "maintenance": "blue",
    "unknown": "dim",
}


@dataclass
class TextStyle:
    color: bool = False
    bars: bool = False  # a small bar before each progress value (colour terminals)
    width: int | None = None  # clip rows to this width (terminals only)
    warn_percent: float = 80.0
    critical_percent: float = 95.0
    glyphs: Glyphs = UNICODE


def level_color(percent: float, style: TextStyle) -> str:
    if percent >= style.critical_percent:
        return "red"
    if percent >= style.warn_percent:
        return "amber"
    return "green"


def bar(percent: float, glyphs: Glyphs) -> str:
    filled = max(0, min(BAR_WIDTH, round(percent / 100 * BAR_WIDTH)))
    if percent > 0 and filled == 0:
        filled = 1 if percent >= 5 else 0
    return glyphs.full * filled + glyphs.empty * (BAR_WIDTH - filled)


def _label_text(label: str) -> str:
    return sanitize(label).strip()


class _Block:
    """Rows of one snapshot, with the column widths shared by its metrics."""

    def __init__(self, snap: UsageSnapshot, now: datetime, style: TextStyle) -> None:
        self.snap = snap
        self.now = now
        self.style = style
        self.rows: list[str] = []
        labels = [_label_text(m.label) for m in snap.metrics]
        self.label_width = min(LABEL_MAX, max((width(label) for label in labels), default=0))
        values = [width(f.progress_value(m)) for m in snap.metrics if isinstance(m, ProgressLine)]
        self.value_width = min(VALUE_MAX, max(values, default=0))
        self.bars = style.bars and self._bars_fit()

    def _bars_fit(self) -> bool:
        """Bars only when every progress row still fits with its reset (else none at all)."""
        progress = [m for m in self.snap.metrics if isinstance(m, ProgressLine)]
        if not progress:
            return False
        if self.style.width is None:
            return True
        resets = [f.resets(m.resets_at, self.now) for m in progress]
        reset_width = max((len(GAP) + width(r) for r in resets if r), default=0)
        row = len(INDENT) + self.label_width + len(GAP) + BAR_WIDTH + len(GAP)
        return row + self.value_width + reset_width <= self.style.width

    # -- helpers -----------------------------------------------------------------
    def emit(self, spans: list[Span]) -> None:
        style = self.style
        self.rows.append(render_row(spans, style.width, style.color, style.glyphs.ellipsis))

    def label_span(self, label: str, detail: bool = False) -> Span:
        text = _label_text(label)
        if width(text) > self.label_width:
            text = clip(text, self.label_width, self.style.glyphs.ellipsis)
        return Span(INDENT + pad(text, self.label_width) + GAP, "dim" if detail else None)

    def continuation(self) -> Span:
        extra = BAR_WIDTH + len(GAP) if self._has_bars() else 0
        return Span(" " * (len(INDENT) + self.label_width + len(GAP) + extra))

    def _has_bars(self) -> bool:
        return self.bars

    # -- parts ---------------------------------------------------------------------
    def title(self) -> None:
        snap, glyphs = self.snap, self.style.glyphs
        spans = [Span(sanitize(snap.display_name), "bold")]
        if snap.plan:
            spans.append(Span(f" {glyphs.dot} {sanitize(snap.plan)}", "dim", shrink=2))
        if snap.instance_id != snap.provider_id:
            spans.append(Span(f" ({snap.instance_id})", "dim", optional=True))
        age = f.ago(snap.fetched_at, self.now)
        moment_age = _age_seconds(snap.fetched_at, self.now)
        if not snap.is_error and age and moment_age is not None and moment_age >= 60:
            spans.append(Span(f"  updated {age}", "dim", optional=True))
        self.emit(spans)

    def error(self) -> None:
        snap = self.snap
        assert snap.error is not None
        message = sanitize(snap.error.message)
        self.emit(
            [
                Span(INDENT + f"{self.style.glyphs.cross} "),
                Span(message, "red", shrink=1),
                Span(f"  ({snap.error.code})", "dim", optional=True),
            ]
        )

    def stale_note(self) -> None:
        snap = self.snap
        if not (snap.stale and snap.last_error is not None):
            return
        age = f.ago(snap.fetched_at, self.now) or "earlier"
        note = f"stale: data from {age}; latest probe failed: {sanitize(snap.last_error.message)}"
        self.emit([Span(INDENT), Span(note, "amber", shrink=1)])

    def progress(self, metric: ProgressLine, pace_source: ProgressLine | None) -> None:
        style = self.style
        percent = f.percent_of(metric)
        spans = [self.label_span(metric.label, metric.detail)]
        if self._has_bars():
            color = metric.color or level_color(percent, style)
            spans.append(Span(bar(percent, style.glyphs), color))
            spans.append(Span(GAP))
        value = f.progress_value(metric)
        reset = f.resets(metric.resets_at, self.now)
        value_style = None
        if metric.format.kind == "percent" and percent >= style.warn_percent:
            value_style = level_color(percent, style)
        spans.append(Span(value, value_style, shrink=1))
        wrapped = None
        if reset:
            padding = " " * max(0, self.value_width - width(value))
            tail = [Span(padding, optional=True), Span(GAP + reset, "dim", optional=True)]
            if style.width is not None and sum(width(x.text) for x in spans + tail) > style.width:
                wrapped = reset  # no room beside the value: the reset goes on its own line
            else:
                spans.extend(tail)
        self.emit(spans)
        if wrapped:
            self.emit([self.continuation(), Span(wrapped, "dim", shrink=1)])
        if metric is pace_source and self.snap.pace is not None:
            text = f.pace_text(self.snap.pace, style.glyphs.dash)
            if text:
                pace_style = "red" if not self.snap.pace.will_last_to_reset else "dim"
                if self.snap.pace.stage in ("over", "well_over") and pace_style == "dim":
                    pace_style = "amber"
                self.emit([self.continuation(), Span(f"pace: {text}", pace_style, shrink=1)])

    def text(self, metric: TextLine) -> None:
        self.emit(
            [
                self.label_span(metric.label, metric.detail),
                Span(sanitize(metric.value), metric.color, shrink=1),
            ]
        )
        self.subtitle(metric.subtitle)

    def badge(self, metric: BadgeLine) -> None:
        self.emit(
            [
                self.label_span(metric.label, metric.detail),
                Span(f"[{sanitize(metric.text)}]", metric.color, shrink=1),
            ]
        )
        self.subtitle(metric.subtitle)

    def subtitle(self, text: str | None) -> None:
        if text:
            indent = " " * (len(INDENT) + self.label_width + len(GAP))
            self.emit([Span(indent), Span(sanitize(text), "dim", shrink=1)])

    def status(self) -> None:
        status = self.snap.status
        if status is None:
            return
        if status.indicator == "none":
            text = status.description or "All systems operational"
        elif status.description:
            text = status.description
        elif status.indicator == "unknown":
            text = "unknown" + (f" ({status.error})" if status.error else " (no status page)")
        else:
            text = status.indicator
        self.emit(
            [
                Span(INDENT + "Status: "),
                Span(sanitize(text), STATUS_STYLE.get(status.indicator), shrink=1),
            ]
        )

    def build(self) -> list[str]:
        from usagestat.core.pace import pace_line

        self.title()
        snap = self.snap
        if snap.is_error:
            self.error()
            self.status()
            return self.rows
        self.stale_note()
        source = pace_line(snap.metrics)
        for metric in snap.metrics:
            if isinstance(metric, ProgressLine):
                self.progress(metric, source)
            elif isinstance(metric, TextLine):
                self.text(metric)
            elif isinstance(metric, BadgeLine):
                self.badge(metric)
        self.status()
        return self.rows


def _age_seconds(fetched_at: str, now: datetime) -> float | None:
    from usagestat.core.timeutil import parse_timestamp

    moment = parse_timestamp(fetched_at)
    return (now - moment).total_seconds() if moment else None


def render_snapshot(snap: UsageSnapshot, now: datetime, style: TextStyle) -> list[str]:
    return _Block(snap, now, style).build()


def render(snapshots: list[UsageSnapshot], now: datetime, style: TextStyle) -> str:
    """Blocks separated by a blank line (no trailing newline)."""
    return "\n\n".join("\n".join(render_snapshot(snap, now, style)) for snap in snapshots)
