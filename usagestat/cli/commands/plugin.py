"""``usagestat plugin validate|new``: check plugin folders, start a new plugin from the template."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CliError, UsageError

if TYPE_CHECKING:
    from ..context import CliContext

DESCRIPTION = """\
Work with provider plugins (a folder with plugin.json, a script and icons).

  validate [DIR...]          check plugins; exit 1 when any is invalid
  new ID --mode MODE         start a plugin from the template

examples:
  usagestat plugin validate
  usagestat plugin validate ./my-plugin --json
  usagestat plugin new acme --mode api
"""

VALIDATE_DESCRIPTION = """\
Check plugin folders: the manifest (required keys, id pattern, modes, URLs,
permissions; unknown keys are warnings), the entry script (it must evaluate
against a stub context and export __usagestat_plugin with the manifest's id),
and the icons (icon.svg must be an SVG drawn with currentColor). Every problem
is printed with the file it is in.

With no DIR, every discovered plugin is checked (--plugin-dir, pluginDirs,
$USAGESTAT_PLUGIN_DIR, the user plugin folder, ./plugins, the bundled ones).
A DIR may be a plugin folder or a folder of plugin folders.

Exit 1 when any plugin is invalid (warnings alone do not fail).

examples:
  usagestat plugin validate
  usagestat plugin validate ~/my-plugins/acme
  usagestat plugin validate --json   # [{id, path, valid, problems:[{level, file, message}]}]

output:
  ok       acme      /home/me/.config/usagestat/plugins/acme
  INVALID  broken    /home/me/.config/usagestat/plugins/broken
    error: /home/me/.config/usagestat/plugins/broken/plugin.json: id is required and must match ^[a-z0-9][a-z0-9-]*$
  2 plugins checked, 1 invalid
"""

NEW_DESCRIPTION = """\
Create a plugin folder from the provider template with the id filled in and
only the example of the chosen source mode kept:

  api    an API key from the config (apiKey, apiKeyEnv, apiKeyCommand)
  oauth  a token file with refresh (locking and write-back done right)
  local  a file the provider's own tool keeps up to date
  cli    the provider's own command-line tool
  web    a browser session cookie (see `usagestat auth import-cookies`)

The folder is created as DIR/ID (default DIR: your user plugin folder,
~/.config/usagestat/plugins, which is searched automatically). Its
permissions are trimmed to what the mode needs. Edit plugin.json and
plugin.js, then check it with `usagestat plugin validate`.

examples:
  usagestat plugin new acme --mode api
  usagestat plugin new acme-web --mode web --name "Acme (web)" --dir ./plugins
"""
MODES = ("api", "oauth", "local", "cli", "web")
MODE_PERMISSIONS = {
    "api": ("http", "env"),
    "oauth": ("http", "fs", "fsWrite"),
    "local": ("fs",),
    "cli": ("commands",),
    "web": ("http", "env"),
}
TEXT_SUFFIXES = {".js", ".json", ".md", ".svg", ".txt", ".py", ".toml"}


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "plugin",
        parents=[common],
        help="validate plugins or start a new one from the template",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="plugin_action", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate",
        parents=[common],
        help="check plugin folders (exit 1 if any is invalid)",
        description=VALIDATE_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    validate.add_argument(
        "dirs", nargs="*", metavar="DIR", help="a plugin folder or a folder of plugin folders"
    )
    new = actions.add_parser(
        "new",
        parents=[common],
        help="create a plugin from the template",
        description=NEW_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    new.add_argument("id", metavar="ID", help="the new provider id (a-z, 0-9, dashes)")
    new.add_argument("--mode", required=True, choices=MODES, help="source mode of the example")
    new.add_argument("--name", help="display name (default: from the id)")
    new.add_argument("--dir", metavar="DIR", help="parent folder (default: the user plugin folder)")


# -- validate -------------------------------------------------------------------


def _folders(ctx: CliContext, dirs: list[str]) -> list[tuple[Any, str]]:
    from usagestat.plugins.discovery import plugin_folders, search_dirs

    if dirs:
        out = []
        for entry in dirs:
            path = Path(entry).expanduser()
            if not path.is_dir():
                from ..context import dir_problem

                raise CliError(f"{dir_problem(path)}: {entry}")
            found = plugin_folders(path)
            if not found:
                raise CliError(f"no plugin folders in {entry}")
            out.extend((folder, "cli") for folder in found)
        return out
    seen: set[str] = set()
    out = []
    for origin, directory in search_dirs(ctx.plugin_dirs, ctx.config.plugin_dirs):
        for folder in plugin_folders(directory):
            key = str(folder)
            if key not in seen:
                seen.add(key)
                out.append((folder, origin))
    return out


def validate(ctx: CliContext, args: argparse.Namespace) -> int:
    from usagestat.plugins.engine import EngineUnavailable, load_engine
    from usagestat.plugins.validation import validate_folder

    folders = _folders(ctx, args.dirs)
    try:
        load_engine()
    except EngineUnavailable as exc:
        raise CliError(str(exc))
    results = [validate_folder(folder, origin) for folder, origin in folders]
    invalid = sum(1 for r in results if not r.valid)
    if ctx.json:
        from usagestat.core.serialize import to_json

        ctx.print_json(to_json(results))
        return 1 if invalid else 0
    from ..render.term import paint, sanitize

    name_width = max((len(r.id or Path(r.path).name) for r in results), default=0)
    for result in results:
        errors = sum(1 for p in result.problems if p.level == "error")
        warnings = len(result.problems) - errors
        name = result.id or Path(result.path).name
        if ctx.plain:
            ctx.out(f"{name}: {'valid' if result.valid else 'invalid'}")
            for problem in result.problems:
                ctx.out(f"{name}.{problem.level}: {problem.file}: {sanitize(problem.message)}")
            continue
        verdict = (
            paint("ok     ", "green", ctx.color)
            if result.valid
            else paint("INVALID", "red", ctx.color)
        )
        extra = f"  ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        ctx.out(f"{verdict}  {name.ljust(name_width)}  {result.path}{extra}")
        for problem in result.problems:
            level = paint(problem.level, "red" if problem.level == "error" else "amber", ctx.color)
            ctx.out(f"  {level}: {problem.file}: {sanitize(problem.message)}")
    if not ctx.plain:
        noun = "plugin" if len(results) == 1 else "plugins"
        ctx.out(f"{len(results)} {noun} checked, {invalid} invalid")
    return 1 if invalid else 0


# -- new --------------------------------------------------------------------------


def title_from_id(plugin_id: str) -> str:
    return " ".join(part.capitalize() for part in plugin_id.split("-") if part) or plugin_id


def keep_mode(script: str, mode: str) -> str:
    """Drop the ``// --- mode: X ---`` sections of other modes (and every marker line)."""
    import re

    out: list[str] = []
    current: str | None = None
    for line in script.splitlines(keepends=True):
        start = re.match(r"\s*//\s*---\s*mode:\s*([a-z]+)\s*---", line)
        if start:
            current = start.group(1)
            continue
        if re.match(r"\s*//\s*---\s*end mode\s*---", line):
            current = None
            continue
        if current is None or current == mode:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def _probe_function(script: str, mode: str) -> str:
    import re

    wanted = "probe" + mode.capitalize()
    names = re.findall(r"function\s+(probe[A-Z]\w*)\s*\(", script)
    if wanted in names:
        return wanted
    if names:
        return names[0]
    raise CliError(f"the template has no probe function for mode {mode!r}")


def make_script(script: str, mode: str, plugin_id: str, name: str, from_examples: bool) -> str:
    """The new plugin.js: one mode, the id filled in, an export that calls that mode."""
    import re

    if not from_examples:
        script = keep_mode(script, mode)
    lines = script.splitlines(keepends=True)
    header_end = 0
    while header_end < len(lines) and lines[header_end].startswith("//"):
        header_end += 1
    body = "".join(lines[header_end:]).lstrip("\n")
    marker = re.search(r"^globalThis\.__usagestat_plugin\s*=", body, flags=re.M)
    if marker is not None:
        body = body[: marker.start()]
    function = _probe_function(body, mode)
    header = (
        f"// {name}: a usagestat provider plugin ({mode} mode), created with\n"
        f"// `usagestat plugin new {plugin_id} --mode {mode}`. Reference: docs/plugins.md.\n"
        f"// A classic script (no imports) that sets globalThis.__usagestat_plugin.\n\n"
    )
    export = (
        "globalThis.__usagestat_plugin = {\n"
        f'  id: "{plugin_id}",\n'
        "  probe: function (ctx) {\n"
        f"    return {function}(ctx);\n"
        "  },\n"
        "};\n"
    )
    body = re.sub(r"\n{3,}", "\n\n", body.rstrip() + "\n")
    return header + body + "\n" + export


def make_manifest(manifest: dict[str, Any], plugin_id: str, name: str, mode: str) -> dict[str, Any]:
    """The template manifest narrowed to one mode, with least-privilege permissions."""
    out = dict(manifest)
    out["id"] = plugin_id
    out["name"] = name
    out["entry"] = "plugin.js"
    out["version"] = "0.1.0"
    out["supportedModes"] = [mode]
    out["autoMode"] = mode
    permissions = dict(out.get("permissions") or {})
    keep = MODE_PERMISSIONS[mode]
    out["permissions"] = {
        kind: (list(permissions.get(kind) or []) if kind in keep else [])
        for kind in ("http", "env", "fs", "fsWrite", "commands", "keychain")
    }
    unwanted = {"api": "COOKIE", "web": "API_KEY"}.get(mode)
    if unwanted:
        env = out["permissions"]["env"]
        out["permissions"]["env"] = [name for name in env if unwanted not in name.upper()]
    if mode != "web":
        out.pop("webUrl", None)
    detect = dict(out.get("detect") or {})
    if mode in ("local", "oauth"):
        detect = {"files": detect.get("files", [])}
    elif mode == "api":
        detect = {"env": detect.get("env", [])}
    else:
        detect = {}
    if any(detect.values()):
        out["detect"] = detect
    else:
        out.pop("detect", None)
    return out


def _walk(folder: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for child in sorted(folder.iterdir(), key=lambda c: c.name):
        name = child.name.rstrip("/")
        if name.startswith(".") or name == "__pycache__" or name.endswith(".pyc"):
            continue
        rel = f"{prefix}{name}"
        if child.is_dir():
            out.extend(_walk(child, rel + "/"))
        else:
            out.append((rel, child))
    return out


def create_plugin(template: Any, dest: Path, plugin_id: str, mode: str, name: str) -> list[str]:
    """Copy ``template`` to ``dest`` for one mode; returns the relative paths written."""
    import json

    manifest_path = template / "plugin.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    old_id = str(manifest.get("id") or "")
    old_name = str(manifest.get("name") or "")
    entry = str(manifest.get("entry") or "plugin.js")
    examples = template / "examples" / f"{mode}.js"
    from_examples = examples.is_file()
    env_prefix = plugin_id.upper().replace("-", "_")

    def rename(text: str, quoted: bool = False) -> str:
        """Template names -> the new ones (``quoted``: inside JS/JSON string literals)."""
        if old_id:
            text = text.replace(old_id, plugin_id)
        if old_name:
            text = text.replace(old_name, json.dumps(name)[1:-1] if quoted else name)
        return text.replace("EXAMPLE_PROVIDER", env_prefix).replace("example-provider", plugin_id)

    def rename_json(value: Any) -> Any:
        if isinstance(value, str):
            return rename(value)
        if isinstance(value, list):
            return [rename_json(v) for v in value]
        if isinstance(value, dict):
            return {k: rename_json(v) for k, v in value.items()}
        return value

    files: dict[str, bytes] = {}
    for rel, item in _walk(template):
        if rel == "plugin.json" or rel == entry or (from_examples and rel.startswith("examples/")):
            continue
        data = item.read_bytes()
        suffix = Path(rel).suffix
        if suffix in TEXT_SUFFIXES:
            try:
                quoted = suffix in (".js", ".json", ".py")
                data = rename(data.decode("utf-8"), quoted).encode("utf-8")
            except UnicodeDecodeError:
                pass
        files[rel] = data
    source = (examples if from_examples else template / entry).read_text(encoding="utf-8")
    script = make_script(source, mode, plugin_id, name, from_examples)
    files["plugin.js"] = rename(script, quoted=True).encode("utf-8")
    new_manifest = rename_json(make_manifest(manifest, plugin_id, name, mode))
    files["plugin.json"] = (json.dumps(new_manifest, indent=2, ensure_ascii=False) + "\n").encode()
    dest.mkdir(parents=True)
    for rel, data in sorted(files.items()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sorted(files)


def new(ctx: CliContext, args: argparse.Namespace) -> int:
    from usagestat.core import paths
    from usagestat.core.config import ID_PATTERN
    from usagestat.plugins.resources import template_dir

    plugin_id = args.id
    if not ID_PATTERN.match(plugin_id):
        raise UsageError(f"invalid id {plugin_id!r}: use lower-case letters, digits and dashes")
    template = template_dir()
    if template is None or not (template / "plugin.json").is_file():
        raise CliError("the plugin template is not part of this installation")
    parent = Path(args.dir).expanduser() if args.dir else paths.config_dir() / "plugins"
    dest = parent / plugin_id
    if dest.exists():
        raise CliError(f"{dest} already exists; choose another id or --dir")
    name = args.name or title_from_id(plugin_id)
    try:
        files = create_plugin(template, dest, plugin_id, args.mode, name)
    except OSError as exc:
        raise CliError(f"cannot create {dest}: {exc.strerror or exc}")
    except ValueError as exc:
        raise CliError(f"the plugin template is unreadable: {exc}")
    if ctx.json:
        ctx.print_json(
            {"id": plugin_id, "mode": args.mode, "path": str(dest.resolve()), "files": files}
        )
        return 0
    if ctx.plain:
        ctx.out(f"id: {plugin_id}")
        ctx.out(f"path: {dest.resolve()}")
        return 0
    ctx.out(f"Created {dest} ({args.mode} mode):")
    for rel in files:
        ctx.out(f"  {rel}")
    ctx.out("Next:")
    ctx.out(f"  edit {dest / 'plugin.json'} and {dest / 'plugin.js'}")
    ctx.out(f"  usagestat plugin validate {dest}")
    searched = args.dir is None
    flag = "" if searched else f"--plugin-dir {parent} "
    ctx.out(f"  usagestat {flag}usage {plugin_id}")
    return 0


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.plugin_action == "validate":
        return validate(ctx, args)
    return new(ctx, args)
