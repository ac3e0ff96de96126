"""``usagestat doctor``: is this installation healthy, and what does it see?"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usagestat.core.config import Config
    from usagestat.plugins.discovery import Plugin

    from ..context import CliContext

DESCRIPTION = """\
Check the installation and explain what usagestat sees, without probing any
provider:

  python       the interpreter and its version (3.10 or newer)
  engine       whether the QuickJS engine loads (needed to run plugins)
  paths        config, data and cache folders: present, writable, private
  config       whether the config file is valid (as `config validate`)
  plugin dirs  the folders searched for plugins; named ones that are missing
  plugins      how many were found; invalid ones; user plugins that shadow
               bundled ones
  credentials  which providers have credentials on this machine (detected
               files and variables, or keys/cookies in the config)
  daemon       whether a daemon answers on the configured address

Exit 1 when a check fails (an error); warnings and notes do not fail.

examples:
  usagestat doctor
  usagestat doctor --json    # {ok, version, checks:[{check, status, message}], providers:[...]}

output:
  ok       python       3.11.7 (/usr/bin/python3)
  ok       engine       QuickJS loaded (/usr/lib/python3/site-packages/_quickjs.so)
  warning  data dir     /home/me/.local/share/usagestat is readable by other users (chmod 700 it)
  ok       config       /home/me/.config/usagestat/config.toml: valid
  note     daemon       not running on 127.0.0.1:6736 (start it with `usagestat daemon`)
"""
MARKS = {
    "ok": ("ok", "green"),
    "warning": ("warning", "amber"),
    "error": ("error", "red"),
    "note": ("note", "dim"),
}


@dataclass
class Check:
    check: str
    status: str  # ok | warning | error | note
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "status": self.status, "message": self.message}
        out.update(self.details)
        return out


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    sub.add_parser(
        "doctor",
        parents=[common],
        help="check the installation, paths, config, credentials and daemon",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )


# -- individual checks ---------------------------------------------------------------


def check_python() -> Check:
    version = ".".join(str(part) for part in sys.version_info[:3])
    ok = sys.version_info >= (3, 10)
    message = f"{version} ({sys.executable or 'unknown interpreter'})"
    if not ok:
        message += ": usagestat needs Python 3.10 or newer"
    return Check("python", "ok" if ok else "error", message, {"version": version})


def check_install() -> Check:
    import usagestat
    from usagestat.plugins import resources

    archive = resources.zipapp_archive()
    if archive:
        kind, where = "zipapp", archive
    elif resources.source_root() is not None:
        kind, where = "source checkout", str(resources.source_root())
    else:
        kind, where = "installed package", str(Path(usagestat.__file__).parent)
    return Check(
        "usagestat",
        "ok",
        f"{usagestat.__version__}, {kind} ({where})",
        {"version": usagestat.__version__, "install": kind, "location": where},
    )


def check_engine() -> Check:
    from usagestat.plugins.engine import EngineUnavailable, load_engine

    try:
        module = load_engine()
    except EngineUnavailable as exc:
        return Check("engine", "error", str(exc))
    except Exception as exc:  # a broken native module must not stop the report
        return Check("engine", "error", f"the QuickJS engine failed to load: {exc}")
    location = getattr(module, "__file__", None) or "built in"
    return Check("engine", "ok", f"QuickJS loaded ({location})", {"location": location})


def _mode_problem(path: Path, is_dir: bool) -> str | None:
    if os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        want = "700" if is_dir else "600"
        return f"is accessible by other users (mode {mode:o}; chmod {want} {path})"
    return None


def check_dir(name: str, path: Path, *, private: bool, required: bool = False) -> Check:
    details = {"path": str(path)}
    if not path.exists():
        status = "warning" if required else "note"
        return Check(name, status, f"{path} does not exist yet (created when needed)", details)
    if not path.is_dir():
        return Check(name, "error", f"{path} is not a directory", details)
    if not os.access(path, os.W_OK | os.X_OK):
        return Check(name, "error", f"{path} is not writable", details)
    if private:
        problem = _mode_problem(path, is_dir=True)
        if problem:
            return Check(name, "warning", f"{path} {problem}", details)
    return Check(name, "ok", str(path), details)


def check_file(name: str, path: Path) -> Check:
    details: dict[str, Any] = {"path": str(path)}
    if not path.exists():
        return Check(name, "note", f"{path} (none yet)", details)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Check(name, "error", f"{path}: {exc.strerror or exc}", details)
    details["bytes"] = size
    if not os.access(path, os.R_OK | os.W_OK):
        return Check(name, "error", f"{path} is not readable and writable", details)
    problem = _mode_problem(path, is_dir=False)
    if problem:
        return Check(name, "warning", f"{path} {problem}", details)
    return Check(name, "ok", f"{path} ({_size(size)})", details)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover


def check_config(ctx: CliContext, known: dict[str, tuple[str, ...]]) -> Check:
    from usagestat.core.config import validate_config

    result = validate_config(ctx.config_arg, known)
    errors = [i for i in result.issues if i.level == "error"]
    warnings = [i for i in result.issues if i.level == "warning"]
    details = {"path": result.path, "issues": [vars(i) for i in result.issues]}
    if not Path(result.path).exists():
        return Check(
            "config",
            "note",
            f"{result.path} does not exist: defaults apply (`usagestat config init`)",
            details,
        )
    if errors:
        first = errors[0]
        where = f"{first.path}: " if first.path else ""
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return Check("config", "error", f"{result.path}: {where}{first.message}{more}", details)
    if warnings:
        noun = "warning" if len(warnings) == 1 else "warnings"
        return Check(
            "config",
            "warning",
            f"{result.path}: valid, {len(warnings)} {noun} (`usagestat config validate`)",
            details,
        )
    return Check("config", "ok", f"{result.path}: valid", details)


def credential_source(plugin: Plugin) -> str | None:
    """The first detect hint of ``plugin`` present on this machine (a path or ``$VAR``)."""
    manifest = plugin.manifest
    for name in manifest.detect_env:
        if os.environ.get(name):
            return f"${name}"
    for pattern in manifest.detect_files:
        expanded = os.path.expanduser(os.path.expandvars(pattern))
        if "$" in expanded:
            continue
        try:
            if Path(expanded).exists():
                return pattern
        except OSError:
            continue
    return None


def configured_credential(config: Config, instance_id: str) -> str | None:
    for entry in config.providers:
        if entry.instance_id != instance_id:
            continue
        if entry.api_key:
            return "apiKey in config"
        if entry.api_key_env:
            state = "set" if os.environ.get(entry.api_key_env) else "NOT set"
            return f"apiKeyEnv ${entry.api_key_env} ({state})"
        if entry.api_key_command:
            return "apiKeyCommand in config"
        if entry.cookie_header:
            return "cookieHeader in config"
        if entry.custom_command:
            return "customCommand in config"
    return None


def dev_instances(ctx: CliContext) -> list[str]:
    """Enabled instances of dev providers (mock, chaos …; source checkouts only)."""
    from usagestat.core.config import ConfigError

    try:
        instances = ctx.resolution.instances
    except ConfigError:
        return []
    return [i.instance_id for i in instances if i.enabled and i.plugin is not None and i.plugin.dev]


def providers_report(ctx: CliContext) -> list[dict[str, Any]]:
    out = []
    for inst in ctx.resolution.instances:
        if inst.plugin is not None and inst.plugin.dev:
            continue
        found = configured_credential(ctx.config, inst.instance_id)
        if found is None and inst.plugin is not None:
            found = credential_source(inst.plugin)
        if found is None and not inst.enabled:
            continue
        out.append(
            {
                "instanceId": inst.instance_id,
                "providerId": inst.provider_id,
                "enabled": inst.enabled,
                "credentials": found,
            }
        )
    return out


def check_daemon(config: Config) -> Check:
    from usagestat.core.httpclient import HttpError, request

    host = config.daemon.bind
    if host in ("0.0.0.0", "", "*"):
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{config.daemon.port}/health"
    details = {"url": url}
    try:
        response = request(url, timeout=1.0, headers={"Accept": "application/json"})
    except HttpError:
        return Check(
            "daemon",
            "note",
            f"not running on {shown}:{config.daemon.port} (start it with `usagestat daemon`)",
            {**details, "running": False},
        )
    details["running"] = True
    if response.status == 401:
        return Check(
            "daemon",
            "ok",
            f"answering on {shown}:{config.daemon.port} (API token required)",
            details,
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status == 200 and isinstance(data, dict) and data.get("status") == "ok":
        version = data.get("version", "?")
        count = data.get("providers", "?")
        return Check(
            "daemon",
            "ok",
            f"answering on {shown}:{config.daemon.port} (version {version}, {count} providers)",
            details,
        )
    return Check(
        "daemon",
        "warning",
        f"something else answers on {shown}:{config.daemon.port} (HTTP {response.status})",
        details,
    )


def check_plugin_dirs(ctx: CliContext, registry: Any) -> Check:
    """Where plugins are searched, in order (SPEC §3.2), and which of those folders exist."""
    from usagestat.core.config import ConfigError, load_config
    from usagestat.plugins.discovery import search_dirs

    try:
        config_dirs = load_config(ctx.config_arg).plugin_dirs
    except ConfigError:
        config_dirs = []
    searched = [
        {"origin": origin, "path": str(path), "exists": bool(path.is_dir())}
        for origin, path in search_dirs(ctx.plugin_dirs, config_dirs)
    ]
    present = [d["path"] for d in searched if d["exists"] and d["origin"] not in ("bundled", "dev")]
    missing = [
        d["path"] for d in searched if not d["exists"] and d["origin"] in ("cli", "config", "env")
    ]
    if missing:
        import os

        problem = "is not a directory" if os.path.exists(missing[0]) else "does not exist"
        return Check(
            "plugin dirs",
            "warning",
            f"{missing[0]} {problem}"
            + (f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""),
            {"searched": searched},
        )
    message = ", ".join(present) if present else "bundled plugins only"
    return Check("plugin dirs", "ok", message, {"searched": searched})


# -- the command ----------------------------------------------------------------------


def collect(ctx: CliContext) -> tuple[list[Check], list[dict[str, Any]]]:
    from usagestat.core import paths
    from usagestat.core.config import ConfigError
    from usagestat.core.models import MODES

    checks = [check_install(), check_python(), check_engine()]
    checks.append(check_dir("config dir", paths.config_dir(), private=True))
    checks.append(check_dir("data dir", paths.data_dir(), private=True))
    checks.append(check_dir("cache dir", paths.cache_dir(), private=True))
    checks.append(check_file("snapshots", paths.snapshots_path()))
    checks.append(check_file("history", paths.history_path()))
    try:
        registry = ctx.registry
    except Exception:  # the config does not load: discover without its pluginDirs
        from usagestat.plugins.discovery import discover

        registry = discover(ctx.plugin_dirs, [])
    known = {pid: tuple(p.manifest.supported_modes) or MODES for pid, p in registry.plugins.items()}
    for broken in registry.broken:
        known.setdefault(broken.key, MODES)
    config_check = check_config(ctx, known)
    checks.append(config_check)
    checks.append(check_plugin_dirs(ctx, registry))
    plugin_count = len(registry.plugins)
    checks.append(
        Check("plugins", "ok", f"{plugin_count} providers found", {"count": plugin_count})
    )
    for broken in registry.broken:
        if broken.key in registry.plugins:
            continue
        checks.append(
            Check(
                "plugins",
                "warning",
                f"invalid plugin {broken.key} ({broken.folder}): {broken.first_problem}",
            )
        )
    for shadow in registry.shadowed:
        checks.append(
            Check(
                "plugins",
                "warning",
                f"{shadow.id}: {shadow.winner} shadows the bundled {shadow.shadowed}",
            )
        )
    providers: list[dict[str, Any]] = []
    try:
        config = ctx.config
    except Exception:
        config = None
    if config is not None:
        try:
            providers = providers_report(ctx)
        except ConfigError:
            providers = []
        with_creds = [p for p in providers if p["credentials"]]
        enabled = [p for p in providers if p["enabled"]]
        status = "ok" if with_creds or enabled else "note"
        message = f"{len(with_creds)} with credentials, {len(enabled)} enabled"
        dev = dev_instances(ctx)
        if dev:
            # the daemon polls these too; say so, or "0 enabled" contradicts its log
            message += f" (plus the dev provider{'s' if len(dev) > 1 else ''} {', '.join(dev)})"
        elif not with_creds and not enabled:
            message += " (nothing detected; see `usagestat list` and `usagestat config init`)"
        checks.append(Check("credentials", status, message))
        checks.append(check_daemon(config))
    return checks, providers


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    import usagestat

    checks, providers = collect(ctx)
    failed = any(c.status == "error" for c in checks)
    if ctx.json:
        ctx.print_json(
            {
                "ok": not failed,
                "version": usagestat.__version__,
                "checks": [c.to_json() for c in checks],
                "providers": providers,
            }
        )
        return 1 if failed else 0
    if ctx.plain:
        for c in checks:
            ctx.out(f"{c.check}: {c.status}: {c.message}")
        for p in providers:
            state = "enabled" if p["enabled"] else "disabled"
            ctx.out(
                f"provider {p['instanceId']}: {state}; credentials: {p['credentials'] or 'none'}"
            )
        return 1 if failed else 0
    rows = [
        [(MARKS[c.status][0], MARKS[c.status][1]), (c.check, None), (c.message, None)]
        for c in checks
    ]
    ctx.table(rows)
    if providers:
        ctx.out("")
        ctx.out("Providers:")
        prow = []
        for p in providers:
            state = ("enabled", "green") if p["enabled"] else ("disabled", "dim")
            creds = (
                (p["credentials"], None) if p["credentials"] else ("no credentials found", "amber")
            )
            prow.append([(p["instanceId"], None), state, creds])
        ctx.table(prow, indent="  ")
    ctx.out("")
    ctx.out("Problems found." if failed else "No problems found.")
    return 1 if failed else 0
