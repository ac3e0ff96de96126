"""``tomllib`` on Python 3.11+, the vendored ``tomli`` (MIT) on 3.10."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, loads
else:  # pragma: no cover - exercised by the 3.10 CI job
    from ._vendor.tomli import TOMLDecodeError, loads

__all__ = ["TOMLDecodeError", "loads"]
