"""Prometheus text exposition of snapshots (``GET /metrics``, ``usage --format prometheus``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import ProgressLine, UsageSnapshot
from .timeutil import parse_timestamp


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**pairs: str) -> str:
    return "{" + ",".join(f'{key}="{_escape(val)}"' for key, val in pairs.items()) + "}"


def _num(value: float) -> str:
    """The one sample-value formatting (CLI and daemon alike): the shortest exact float."""
    if value != value:
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else f"{float(value):.1f}"


@dataclass
class ProbeStats:
    """Probe figures per instance: the duration (CLI and daemon); last success and errors (daemon)."""

    duration_sec: float | None = None
    last_success: str | None = None
    errors_by_state: Mapping[str, int] | None = None


FAMILIES = (
    ("usagestat_metric_used", "gauge", "Amount used of a progress metric, in its own unit."),
    ("usagestat_metric_limit", "gauge", "Limit of a progress metric, in its own unit."),
    ("usagestat_metric_ratio", "gauge", "Used divided by limit of a progress metric."),
    (
        "usagestat_up",
        "gauge",
        "1 when the instance's latest probe succeeded; 0 when it failed (stale or no data).",
    ),
    ("usagestat_probe_duration_seconds", "gauge", "Duration of the latest probe."),
    ("usagestat_last_success_timestamp_seconds", "gauge", "Unix time of the latest good data."),
    ("usagestat_probe_errors_total", "counter", "Failed probes by state since the daemon started."),
)


def render(
    snapshots: Iterable[UsageSnapshot], stats: Mapping[str, ProbeStats] | None = None
) -> str:
    """Exposition text (version 0.0.4) for these snapshots; ``stats`` adds daemon figures."""
    samples: dict[str, list[str]] = {name: [] for name, _, _ in FAMILIES}
    for snap in snapshots:
        base = {"instance": snap.instance_id, "provider": snap.provider_id}
        up = 0 if snap.is_error or snap.stale else 1
        samples["usagestat_up"].append(f"usagestat_up{_labels(**base)} {up}")
        for line in snap.metrics:
            if not isinstance(line, ProgressLine) or snap.is_error:
                continue
            labels = _labels(**base, label=line.label, format=line.format.kind)
            samples["usagestat_metric_used"].append(
                f"usagestat_metric_used{labels} {_num(line.used)}"
            )
            samples["usagestat_metric_limit"].append(
                f"usagestat_metric_limit{labels} {_num(line.limit)}"
            )
            ratio = line.used / line.limit if line.limit else 0.0
            samples["usagestat_metric_ratio"].append(
                f"usagestat_metric_ratio{labels} {_num(ratio)}"
            )
        info = (stats or {}).get(snap.instance_id)
        last_success = info.last_success if info and info.last_success else None
        if last_success is None and not snap.is_error:
            last_success = snap.fetched_at
        moment = parse_timestamp(last_success) if last_success else None
        if moment is not None:
            samples["usagestat_last_success_timestamp_seconds"].append(
                f"usagestat_last_success_timestamp_seconds{_labels(**base)} {_num(moment.timestamp())}"
            )
        if info is not None:
            if info.duration_sec is not None:
                samples["usagestat_probe_duration_seconds"].append(
                    f"usagestat_probe_duration_seconds{_labels(**base)} {_num(info.duration_sec)}"
                )
            for state, count in sorted((info.errors_by_state or {}).items()):
                samples["usagestat_probe_errors_total"].append(
                    f"usagestat_probe_errors_total{_labels(**base, state=state)} {_num(count)}"
                )
    out: list[str] = []
    for name, kind, help_text in FAMILIES:
        if not samples[name]:
            continue
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(samples[name])
    return "\n".join(out) + "\n" if out else ""
