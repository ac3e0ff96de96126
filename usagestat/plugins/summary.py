"""ProviderSummary records for ``list`` and ``GET /v1/providers`` (SPEC §2.2)."""

from __future__ import annotations

from usagestat.core.models import IconInfo, ProviderSummary

from . import resources
from .discovery import Plugin, Registry
from .instances import CUSTOM_ID, Resolution


def icon_info(plugin: Plugin) -> IconInfo | None:
    mono = resources.materialize(plugin.folder / "icon.svg")
    if mono is None:
        return None
    color = resources.materialize(plugin.folder / "icon-color.svg")
    return IconInfo(path=mono, monochrome_path=mono, color_path=color)


def plugin_summary(plugin: Plugin, enabled: bool, *, permissions: bool = False) -> ProviderSummary:
    manifest = plugin.manifest
    summary = ProviderSummary(
        id=manifest.id,
        name=manifest.name,
        enabled=enabled,
        supported_modes=list(manifest.supported_modes),
        auto_mode=manifest.resolved_auto_mode,
        web_url=manifest.web_url,
        status_page_url=manifest.status_page_url,
        usage_dashboard_url=manifest.usage_dashboard_url,
        brand_color=manifest.brand_color,
        links=list(manifest.links),
        icon=icon_info(plugin),
        dev=plugin.dev,
    )
    if permissions:
        summary.permissions = (
            manifest.permissions.to_json() if manifest.permissions else {"legacy": True}
        )
    return summary


def summaries(
    resolution: Resolution,
    registry: Registry,
    *,
    permissions: bool = False,
    ids: list[str] | None = None,
) -> list[ProviderSummary]:
    """One summary per provider: config order first, then the rest by id."""
    enabled: dict[str, bool] = {}
    order: list[str] = []
    for inst in resolution.instances:
        if inst.provider_id not in enabled:
            order.append(inst.provider_id)
            enabled[inst.provider_id] = False
        enabled[inst.provider_id] = enabled[inst.provider_id] or inst.enabled
    if CUSTOM_ID not in enabled and CUSTOM_ID not in registry.plugins:
        order.append(CUSTOM_ID)
        enabled[CUSTOM_ID] = False
    out: list[ProviderSummary] = []
    for provider_id in order:
        plugin = registry.get(provider_id)
        if plugin is not None:
            out.append(plugin_summary(plugin, enabled[provider_id], permissions=permissions))
        elif provider_id == CUSTOM_ID:
            summary = ProviderSummary(
                id=CUSTOM_ID,
                name="Custom command",
                enabled=enabled[provider_id],
                supported_modes=["custom"],
                auto_mode="custom",
            )
            if permissions:
                summary.permissions = {"legacy": False, "command": "customCommand from config"}
            out.append(summary)
    for broken in registry.broken:
        if broken.key in registry.plugins:
            continue
        out.append(
            ProviderSummary(
                id=broken.key, name=broken.key, enabled=False, error=broken.first_problem
            )
        )
    if ids:
        wanted = set(ids)
        out = [s for s in out if s.id in wanted]
    return out
