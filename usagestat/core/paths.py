"""Where usagestat keeps its config, data and cache on each platform (SPEC §5).

Every function reads the environment at call time, so tests (and users) can
point them elsewhere with ``HOME``, ``XDG_*`` or the ``USAGESTAT_*`` overrides.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "usagestat"


def platform_name() -> str:
    """``linux``, ``macos`` or ``windows`` (other POSIX systems count as linux)."""
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def home_dir() -> Path:
    return Path(os.path.expanduser("~"))


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def config_dir() -> Path:
    system = platform_name()
    if system == "macos":
        return home_dir() / "Library" / "Application Support" / APP
    if system == "windows":
        base = _env_path("APPDATA") or home_dir() / "AppData" / "Roaming"
        return base / APP
    return (_env_path("XDG_CONFIG_HOME") or home_dir() / ".config") / APP


def config_path() -> Path:
    """``--config`` is applied by the caller; this honours ``$USAGESTAT_CONFIG``."""
    return _env_path("USAGESTAT_CONFIG") or config_dir() / "config.toml"


def data_dir() -> Path:
    override = _env_path("USAGESTAT_DATA_DIR")
    if override:
        return override
    system = platform_name()
    if system == "macos":
        return home_dir() / "Library" / "Application Support" / APP
    if system == "windows":
        base = _env_path("LOCALAPPDATA") or home_dir() / "AppData" / "Local"
        return base / APP
    return (_env_path("XDG_DATA_HOME") or home_dir() / ".local" / "share") / APP


def cache_dir() -> Path:
    override = _env_path("USAGESTAT_CACHE_DIR")
    if override:
        return override
    system = platform_name()
    if system == "macos":
        return home_dir() / "Library" / "Caches" / APP
    if system == "windows":
        base = _env_path("LOCALAPPDATA") or home_dir() / "AppData" / "Local"
        return base / APP / "Cache"
    return (_env_path("XDG_CACHE_HOME") or home_dir() / ".cache") / APP


def snapshots_path() -> Path:
    return data_dir() / "snapshots.json"


def history_path() -> Path:
    return data_dir() / "history.jsonl"


def plugin_data_root() -> Path:
    return data_dir() / "plugin-data"


def locks_dir() -> Path:
    return data_dir() / "locks"


def log_index_dir() -> Path:
    return data_dir() / "log-index"


def pricing_override_path() -> Path:
    return data_dir() / "pricing.json"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700.

    An existing directory is left as it is (``doctor`` reports loose modes);
    tightening it here could chmod a shared directory a user pointed us at.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
