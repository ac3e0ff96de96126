"""Full-size runs of the security suite's long tests (``pytest -m soak tests/soak -s``).

The figures each prints are the ones recorded in docs/security.md. The fuzzers
of tests/security scale with ``USAGESTAT_SOAK_SCALE`` instead
(``USAGESTAT_SOAK_SCALE=20 pytest tests/security``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from security.test_crash_safety import daemon_kill_loop, writer_kill_loop

pytestmark = [pytest.mark.soak, pytest.mark.skipif(os.name != "posix", reason="POSIX only")]

KILLS = int(os.environ.get("USAGESTAT_SOAK_KILLS", "1000"))
REQUESTS = int(os.environ.get("USAGESTAT_SOAK_REQUESTS", "100000"))


def test_soak_writer_kill_loop(tmp_path: Path) -> None:
    stats = writer_kill_loop(tmp_path / "data", KILLS, seed=2026)
    print(f"\nSOAK writer kill loop: {stats}")
    assert stats.leftover_temp_files <= 1


def test_soak_daemon_kill_loop(tmp_path: Path) -> None:
    stats = daemon_kill_loop(tmp_path, KILLS, seed=2026)
    print(f"\nSOAK daemon kill loop: {stats}")
    # at most one served result per kill is checked inside the loop; here the totals
    assert stats.lost_served <= stats.iterations
    assert stats.torn_lines == 0
    assert stats.cache_instances == 12


def test_soak_http_load(tmp_path: Path) -> None:
    from daemon.harness import FAST_JS, Daemon, write_plugin
    from security.test_http_hardening import CONFIG, load

    (tmp_path / "home").mkdir()
    for plugin_id in ("alpha", "beta"):
        write_plugin(tmp_path / "plugins", plugin_id, FAST_JS)
    (tmp_path / "config.toml").write_text(CONFIG)
    daemon = Daemon(tmp_path / "home", tmp_path / "config.toml", tmp_path / "plugins").start()
    try:
        daemon.wait_for(lambda: len(daemon.usage()) == 2)
        first = load(daemon, 10_000, 50)  # the acceptance figure, then the long run
        figures = load(daemon, REQUESTS, 50)
    finally:
        daemon.kill()
    for name, result in (("10k", first), ("long", figures)):
        print(
            f"\nSOAK http load {name}: "
            + json.dumps({k: v for k, v in result.items() if k != "errors"})
        )
        assert result["errors"] == []
    assert figures["rss_after_kib"] - first["rss_after_kib"] < 10 * 1024  # no growth
