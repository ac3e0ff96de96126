from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Daemon, write_plugin

MakeDaemon = Callable[..., Daemon]


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[MakeDaemon]:
    """Build (and by default start) a daemon in a private home; killed after the test."""
    created: list[Daemon] = []

    def make(
        config: str = "",
        plugins: list[tuple[str, str, dict[str, Any]]] | None = None,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        start: bool = True,
    ) -> Daemon:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        plugin_dir = tmp_path / "plugins"
        plugin_dir.mkdir(exist_ok=True)
        for plugin_id, js, manifest in plugins or []:
            write_plugin(plugin_dir, plugin_id, js, **manifest)
        config_path = tmp_path / "config.toml"
        config_path.write_text(config)
        daemon = Daemon(home, config_path, plugin_dir, args, env)
        created.append(daemon)
        if start:
            daemon.start()
        return daemon

    yield make
    for daemon in created:
        daemon.kill()
