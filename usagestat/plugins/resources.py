"""Where the package's own files live: a source tree, an installed wheel or a ``.pyz``.

Inside a zipapp the package is not on the file system, so callers get a
``zipfile.Path`` that supports the same read-only operations as ``pathlib.Path``.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import usagestat


@lru_cache(maxsize=1)
def zipapp_archive() -> str | None:
    """The path of the ``.pyz`` we run from, or None for a normal install."""
    loader = getattr(usagestat, "__loader__", None)
    archive = getattr(loader, "archive", None)
    return os.path.abspath(archive) if archive else None


def package_dir() -> Any:
    archive = zipapp_archive()
    if archive:
        import zipfile  # only inside the .pyz (it costs ~10 ms of imports)

        return zipfile.Path(archive, "usagestat/")
    return Path(usagestat.__file__).resolve().parent


def source_root() -> Path | None:
    """The repository root when running from a checkout (or editable install)."""
    if zipapp_archive():
        return None
    root = Path(usagestat.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def bundled_plugins_dir() -> Any | None:
    packaged = package_dir() / "bundled_plugins"
    if packaged.is_dir():
        return packaged
    root = source_root()
    if root and (root / "plugins").is_dir():
        return root / "plugins"
    return None


def dev_providers_dir() -> Path | None:
    root = source_root()
    if root and (root / "templates" / "dev-providers").is_dir():
        return root / "templates" / "dev-providers"
    return None


def template_dir() -> Any | None:
    packaged = package_dir() / "templates" / "provider-plugin"
    if packaged.is_dir():
        return packaged
    root = source_root()
    if root and (root / "templates" / "provider-plugin").is_dir():
        return root / "templates" / "provider-plugin"
    return None


def read_package_text(name: str) -> str:
    """Read a file shipped inside ``usagestat/`` (e.g. ``plugins/prelude.js``)."""
    return (package_dir() / name).read_text(encoding="utf-8")


def import_roots() -> list[str]:
    """sys.path entries a ``python -I`` child needs to import this same package."""
    archive = zipapp_archive()
    if archive:
        return [archive]
    return [str(Path(usagestat.__file__).resolve().parent.parent)]


def python_executable() -> str:
    return sys.executable or "python3"


def materialize(path: Any) -> str | None:
    """An absolute file-system path for a package file (icons), or None.

    Files on disk are returned as they are. Files inside the ``.pyz`` are
    extracted once into the cache directory by :mod:`usagestat.vendor`.
    """
    if isinstance(path, Path):
        return os.path.abspath(path) if path.is_file() else None
    try:
        from usagestat import vendor
    except ImportError:
        return None
    return vendor.extract_resource(path)
