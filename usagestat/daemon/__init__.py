"""``usagestat daemon`` / ``usagestatd``: poll providers and serve the results over HTTP (SPEC §8).

This module only parses the command line; the work happens in
:mod:`usagestat.daemon.service`, imported after parsing so ``--help`` stays fast.
The daemon never imports :mod:`usagestat.cli` (SPEC §1).
"""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Poll every enabled provider instance on a schedule and serve the results on a
local HTTP API (default http://127.0.0.1:6736): /health, /v1/providers,
/v1/usage, /v1/usage/ID, POST /v1/refresh, /metrics, /openapi.json.

signals: SIGHUP reloads config and plugins; SIGTERM/SIGINT stop cleanly.

examples:
  usagestat daemon
  usagestatd --config ./config.toml --refresh-sec 30
  usagestat daemon --port 0          # pick a free port; the address is logged
"""


def _refresh_sec(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}")
    if value < 10:
        raise argparse.ArgumentTypeError("must be at least 10 seconds")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535 (0 picks a free port)")
    return value


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $USAGESTAT_CONFIG or the per-user one)",
    )
    parser.add_argument(
        "--plugin-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="extra plugin directory (repeatable)",
    )
    parser.add_argument(
        "--refresh-sec",
        type=_refresh_sec,
        metavar="N",
        help="polling interval (overrides refreshSec; >= 10)",
    )
    parser.add_argument("--bind", metavar="ADDR", help="listen address (overrides [daemon] bind)")
    parser.add_argument(
        "--port",
        type=_port,
        metavar="N",
        help="listen port (overrides [daemon] port; 0 = any free port)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug log lines (requests, every probe)"
    )
    parser.add_argument("--debug", action="store_true", help="same as --verbose for the daemon")
    parser.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    for flag in ("--json", "--plain", "--all", "--no-color"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None, prog: str = "usagestatd") -> int:
    args = build_parser(prog).parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        import usagestat

        print(f"usagestat {usagestat.__version__}")
        return 0
    from .service import run

    return run(args, prog)
