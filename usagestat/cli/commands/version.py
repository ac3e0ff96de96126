"""``usagestat --version`` (with ``--verbose``: the licence notices of what ships inside)."""

from __future__ import annotations

import argparse

from usagestat import __version__


def print_version(args: argparse.Namespace) -> int:
    print(f"usagestat {__version__}")
    if getattr(args, "verbose", False):
        from usagestat.licenses import notices

        for name, text in notices():
            print()
            print(f"== {name} ==")
            print(text.rstrip())
    return 0
