"""Argument parsing and dispatch for every ``usagestat`` command (SPEC §7).

Global flags work before or after the command word: they are declared on the
main parser and again, with ``SUPPRESS`` defaults, on every sub-parser. No
command means ``usage`` (``usagestat claude`` probes claude).

Start-up is kept cheap: only the sub-parser of the command being run is built
(and only its module imported); the others are listed in ``--help`` from the
one-line summaries below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .argv import command_word
from .errors import CliError, UsageError


# argparse asks gettext for a translation of every string it formats, and each
# lookup probes the file system for catalogues that do not exist (a few ms per
# run). The CLI's own text is English, so argparse's stays English too.
def _untranslated(message: str) -> str:
    return message


argparse._ = _untranslated  # type: ignore[attr-defined]

#: command word -> (module under usagestat.cli.commands, one-line summary), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "usage": ("usage", "probe providers and show usage (the default command)"),
    "list": ("listing", "list every provider and whether it is enabled (no network)"),
    "status": ("status", "show each provider's service status (Statuspage)"),
    "export": ("export", "export usage as CSV, JSON or JSON Lines (live or from history)"),
    "auth": ("auth", "import a browser session cookie for a web provider"),
    "config": ("config", "validate, show, locate or create the config file"),
    "cache": ("cache", "clear cached snapshots, history or plugin data"),
    "plugin": ("plugin", "validate plugins or start a new one from the template"),
    "doctor": ("doctor", "check the installation, paths, config, credentials and daemon"),
    "daemon": ("daemon", "run the HTTP daemon (same as usagestatd)"),
}
#: commands whose modules ship separately (the log scanner); listed once their module exists
OPTIONAL: dict[str, tuple[str, str]] = {
    "cost": ("cost", "token costs from local Claude Code / Codex logs"),
    "pricing": ("pricing", "update the model price table used by cost"),
}
HIDDEN = {"_probe-worker"}


def _register_optional() -> None:
    """Add the optional commands whose modules are present (checked once per process)."""
    if getattr(_register_optional, "done", False):
        return
    import importlib.util

    found = [
        (word, entry)
        for word, entry in OPTIONAL.items()
        if word not in COMMANDS and importlib.util.find_spec(f"usagestat.cli.commands.{entry[0]}")
    ]
    if found:  # listed right after export in --help
        ordered = list(COMMANDS.items())
        at = [word for word, _ in ordered].index("export") + 1
        ordered[at:at] = found
        COMMANDS.clear()
        COMMANDS.update(ordered)
    _register_optional.done = True  # type: ignore[attr-defined]


DEFAULT_COMMAND = "usage"

DESCRIPTION = """\
Show how much of each AI quota, credit pool or balance is used, when it
resets, and whether you are on pace to run out.

Run with no command to probe your enabled providers:

  usagestat                          # a block per enabled provider
  usagestat claude codex             # just these (same as: usagestat usage claude codex)
  usagestat --json usage claude      # one provider, as JSON for scripts
  usagestat list                     # what is installed and enabled
  usagestat daemon                   # serve it on http://127.0.0.1:6736/v1/usage
"""

EPILOG = """\
Global options work before or after the command word.
Environment: NO_COLOR disables colour, USAGESTAT_CONFIG / USAGESTAT_DATA_DIR /
USAGESTAT_PLUGIN_DIR move the config, data and plugins.

exit codes: 0 ok (provider errors are reported in-band), 1 operational
failure, 2 usage error, 130 interrupted.
Docs: docs/cli.md, docs/config.md, docs/plugins.md, docs/http-api.md."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their layout (examples!), option help wraps normally."""

    def __init__(self, prog: str) -> None:
        from .render.term import terminal_columns

        # An explicit width keeps argparse from importing shutil on every start.
        super().__init__(prog, max_help_position=32, width=terminal_columns() - 2)


def add_global_options(
    parser: argparse.ArgumentParser, *, suppress: bool, daemon_help: bool = True
) -> None:
    """The flags accepted anywhere on the line; sub-parsers get SUPPRESS defaults.

    The daemon's three flags are accepted everywhere (so they may come before
    the word ``daemon``) but shown only where they apply.
    """
    group = parser.add_argument_group("global options")

    def flag(*names: str, default: object = None, **kwargs: object) -> None:
        if not daemon_help and names[0] in ("--refresh-sec", "--bind", "--port"):
            kwargs["help"] = argparse.SUPPRESS
        group.add_argument(*names, default=argparse.SUPPRESS if suppress else default, **kwargs)  # type: ignore[arg-type]

    flag(
        "-V",
        "--version",
        action="store_true",
        default=False,
        help="print the version (with -v: licence notices)",
    )
    flag("--json", action="store_true", default=False, help="JSON output (= --format json)")
    flag("--plain", action="store_true", default=False, help="stable 'label: value' lines")
    flag("--config", metavar="PATH", help="config file (default: ~/.config/usagestat/config.toml)")
    flag(
        "--plugin-dir",
        metavar="DIR",
        action="append",
        dest="plugin_dirs",
        help="extra plugin directory, searched first (repeatable)",
    )
    flag(
        "--all",
        action="store_true",
        default=False,
        help="every discovered provider, enabled or not",
    )
    flag(
        "-v",
        "--verbose",
        action="store_true",
        default=False,
        help="plugin logs; tracebacks on errors",
    )
    flag(
        "--no-color", action="store_true", default=False, help="no ANSI colours (also: NO_COLOR=1)"
    )
    flag(
        "--debug", action="store_true", default=False, help="run probes in-process, show tracebacks"
    )
    flag("--refresh-sec", type=int, metavar="N", help="daemon polling interval (daemon only)")
    flag("--bind", metavar="ADDR", help="daemon bind address (daemon only)")
    flag("--port", type=int, metavar="N", help="daemon port (daemon only)")


def common_parent(daemon_help: bool = False) -> argparse.ArgumentParser:
    """The global flags for a sub-parser (``SUPPRESS`` defaults keep main-parser values)."""
    parent = argparse.ArgumentParser(add_help=False)
    add_global_options(parent, suppress=True, daemon_help=daemon_help)
    return parent


def build_parser(
    command: str | None = None, prog: str = "usagestat", *, summaries: bool = True
) -> argparse.ArgumentParser:
    """The main parser; the sub-parser of ``command`` is complete, the others are summaries.

    ``summaries=False`` leaves the other commands out entirely (each parser
    costs start-up time); only help output needs them.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    add_global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    common = common_parent() if command in COMMANDS else None
    for word, (module_name, summary) in COMMANDS.items():
        if word == command and common is not None:
            module = importlib.import_module(f"usagestat.cli.commands.{module_name}")
            module.add_parser(sub, common)
        elif summaries or command not in COMMANDS:
            sub.add_parser(word, help=summary, add_help=False)
    return parser


def with_default_command(args: list[str]) -> tuple[list[str], str | None]:
    """Put ``usage`` first when no command word is given; returns (args, command)."""
    found = command_word(args)
    if found is not None and found[1] in OPTIONAL:
        _register_optional()
        if found[1] not in COMMANDS:
            raise CliError(f"the {found[1]} command is not part of this build of usagestat")
    if found is not None and (found[1] in COMMANDS or found[1] in HIDDEN):
        return args, found[1]
    if found is None and any(a in ("-h", "--help", "-V", "--version") for a in args):
        return args, None
    return [DEFAULT_COMMAND, *args], DEFAULT_COMMAND


def _suggest_command(args: Sequence[str]) -> str:
    """A hint when an unknown provider id looks like a mistyped command word."""
    found = command_word(args)
    if found is None:
        return ""
    import difflib

    close = difflib.get_close_matches(found[1], list(COMMANDS), n=1, cutoff=0.75)
    return f"; or did you mean the command {close[0]!r}?" if close else ""


def run(argv: Sequence[str], prog: str = "usagestat") -> int:
    """Parse ``argv``, run the command, and turn every failure into an exit code."""
    original = list(argv)
    verbose = any(a in ("-v", "--verbose", "--debug") for a in original)
    _tolerant_streams()
    try:
        args_list, command = with_default_command(original)
        if command == "_probe-worker":
            from usagestat.plugins.worker import main as worker_main

            worker_main()
            return 0
        wants_help = any(a in ("-h", "--help") for a in args_list)
        if wants_help:
            _register_optional()
        parser = build_parser(command, prog, summaries=wants_help)
        args = parser.parse_args(args_list)
        if getattr(args, "version", False):
            from .commands.version import print_version

            return print_version(args)
        return _dispatch(args, original)
    except KeyboardInterrupt:
        _interrupted()
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except CliError as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        print(f"usagestat: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # an unreadable file, a full disk, a closed terminal
        if verbose:
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"usagestat: {exc.strerror or exc}{where}", file=sys.stderr)
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            _silence_stdout()  # else the exit-time flush fails again with a traceback
        return 1
    except Exception as exc:  # the last line of defence: one line, no traceback
        if verbose:
            raise
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        print(
            f"usagestat: unexpected error: {message} (run with --verbose for details)",
            file=sys.stderr,
        )
        return 1


def _dispatch(args: argparse.Namespace, original: list[str]) -> int:
    """Run the parsed command; an unknown id that looks like a command word gets a hint."""
    from .context import CliContext

    ctx = CliContext(args)
    if ctx.json and ctx.plain:
        raise UsageError("--json and --plain cannot be combined")
    daemon_flags = [
        f for f in ("refresh_sec", "bind", "port") if getattr(args, f, None) is not None
    ]
    if daemon_flags and args.command != "daemon":
        flag = "--" + daemon_flags[0].replace("_", "-")
        raise UsageError(f"{flag} only applies to the daemon command")
    module_name = COMMANDS[args.command][0]
    module = importlib.import_module(f"usagestat.cli.commands.{module_name}")
    try:
        code = int(module.run(ctx, args) or 0)
        ctx.stdout.flush()
    except UsageError as exc:
        found = command_word(original)
        typed = found[1] if found else None
        if typed not in COMMANDS and "unknown provider" in str(exc):
            exc = UsageError(str(exc) + _suggest_command(original))
        raise exc
    return code


def _tolerant_streams() -> None:
    """On a terminal or pipe that cannot carry Unicode, print ``?`` instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


def _interrupted() -> None:
    try:
        from usagestat.plugins.isolation import kill_all_workers

        kill_all_workers()
    except Exception:  # never mask the interrupt itself
        pass
    try:
        sys.stderr.write("\r\033[K" if sys.stderr.isatty() else "")
    except (OSError, ValueError):
        pass
    print("usagestat: interrupted", file=sys.stderr)


def _silence_stdout() -> None:
    """After a closed pipe (``usagestat list | head -1``), stop Python's exit-time flush error."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
