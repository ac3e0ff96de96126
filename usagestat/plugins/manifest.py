"""``plugin.json``: parsing and validation (SPEC §3.1).

Works on any path object with ``read_text``/``exists``/``/`` — a
``pathlib.Path`` for plugin folders on disk, a ``zipfile.Path`` for the
plugins bundled inside ``usagestat.pyz``.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from usagestat.core.models import MODES, Link, ValidationProblem

from .permissions import PERMISSION_KINDS, Permissions

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: The mode ``auto`` stands for when a manifest declares no ``supportedModes``:
#: ``list`` shows it as ``autoMode`` and a snapshot reports it as ``source``.
DEFAULT_MODE = "api"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

KNOWN_KEYS = {
    "id",
    "name",
    "entry",
    "version",
    "enabledByDefault",
    "supportedModes",
    "autoMode",
    "webUrl",
    "statusPageUrl",
    "usageDashboardUrl",
    "brandColor",
    "links",
    "minIntervalSec",
    "probeTimeoutSec",
    "detect",
    "permissions",
    "description",
    "$schema",
}


@dataclass
class Manifest:
    id: str
    name: str
    entry: str
    version: str | None = None
    enabled_by_default: bool = False
    supported_modes: list[str] = field(default_factory=list)
    auto_mode: str | None = None
    web_url: str | None = None
    status_page_url: str | None = None
    usage_dashboard_url: str | None = None
    brand_color: str | None = None
    links: list[Link] = field(default_factory=list)
    min_interval_sec: float | None = None
    probe_timeout_sec: float | None = None
    detect_files: list[str] = field(default_factory=list)
    detect_env: list[str] = field(default_factory=list)
    permissions: Permissions | None = None  # None = legacy profile

    @property
    def resolved_auto_mode(self) -> str:
        """``autoMode``, else the first supported mode, else :data:`DEFAULT_MODE`."""
        return self.auto_mode or (self.supported_modes[0] if self.supported_modes else DEFAULT_MODE)


class ManifestError(Exception):
    """The manifest cannot be used at all (first problem in the message)."""


def _is_http_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^https?://[^\s/]+", value) is not None


def parse_manifest(data: Any, file: str) -> tuple[Manifest | None, list[ValidationProblem]]:
    """Check a decoded ``plugin.json``; return the manifest (None when unusable) and problems."""
    problems: list[ValidationProblem] = []

    def error(message: str) -> None:
        problems.append(ValidationProblem("error", file, message))

    def warning(message: str) -> None:
        problems.append(ValidationProblem("warning", file, message))

    if not isinstance(data, dict):
        error("manifest must be a JSON object")
        return None, problems
    try:  # an escaped lone surrogate (\ud800) cannot be shown or written out as UTF-8
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        error("manifest holds text that is not valid Unicode (an escaped lone surrogate)")
        return None, problems
    for key in data:
        if key not in KNOWN_KEYS:
            warning(f"unknown key {key!r}")

    plugin_id = data.get("id")
    if not isinstance(plugin_id, str) or not ID_PATTERN.match(plugin_id):
        error("id is required and must match ^[a-z0-9][a-z0-9-]*$")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        error("name is required (a non-empty string)")
    entry = data.get("entry")
    if not isinstance(entry, str) or not entry.strip():
        error("entry is required (the script file, e.g. plugin.js)")
    else:
        normalized = posixpath.normpath(entry.replace("\\", "/"))
        if (
            normalized.startswith(("../", "/"))
            or normalized == ".."
            or re.match(r"^[A-Za-z]:", entry)
            or any(ord(ch) < 0x20 or ch == "\x7f" for ch in entry)
        ):
            error(f"entry {entry!r} must be a relative path inside the plugin folder")

    version = data.get("version")
    if version is not None and not isinstance(version, str):
        error("version must be a string")
    enabled = data.get("enabledByDefault", False)
    if not isinstance(enabled, bool):
        error("enabledByDefault must be true or false")
        enabled = False

    modes = data.get("supportedModes", [])
    if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
        error("supportedModes must be an array of strings")
        modes = []
    for mode in modes:
        if mode not in MODES:
            error(f"supportedModes: unknown mode {mode!r} (known: {', '.join(MODES)})")
    modes = [m for m in modes if m in MODES]
    auto_mode = data.get("autoMode")
    if auto_mode is not None and (not isinstance(auto_mode, str) or auto_mode not in modes):
        error("autoMode must be one of supportedModes")
        auto_mode = None

    urls: dict[str, str | None] = {}
    for key in ("webUrl", "statusPageUrl", "usageDashboardUrl"):
        value = data.get(key)
        if value is not None and not _is_http_url(value):
            error(f"{key} must be an http(s) URL")
            value = None
        urls[key] = value
    brand = data.get("brandColor")
    if brand is not None and not (isinstance(brand, str) and _HEX.match(brand)):
        error("brandColor must be #rrggbb")
        brand = None
    links: list[Link] = []
    raw_links = data.get("links", [])
    if not isinstance(raw_links, list):
        error("links must be an array of {label, url}")
        raw_links = []
    for index, item in enumerate(raw_links):
        if (
            isinstance(item, dict)
            and isinstance(item.get("label"), str)
            and _is_http_url(item.get("url"))
        ):
            links.append(Link(item["label"], item["url"]))
        else:
            error(f"links[{index}] must be {{label, url}} with an http(s) url")

    numbers: dict[str, float | None] = {}
    for key in ("minIntervalSec", "probeTimeoutSec"):
        value = data.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400
        ):
            error(f"{key} must be a number of seconds above 0")
            value = None
        numbers[key] = float(value) if value is not None else None

    detect_files: list[str] = []
    detect_env: list[str] = []
    detect = data.get("detect")
    if detect is not None:
        if not isinstance(detect, dict):
            error("detect must be an object {files: [...], env: [...]}")
        else:
            for key, target in (("files", detect_files), ("env", detect_env)):
                value = detect.get(key, [])
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    error(f"detect.{key} must be an array of strings")
                else:
                    target.extend(value)
            for key in detect:
                if key not in ("files", "env"):
                    warning(f"detect: unknown key {key!r}")

    permissions: Permissions | None = None
    raw_permissions = data.get("permissions")
    if raw_permissions is None:
        warning(
            "no permissions declared: runs with the legacy profile (see docs/plugins.md); "
            "declare permissions to run with only what the plugin needs"
        )
    elif not isinstance(raw_permissions, dict):
        error("permissions must be an object")
    else:
        permissions = Permissions()
        for key, value in raw_permissions.items():
            if key not in PERMISSION_KINDS:
                warning(f"permissions: unknown kind {key!r}")
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                error(f"permissions.{key} must be an array of non-empty strings")
                continue
            setattr(permissions, "fs_write" if key == "fsWrite" else key, list(value))
        for host in permissions.http:
            if not re.match(r"^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$", host):
                error(
                    f"permissions.http: {host!r} is not a host name (use example.com or *.example.com)"
                )

    if any(p.level == "error" for p in problems):
        return None, problems
    manifest = Manifest(
        id=plugin_id,
        name=name.strip(),
        entry=entry,
        version=version,
        enabled_by_default=enabled,
        supported_modes=list(modes),
        auto_mode=auto_mode,
        web_url=urls["webUrl"],
        status_page_url=urls["statusPageUrl"],
        usage_dashboard_url=urls["usageDashboardUrl"],
        brand_color=brand.lower() if brand else None,
        links=links,
        min_interval_sec=numbers["minIntervalSec"],
        probe_timeout_sec=numbers["probeTimeoutSec"],
        detect_files=detect_files,
        detect_env=detect_env,
        permissions=permissions,
    )
    return manifest, problems


def readable_id(data: Any) -> str | None:
    """The manifest ``id`` when it is a string matching the id pattern, else None.

    A manifest with other problems is still known by this id (SPEC §2.2: the
    folder name stands in only when no id can be read).
    """
    if not isinstance(data, dict):
        return None
    plugin_id = data.get("id")
    if isinstance(plugin_id, str) and ID_PATTERN.match(plugin_id) and len(plugin_id) <= 128:
        return plugin_id
    return None


def load_manifest(
    folder: Any,
) -> tuple[Manifest | None, list[ValidationProblem], str | None]:
    """Read and check ``<folder>/plugin.json``: (manifest or None, problems, readable id or None)."""
    file = folder / "plugin.json"
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ValidationProblem("error", where, "plugin.json not found")], None
    except (OSError, UnicodeDecodeError, KeyError) as exc:
        return None, [ValidationProblem("error", where, f"cannot read plugin.json: {exc}")], None
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, [ValidationProblem("error", where, f"invalid JSON: {exc}")], None
    except RecursionError:
        return None, [ValidationProblem("error", where, "invalid JSON: nested too deeply")], None
    manifest, problems = parse_manifest(data, where)
    return manifest, problems, manifest.id if manifest is not None else readable_id(data)


def read_manifest(folder: Any) -> tuple[Manifest | None, list[ValidationProblem]]:
    """Read and check ``<folder>/plugin.json``."""
    manifest, problems, _ = load_manifest(folder)
    return manifest, problems
