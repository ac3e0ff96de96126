"""``usage --format waybar``: one object ``{text, tooltip, class, percentage}`` (SPEC §2.2).

``text`` is ``Name 42%`` for every instance with a percent bar (two spaces
between instances); ``tooltip`` has one ``label: value`` line per metric,
prefixed with the instance name, secondary (``detail``) lines left out;
``class`` follows the ``[notify]`` thresholds, or is ``error`` when any
instance failed; ``percentage`` is the highest primary percent as an integer.
"""

from __future__ import annotations

from typing import Any

from usagestat.core.config import NotifySettings
from usagestat.core.export import primary_percent
from usagestat.core.models import UsageSnapshot

from .plain import metric_label
from .term import sanitize


def _value(metric: object) -> str | None:
    from usagestat.core.models import BadgeLine, ProgressLine, TextLine

    from . import format as f

    if isinstance(metric, ProgressLine):
        reset = f.resets_plain(metric.resets_at)
        return f.progress_value(metric) + (f" ({reset})" if reset else "")
    if isinstance(metric, TextLine):
        return sanitize(metric.value)
    if isinstance(metric, BadgeLine):
        return sanitize(metric.text)
    return None


def render(snapshots: list[UsageSnapshot], notify: NotifySettings) -> dict[str, Any]:
    texts: list[str] = []
    tooltip: list[str] = []
    highest: float | None = None
    failed = False
    for snap in snapshots:
        name = sanitize(snap.display_name)
        if snap.is_error:
            failed = True
            message = sanitize(snap.error.message) if snap.error else snap.state
            tooltip.append(f"{name}: error: {message}")
            continue
        percent = primary_percent(snap)
        if percent is not None:
            texts.append(f"{name} {percent:.0f}%")
            highest = percent if highest is None else max(highest, percent)
        for metric in snap.metrics:
            if metric.detail:
                continue
            value = _value(metric)
            if value is not None:
                tooltip.append(f"{name} {metric_label(metric.label, metric.type)}: {value}")
    if failed:
        css = "error"
    elif highest is not None and highest >= notify.critical_percent:
        css = "critical"
    elif highest is not None and highest >= notify.warn_percent:
        css = "warning"
    else:
        css = "ok"
    return {
        "text": "  ".join(texts),
        "tooltip": "\n".join(tooltip),
        "class": css,
        "percentage": round(highest) if highest is not None else 0,
    }
