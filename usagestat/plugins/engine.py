"""Load the QuickJS engine (``_quickjs`` from PyPI ``quickjs-ng``) only when JS must run.

The C module is imported directly, never the ``quickjs`` wrapper package,
which starts a thread on import (QUICKJS-NOTES.md §0). Inside ``usagestat.pyz``
the native module comes from the vendored wheel via :mod:`usagestat.vendor`.
"""

from __future__ import annotations

import sys
from types import ModuleType


class EngineUnavailable(Exception):
    """The JavaScript engine cannot be loaded on this machine (one-line message)."""


def load_engine() -> ModuleType:
    module = sys.modules.get("_quickjs")
    if module is not None:
        return module
    try:
        from usagestat import vendor
    except ImportError:  # pragma: no cover - the package always ships it
        vendor = None
    if vendor is not None and vendor.available():
        return vendor.load_quickjs()
    try:
        import _quickjs
    except ImportError as exc:
        raise EngineUnavailable(
            "the QuickJS engine is not installed (pip install quickjs-ng==0.17.0.2, "
            f"or run the single-file usagestat.pyz): {exc}"
        )
    return _quickjs


def engine_location() -> str | None:
    module = sys.modules.get("_quickjs")
    return getattr(module, "__file__", None) if module else None
