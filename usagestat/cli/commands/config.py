"""``usagestat config validate|dump|path|init``: check, show, locate or create the config."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import CliError

if TYPE_CHECKING:
    from usagestat.plugins.discovery import Registry

    from ..context import CliContext

DESCRIPTION = """\
Work with the config file (default ~/.config/usagestat/config.toml; override
with --config PATH or $USAGESTAT_CONFIG). A missing file means defaults.

  validate   report every problem (exit 1 when there is an error)
  dump       the effective config as JSON, secrets masked
  path       print the config file's path
  init       write a commented starter config enabling detected providers

examples:
  usagestat config validate
  usagestat config validate --json
  usagestat config dump
  usagestat config init
  usagestat --config ./config.toml config path
"""

VALIDATE_DESCRIPTION = """\
Check the config file thoroughly: TOML syntax (with line and column), value
types and ranges, unknown keys, duplicate instanceIds, unknown provider ids,
a source the provider does not support, a custom entry without
customCommand, and secrets in a file other users can read.

Unknown keys and readable secrets are warnings; everything else is an error.
Exit 1 when there is any error ("valid": false in JSON). Other commands
refuse only a file that does not parse or holds wrong types.

examples:
  usagestat config validate
  usagestat config validate --json   # {path, valid, issues:[{level, path, message}]}

output:
  /home/me/.config/usagestat/config.toml: invalid (1 error, 1 warning)
    error    providers[1].source: codex does not support 'api' (supports: oauth, cli)
    warning  providers[0].colour: unknown key (ignored)
"""

DUMP_DESCRIPTION = """\
Print the effective configuration (the file merged with defaults) as JSON.
Secrets are masked as sk-…abcd: apiKey, cookieHeader and every settings value
whose key contains key, secret, token, password or cookie.

A value outside its range (refreshSec = 5) is shown as written, with a warning
on stderr; only a file that does not parse or has wrong types is refused.

examples:
  usagestat config dump
  usagestat config dump --plain      # flattened 'key: value' lines
"""

PATH_DESCRIPTION = """\
Print the path of the config file in use (whether or not it exists or is
valid; its problems, if any, are warnings on stderr).

examples:
  usagestat config path
  $EDITOR "$(usagestat config path)"
"""

INIT_DESCRIPTION = """\
Write a commented starter config: the general settings with their defaults,
an enabled [[providers]] entry for each provider whose credentials were
detected on this machine, and examples for API keys, second instances and
custom scripts. The file is created with mode 0600 (its folder 0700).

An existing file is never overwritten unless --force is given (the old one is
kept as config.toml.bak). --stdout prints the file instead of writing it.

examples:
  usagestat config init
  usagestat config init --stdout > my-config.toml
  usagestat --config ./config.toml config init --force
"""


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "config",
        parents=[common],
        help="validate, show, locate or create the config file",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    for name, text, summary in (
        ("validate", VALIDATE_DESCRIPTION, "check the config (exit 1 on errors)"),
        ("dump", DUMP_DESCRIPTION, "print the effective config, secrets masked"),
        ("path", PATH_DESCRIPTION, "print the config file path"),
        ("init", INIT_DESCRIPTION, "write a commented starter config"),
    ):
        action = actions.add_parser(
            name, parents=[common], help=summary, description=text, formatter_class=HelpFormatter
        )
        if name == "init":
            action.add_argument(
                "--force", action="store_true", help="overwrite an existing file (keeps a .bak)"
            )
            action.add_argument(
                "--stdout", action="store_true", help="print the file instead of writing it"
            )


def _registry_without_config(ctx: CliContext) -> Registry:
    """Plugins for validation even when the config itself is broken."""
    from usagestat.core.config import ConfigError, load_config
    from usagestat.plugins.discovery import discover

    try:
        config_dirs = load_config(ctx.config_arg).plugin_dirs
    except ConfigError:
        config_dirs = []
    return discover(ctx.plugin_dirs, config_dirs)


def validate(ctx: CliContext) -> int:
    from usagestat.core.config import validate_config
    from usagestat.core.models import MODES, ConfigIssue

    registry = _registry_without_config(ctx)
    known: dict[str, tuple[str, ...]] = {
        plugin_id: tuple(plugin.manifest.supported_modes) or MODES
        for plugin_id, plugin in registry.plugins.items()
    }
    for broken in registry.broken:
        known.setdefault(broken.key, MODES)
    result = validate_config(ctx.config_arg, known)
    configured = _configured_ids(ctx)
    for broken in registry.broken:
        if broken.key in configured and broken.key not in registry.plugins:
            result.issues.append(
                ConfigIssue(
                    "warning",
                    "",
                    f"provider {broken.key!r} is an invalid plugin: {broken.first_problem}",
                )
            )
    if ctx.json:
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(result))
        return 0 if result.valid else 1
    errors = sum(1 for issue in result.issues if issue.level == "error")
    warnings = len(result.issues) - errors
    if ctx.plain:
        ctx.out(f"path: {result.path}")
        ctx.out(f"valid: {'true' if result.valid else 'false'}")
        for issue in result.issues:
            where = f"{issue.path}: " if issue.path else ""
            ctx.out(f"{issue.level}: {where}{issue.message}")
        return 0 if result.valid else 1
    from ..render.term import paint

    counts = []
    if errors:
        counts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    verdict = "valid" if result.valid else "invalid"
    verdict = paint(verdict, "green" if result.valid else "red", ctx.color)
    ctx.out(f"{result.path}: {verdict}" + (f" ({', '.join(counts)})" if counts else ""))
    for issue in result.issues:
        where = f"{issue.path}: " if issue.path else ""
        level = paint(issue.level.ljust(8), "red" if issue.level == "error" else "amber", ctx.color)
        ctx.out(f"  {level} {where}{issue.message}")
    return 0 if result.valid else 1


def _configured_ids(ctx: CliContext) -> set[str]:
    from usagestat.core.config import ConfigError, load_config

    try:
        return {entry.id for entry in load_config(ctx.config_arg).providers}
    except ConfigError:
        return set()


def _flatten(prefix: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    else:
        if value is None:
            shown = ""
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, list):
            shown = ",".join(str(v) for v in value)
        else:
            shown = str(value)
        out.append(f"{prefix}: {shown}")


def _load_for_display(ctx: CliContext, *, required: bool):
    """The config without range checks; its problems are warnings on stderr.

    ``config dump`` and ``config path`` show what the user wrote: only a file
    that does not parse or has wrong types stops ``dump`` (``required``).
    """
    from usagestat.core.config import ConfigError, load_config

    try:
        config = load_config(ctx.config_arg, check_ranges=False)
    except ConfigError as exc:
        if required:
            raise CliError(str(exc))
        ctx.warn(f"config: {exc}")
        return None
    for issue in config.warnings:
        where = f"{issue.path}: " if issue.path else ""
        ctx.warn(f"config: {where}{issue.message}")
    return config


def dump(ctx: CliContext) -> int:
    from usagestat.core.config import dump_config

    data = dump_config(_load_for_display(ctx, required=True))
    if ctx.plain:
        lines: list[str] = []
        _flatten("", data, lines)
        for line in lines:
            ctx.out(line)
    else:
        ctx.print_json(data)
    return 0


def path(ctx: CliContext) -> int:
    from usagestat.core.config import resolve_path

    where = resolve_path(ctx.config_arg)
    _load_for_display(ctx, required=False)  # problems as warnings; the path is printed anyway
    if ctx.json:
        ctx.print_json({"path": str(where), "exists": where.is_file()})
    elif ctx.plain:
        ctx.out(f"path: {where}")
        ctx.out(f"exists: {'true' if where.is_file() else 'false'}")
    else:
        ctx.out(str(where))
    return 0


def detected_providers(ctx: CliContext, registry: Registry) -> list[tuple[str, str]]:
    """``(id, name)`` of non-dev providers whose detect hints match this machine."""
    from usagestat.plugins.instances import detect_matches

    found = []
    for plugin_id in sorted(registry.plugins):
        plugin = registry.plugins[plugin_id]
        if plugin.dev:
            continue
        try:
            if detect_matches(plugin):
                found.append((plugin_id, plugin.manifest.name))
        except OSError:
            continue
    return found


def init(ctx: CliContext, args: argparse.Namespace) -> int:
    import os

    from usagestat.core.config import resolve_path
    from usagestat.core.starter import starter_config

    registry = _registry_without_config(ctx)
    detected = detected_providers(ctx, registry)
    available = sorted(pid for pid, plugin in registry.plugins.items() if not plugin.dev)
    text = starter_config(detected, available)
    if args.stdout:
        ctx.stdout.write(text)
        return 0
    where = resolve_path(ctx.config_arg)
    backup = None
    if where.exists() and not args.force:
        raise CliError(f"{where} already exists; use --force to replace it (a .bak copy is kept)")
    from usagestat.core.atomicio import atomic_write_text

    try:
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if where.exists():
            import shutil

            backup = where.with_name(where.name + ".bak")
            shutil.copy2(where, backup)
            os.chmod(backup, 0o600)
        atomic_write_text(where, text, mode=0o600)
    except OSError as exc:
        raise CliError(f"cannot write {where}: {exc.strerror or exc}")
    ids = [pid for pid, _ in detected]
    if ctx.json:
        ctx.print_json(
            {
                "path": str(where),
                "created": True,
                "backup": str(backup) if backup else None,
                "providers": ids,
            }
        )
        return 0
    if ctx.plain:
        ctx.out(f"path: {where}")
        ctx.out(f"providers: {','.join(ids)}")
        return 0
    ctx.out(f"Wrote {where}")
    if backup:
        ctx.out(f"  (the previous file is {backup})")
    if ids:
        ctx.out(f"  enabled: {', '.join(ids)} (credentials found)")
    else:
        ctx.out("  no provider credentials were found; edit the file to enable providers")
    ctx.out("Next: `usagestat config validate`, then `usagestat`.")
    return 0


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    action = args.config_action
    if action == "validate":
        return validate(ctx)
    if action == "dump":
        return dump(ctx)
    if action == "path":
        return path(ctx)
    return init(ctx, args)
