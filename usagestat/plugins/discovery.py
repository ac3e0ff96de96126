"""Find plugins in the search order of SPEC §3.2; the first directory to provide an id wins.

A broken plugin never breaks discovery: it is recorded with its problems and
the others load normally.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usagestat.core import paths
from usagestat.core.models import ValidationProblem

from . import resources
from .manifest import Manifest, load_manifest

ORIGINS = ("cli", "config", "env", "user", "cwd", "bundled", "dev")


@dataclass
class Plugin:
    manifest: Manifest
    folder: Any  # pathlib.Path or zipfile.Path
    origin: str
    problems: list[ValidationProblem] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def dev(self) -> bool:
        return self.origin == "dev"

    @property
    def script_path(self) -> Any:
        return self.folder / self.manifest.entry

    def read_script(self) -> str:
        return self.script_path.read_text(encoding="utf-8")


@dataclass
class BrokenPlugin:
    key: str  # the manifest id when readable, else the folder name
    folder: Any
    origin: str
    problems: list[ValidationProblem]
    id: str | None = None  # the manifest id when one can be read

    @property
    def first_problem(self) -> str:
        errors = [p for p in self.problems if p.level == "error"] or self.problems
        return errors[0].message if errors else "invalid plugin"


@dataclass
class Shadowing:
    id: str
    winner: str
    shadowed: str


@dataclass
class Registry:
    plugins: dict[str, Plugin] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    shadowed: list[Shadowing] = field(default_factory=list)

    def get(self, plugin_id: str) -> Plugin | None:
        return self.plugins.get(plugin_id)

    def broken_named(self, key: str) -> BrokenPlugin | None:
        for item in self.broken:
            if key in (item.key, _name(item.folder)):
                return item
        return None


def _name(folder: Any) -> str:
    return folder.name.rstrip("/") if hasattr(folder, "name") else str(folder)


def _expand(entry: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(entry)))


def search_dirs(
    cli_dirs: list[str] | None = None,
    config_dirs: list[str] | None = None,
    *,
    include_cwd: bool = True,
) -> list[tuple[str, Any]]:
    """The (origin, directory) pairs to search, in precedence order."""
    out: list[tuple[str, Any]] = []
    out.extend(("cli", _expand(d)) for d in cli_dirs or [])
    out.extend(("config", _expand(d)) for d in config_dirs or [])
    env = os.environ.get("USAGESTAT_PLUGIN_DIR")
    if env:
        out.extend(("env", _expand(d)) for d in env.split(os.pathsep) if d)
    out.append(("user", paths.config_dir() / "plugins"))
    if include_cwd:
        out.append(("cwd", Path.cwd() / "plugins"))
    bundled = resources.bundled_plugins_dir()
    if bundled is not None:
        out.append(("bundled", bundled))
    dev = resources.dev_providers_dir()
    if dev is not None:
        out.append(("dev", dev))
    return out


def plugin_folders(directory: Any) -> list[Any]:
    """A plugin folder itself, or the sorted plugin folders inside a directory."""
    try:
        if not directory.is_dir():
            return []
        if (directory / "plugin.json").is_file():
            return [directory]
        children = sorted(directory.iterdir(), key=_name)
    except OSError:
        return []
    return [child for child in children if child.is_dir() and not _name(child).startswith(".")]


def _identity(folder: Any) -> str:
    if isinstance(folder, Path):
        try:
            return str(folder.resolve())
        except OSError:
            return str(folder)
    return str(folder)


def load_plugin(folder: Any, origin: str) -> Plugin | BrokenPlugin:
    manifest, problems, plugin_id = load_manifest(folder)
    if manifest is None:
        # keyed by the manifest id when one can be read, else by the folder name
        key = plugin_id or _name(folder)
        return BrokenPlugin(key=key, folder=folder, origin=origin, problems=problems, id=plugin_id)
    script = folder / manifest.entry
    try:
        exists = script.is_file()
    except OSError:
        exists = False
    if not exists:
        problems.append(
            ValidationProblem("error", str(script), f"entry script {manifest.entry!r} not found")
        )
        return BrokenPlugin(
            key=manifest.id, folder=folder, origin=origin, problems=problems, id=manifest.id
        )
    return Plugin(manifest=manifest, folder=folder, origin=origin, problems=problems)


def discover(
    cli_dirs: list[str] | None = None,
    config_dirs: list[str] | None = None,
    *,
    include_cwd: bool = True,
) -> Registry:
    registry = Registry()
    seen_folders: set[str] = set()
    for origin, directory in search_dirs(cli_dirs, config_dirs, include_cwd=include_cwd):
        for folder in plugin_folders(directory):
            identity = _identity(folder)
            if identity in seen_folders:
                continue
            seen_folders.add(identity)
            loaded = load_plugin(folder, origin)
            if isinstance(loaded, BrokenPlugin):
                registry.broken.append(loaded)
                continue
            existing = registry.plugins.get(loaded.id)
            if existing is not None:
                if origin in ("bundled", "dev") and existing.origin not in ("bundled", "dev"):
                    registry.shadowed.append(
                        Shadowing(loaded.id, str(existing.folder), str(loaded.folder))
                    )
                continue
            registry.plugins[loaded.id] = loaded
    return registry
