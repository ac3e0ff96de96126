"""Provider instances: which providers run, under which names (SPEC §4).

An instance is one configured ``[[providers]]`` entry, or a discovered plugin
that no entry mentions (then it runs under its own id). The enabled set:
a listed provider follows ``enabled``; an unlisted one is enabled when its
manifest ``detect`` hints match, else by ``enabledByDefault``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from usagestat.core.config import Config, ProviderEntry, did_you_mean

from .discovery import BrokenPlugin, Plugin, Registry

CUSTOM_ID = "custom"


@dataclass
class Instance:
    provider_id: str
    instance_id: str
    entry: ProviderEntry | None
    plugin: Plugin | None
    broken: BrokenPlugin | None = None
    enabled: bool = False

    @property
    def display_name(self) -> str:
        if self.entry and self.entry.display_name:
            return self.entry.display_name
        if self.plugin:
            return self.plugin.manifest.name
        if self.provider_id == CUSTOM_ID:
            return "Custom"
        return self.provider_id

    @property
    def configured_name(self) -> str | None:
        return self.entry.display_name if self.entry else None

    @property
    def is_custom(self) -> bool:
        return self.provider_id == CUSTOM_ID and self.plugin is None

    @property
    def status_page_url(self) -> str | None:
        return self.plugin.manifest.status_page_url if self.plugin else None

    @property
    def min_interval_sec(self) -> float | None:
        return self.plugin.manifest.min_interval_sec if self.plugin else None


def detect_matches(plugin: Plugin, env: dict[str, str] | None = None) -> bool:
    """True when a manifest ``detect`` hint (a file or an env var) is present.

    A file hint may hold ``*`` in a folder name (``~/.config/JetBrains/*/options/x.xml``):
    tools that keep one folder per product version are detected by the file that
    matters, not by a folder every related product creates.
    """
    env = dict(os.environ) if env is None else env
    manifest = plugin.manifest
    if any(env.get(name) for name in manifest.detect_env):
        return True
    from .permissions import expand_entry

    home = os.path.expanduser("~")
    for pattern in manifest.detect_files:
        expanded = expand_entry(pattern, env, home)
        if not expanded:
            continue  # a variable that is not set
        if "*" in expanded:
            import glob

            if next(glob.iglob(glob.escape(expanded).replace("[*]", "*")), None) is not None:
                return True
        elif Path(expanded).exists():
            return True
    return False


@dataclass
class Resolution:
    instances: list[Instance]
    warnings: list[str]


def resolve_instances(config: Config, registry: Registry) -> Resolution:
    """Every instance: configured entries in config order, then the other plugins by id."""
    instances: list[Instance] = []
    warnings: list[str] = []
    configured_ids: set[str] = set()
    for entry in config.providers:
        configured_ids.add(entry.id)
        plugin = registry.get(entry.id)
        broken = None if plugin else registry.broken_named(entry.id)
        if plugin is None and broken is None and entry.id != CUSTOM_ID:
            warnings.append(
                f"config: providers[{entry.index}] names unknown provider {entry.id!r}"
                f"{did_you_mean(entry.id, list(registry.plugins))}; skipped"
            )
            continue
        instances.append(
            Instance(
                provider_id=entry.id,
                instance_id=entry.instance_id,
                entry=entry,
                plugin=plugin,
                broken=broken,
                enabled=entry.enabled,
            )
        )
    for plugin_id in sorted(registry.plugins):
        if plugin_id in configured_ids:
            continue
        plugin = registry.plugins[plugin_id]
        enabled = plugin.manifest.enabled_by_default or detect_matches(plugin)
        instances.append(Instance(plugin_id, plugin_id, None, plugin, enabled=enabled))
    return Resolution(instances, warnings)


class UnknownProvider(Exception):
    """A command-line id that names no instance and no provider (exit 2)."""


def select(
    resolution: Resolution,
    registry: Registry,
    ids: list[str],
    *,
    include_disabled: bool = False,
) -> list[Instance]:
    """The instances a command acts on.

    No ids: the enabled instances (all with ``include_disabled``). An id names
    an ``instanceId``, else every instance of that provider id; named instances
    run even when disabled. A broken plugin named by id or folder name yields an
    instance that reports its problem.
    """
    instances = resolution.instances
    if not ids:
        return [inst for inst in instances if inst.enabled or include_disabled]
    chosen: list[Instance] = []
    seen: set[str] = set()
    for wanted in ids:
        matches = [inst for inst in instances if inst.instance_id == wanted]
        if not matches:
            matches = [inst for inst in instances if inst.provider_id == wanted]
        if not matches:
            broken = registry.broken_named(wanted)
            if broken is not None:
                matches = [
                    Instance(broken.key, broken.key, None, None, broken=broken, enabled=False)
                ]
        if not matches:
            names = sorted({i.instance_id for i in instances} | {i.provider_id for i in instances})
            raise UnknownProvider(f"unknown provider {wanted!r}{did_you_mean(wanted, names)}")
        for inst in matches:
            if inst.instance_id not in seen:
                seen.add(inst.instance_id)
                chosen.append(inst)
    return chosen
