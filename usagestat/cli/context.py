"""What every command needs, loaded lazily: config, plugins, instances, output settings.

Nothing here imports more than it must: ``list`` touches config and discovery
only, and no command pays for the JavaScript engine unless it runs a plugin.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from .errors import CliError, UsageError

if TYPE_CHECKING:
    from usagestat.core.config import Config
    from usagestat.plugins.discovery import Registry
    from usagestat.plugins.instances import Instance, Resolution

    from .render.term import Glyphs
    from .render.text import TextStyle


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def dir_problem(path: str | os.PathLike[str]) -> str:
    """Why a folder the user named cannot be searched: not a directory, or no such directory."""
    return "not a directory" if os.path.exists(path) else "no such directory"


class CliContext:
    """The parsed arguments plus lazily loaded config, plugins and terminal facts."""

    def __init__(
        self, args: argparse.Namespace, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.args = args
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._warned: set[str] = set()

    # -- flags ------------------------------------------------------------------
    def flag(self, name: str) -> Any:
        return getattr(self.args, name, None)

    @property
    def verbose(self) -> bool:
        return bool(self.flag("verbose"))

    @property
    def debug(self) -> bool:
        return bool(self.flag("debug"))

    @property
    def json(self) -> bool:
        return bool(self.flag("json"))

    @property
    def plain(self) -> bool:
        return bool(self.flag("plain"))

    @property
    def is_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def color(self) -> bool:
        """ANSI colour on a terminal; never with ``--no-color``, ``NO_COLOR`` or ``TERM=dumb``.

        ``FORCE_COLOR`` (any value but ``0``) turns it on for a pipe, e.g. ``| less -R``.
        """
        if self.flag("no_color") or os.environ.get("NO_COLOR"):
            return False
        force = os.environ.get("FORCE_COLOR")
        if force and force != "0":
            return True
        if os.environ.get("TERM") == "dumb":
            return False
        return self.is_tty

    @property
    def width(self) -> int | None:
        """Columns to clip rows to: the terminal's width, or None for a pipe (no clipping)."""
        if not self.is_tty:
            return None
        from .render.term import terminal_columns

        return max(20, terminal_columns())

    @property
    def glyphs(self) -> Glyphs:
        from .render.term import Glyphs

        return Glyphs.for_encoding(getattr(self.stdout, "encoding", None))

    def text_style(self) -> TextStyle:
        from .render.text import TextStyle

        notify = self.config.notify
        return TextStyle(
            color=self.color,
            bars=self.color and self.is_tty,
            width=self.width,
            warn_percent=notify.warn_percent,
            critical_percent=notify.critical_percent,
            glyphs=self.glyphs,
        )

    # -- output -------------------------------------------------------------------
    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def print_json(self, data: Any, *, compact: bool = False) -> None:
        import json

        encoding = (getattr(self.stdout, "encoding", None) or "").lower().replace("-", "")
        ascii_only = not encoding.startswith("utf")
        if compact:
            text = json.dumps(data, ensure_ascii=ascii_only, separators=(",", ":"))
        else:
            text = json.dumps(data, indent=2, ensure_ascii=ascii_only)
        self.stdout.write(text + "\n")

    def table(self, rows: list[list[tuple[str, str | None]]], indent: str = "") -> None:
        """Print aligned columns of ``(text, style)`` cells, clipped to the terminal."""
        from .render import table

        for line in table.render(
            rows,
            color=self.color,
            max_width=self.width,
            ellipsis=self.glyphs.ellipsis,
            indent=indent,
        ):
            self.out(line)

    def warn(self, message: str) -> None:
        """One line on stderr per distinct message (stdout stays clean for data)."""
        if message in self._warned:
            return
        self._warned.add(message)
        self.stderr.write(f"usagestat: warning: {message}\n")

    def log(self, message: str) -> None:
        if self.verbose or self.debug:
            self.stderr.write(message + "\n")

    # -- config and plugins -------------------------------------------------------
    @property
    def config_arg(self) -> str | None:
        return self.flag("config")

    @cached_property
    def config(self) -> Config:
        from usagestat.core.config import ConfigError, load_config

        try:
            config = load_config(self.config_arg)
        except ConfigError as exc:
            raise CliError(str(exc))
        for issue in config.warnings:
            where = f"{issue.path}: " if issue.path else ""
            self.warn(f"config: {where}{issue.message}")
        return config

    @property
    def plugin_dirs(self) -> list[str]:
        return list(self.flag("plugin_dirs") or [])

    @cached_property
    def registry(self) -> Registry:
        from usagestat.plugins.discovery import discover

        for entry in self.plugin_dirs:
            expanded = os.path.expanduser(entry)
            if not os.path.isdir(expanded):
                self.warn(f"--plugin-dir {entry}: {dir_problem(expanded)}")
        registry = discover(self.plugin_dirs, self.config.plugin_dirs)
        if not self.json:
            for shadow in registry.shadowed:
                self.warn(f"plugin {shadow.id!r} from {shadow.winner} overrides the bundled one")
        return registry

    @cached_property
    def resolution(self) -> Resolution:
        from usagestat.plugins.instances import resolve_instances

        resolution = resolve_instances(self.config, self.registry)
        for message in resolution.warnings:
            self.warn(message)
        return resolution

    def select(self, ids: list[str], *, include_disabled: bool | None = None) -> list[Instance]:
        """Instances named by ``ids`` (instance ids, else provider ids), or the enabled ones.

        An unknown id is a usage error (exit 2) with a "did you mean".
        """
        from usagestat.plugins.instances import UnknownProvider, select

        if include_disabled is None:
            include_disabled = bool(self.flag("all"))
        try:
            chosen = select(self.resolution, self.registry, ids, include_disabled=include_disabled)
        except UnknownProvider as exc:
            raise UsageError(str(exc))
        if not ids:
            for broken in self.registry.broken:
                if broken.key not in self.registry.plugins:
                    self.warn(f"skipping invalid plugin {broken.key}: {broken.first_problem}")
        return chosen

    def provider_names(self) -> list[str]:
        """Every id a command line may name (instance ids and provider ids)."""
        names = {inst.instance_id for inst in self.resolution.instances}
        names |= {inst.provider_id for inst in self.resolution.instances}
        return sorted(names)
