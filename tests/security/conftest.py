"""Shared set-up for the security suite: scaled fuzzing budgets (the private HOME is in tests/homes.py).

``USAGESTAT_SOAK_SCALE`` (default 1) multiplies every example count and
iteration count, so the soak run (``pytest -m soak``, docs/security.md) and a
local deep run use the same tests as CI with bigger budgets.
"""

from __future__ import annotations

import os

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
