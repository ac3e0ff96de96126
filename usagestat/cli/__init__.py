"""The ``usagestat`` command line (SPEC §7).

Importing this package is cheap: argparse and the command modules load only
when a command runs, and ``--version`` needs neither.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and all(a in ("-V", "--version") for a in args):
        from usagestat import __version__

        print(f"usagestat {__version__}")
        return 0
    from .app import run

    return run(args)
