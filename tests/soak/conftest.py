"""Soak runs are skipped unless selected: ``pytest -m soak tests/soak`` (docs/security.md)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="soak run: pytest -m soak tests/soak (see docs/security.md)")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
