"""``usagestat daemon``: listed in ``--help`` here, run by :mod:`usagestat.entry`.

The console script hands the word ``daemon`` (and every other argument) to
``usagestat.daemon`` before this CLI parses anything, because the CLI and the
daemon never import each other (SPEC §1). This module only documents it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import CliError

if TYPE_CHECKING:
    from ..context import CliContext

DESCRIPTION = """\
Run the HTTP daemon: it polls every enabled provider on refreshSec (each at
most every max(refreshSec, minIntervalSec), with back-off after failures) and
serves the results on http://127.0.0.1:6736 (GET /v1/usage, /v1/providers,
/health, /metrics, /openapi.json). `usagestatd` is the same command.

--refresh-sec, --bind and --port override the config; they may also come
before the word daemon. SIGHUP reloads the config and plugins; SIGTERM and
Ctrl-C stop it cleanly. A non-loopback --bind needs [daemon] apiTokenFile.

examples:
  usagestat daemon
  usagestat daemon --refresh-sec 30 --port 7000
  usagestatd --config ./config.toml --refresh-sec 30
  curl http://127.0.0.1:6736/v1/usage
"""


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter, common_parent

    sub.add_parser(
        "daemon",
        parents=[common_parent(daemon_help=True)],
        help="run the HTTP daemon (same as usagestatd)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    raise CliError("start the daemon with `usagestat daemon` or `usagestatd`")
