"""A private HOME for tests: usagestat's config, data and cache never touch the real ones.

Registered as a pytest plugin by the root ``conftest.py``, so every test can ask
for the ``home`` fixture; subprocess tests build their environment with
:func:`private_home`.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def private_home(root: Path) -> dict[str, str]:
    """Environment variables that confine usagestat's config, data and cache under ``root``."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME (and XDG dirs) for in-process tests; returns the home folder."""
    for name, value in private_home(tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in ("USAGESTAT_PROBE_TIMEOUT_SEC", "USAGESTAT_DATA_DIR", "USAGESTAT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"
