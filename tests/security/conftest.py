"""Shared set-up for the security suite: a private HOME and scaled fuzzing budgets.

``USAGESTAT_SOAK_SCALE`` (default 1) multiplies every example count and
iteration count, so the soak run (``pytest -m soak``, docs/security.md) and a
local deep run use the same tests as CI with bigger budgets.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

SCALE = max(1.0, float(os.environ.get("USAGESTAT_SOAK_SCALE", "1") or 1))


def scaled(count: int) -> int:
    """An iteration or example budget for this run."""
    return max(1, int(count * SCALE))


def fuzz(examples: int) -> settings:
    """Hypothesis settings: deterministic in CI, random and bigger in a scaled run."""
    return settings(
        max_examples=scaled(examples),
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
    )


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
    """A private HOME (and XDG dirs) for in-process tests."""
    for name, value in private_home(tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in ("USAGESTAT_PROBE_TIMEOUT_SEC", "USAGESTAT_DATA_DIR", "USAGESTAT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"
