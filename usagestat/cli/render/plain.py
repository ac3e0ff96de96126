"""``--plain``: stable ``label: value`` lines for scripts.

One block per instance, blocks separated by an empty line. The fixed keys come
first (``provider``, ``instance``, ``name``, ``source``, ``state``, ``plan``,
``fetched``, ``stale``), then one line per metric (``<label>: <value>``), then
``pace``, ``status`` and ``error`` when present. Numbers keep every digit,
times are UTC RFC 3339, there is never colour, and every value is one line.
"""

from __future__ import annotations

from usagestat.core.models import BadgeLine, ProgressLine, TextLine, UsageSnapshot

from . import format as f
from .term import sanitize


def metric_label(label: str, kind: str) -> str:
    """A metric's label for a ``label: value`` line (its type when it has none)."""
    text = sanitize(label).strip()
    return text or kind


def metric_value(metric: object) -> str | None:
    if isinstance(metric, ProgressLine):
        parts = [f.progress_value(metric, digits="exact")]
        reset = f.resets_plain(metric.resets_at)
        if reset:
            parts.append(reset)
        return "; ".join(parts)
    if isinstance(metric, TextLine):
        return sanitize(metric.value)
    if isinstance(metric, BadgeLine):
        return sanitize(metric.text)
    return None


def render_snapshot(snap: UsageSnapshot) -> list[str]:
    lines = [
        f"provider: {snap.provider_id}",
        f"instance: {snap.instance_id}",
        f"name: {sanitize(snap.display_name)}",
        f"source: {snap.source}",
        f"state: {snap.state}",
    ]
    if snap.plan:
        lines.append(f"plan: {sanitize(snap.plan)}")
    lines.append(f"fetched: {snap.fetched_at}")
    lines.append(f"stale: {'true' if snap.stale else 'false'}")
    if snap.error is not None:
        lines.append(f"error: {snap.error.code}: {sanitize(snap.error.message)}")
    else:
        for metric in snap.metrics:
            value = metric_value(metric)
            if value is not None:
                lines.append(f"{metric_label(metric.label, metric.type)}: {value}")
        if snap.pace is not None:
            pace = snap.pace
            eta = (
                f"; runs out in {int(pace.eta_seconds)}s"
                if not pace.will_last_to_reset and pace.eta_seconds is not None
                else ""
            )
            lines.append(f"pace: {pace.stage} ({pace.delta_percent:+.2f}%){eta}")
    if snap.last_error is not None:
        lines.append(
            f"last error: {snap.last_error.code}: {sanitize(snap.last_error.message)} at {snap.last_error.at}"
        )
    if snap.status is not None:
        description = f" ({sanitize(snap.status.description)})" if snap.status.description else ""
        lines.append(f"status: {snap.status.indicator}{description}")
    return lines


def render(snapshots: list[UsageSnapshot]) -> str:
    return "\n\n".join("\n".join(render_snapshot(snap)) for snap in snapshots)
