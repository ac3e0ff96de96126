"""Finding the command word in argv without argparse.

Global options may come before the command word (``usagestat --json usage``),
so the word is the first positional argument once option values are skipped.
The console-script entry point uses this to route ``daemon`` before anything
heavy is imported; the CLI uses it to insert the default command.
"""

from __future__ import annotations

from collections.abc import Sequence

#: every option that takes a value (to find the command word in argv)
VALUE_FLAGS = frozenset(
    {
        "--config",
        "--plugin-dir",
        "--refresh-sec",
        "--bind",
        "--port",
        "--format",
        "--source",
        "--provider",
        "--since",
        "--days",
        "--by",
        "--browser",
        "--profile",
        "--from",
        "--mode",
        "--dir",
        "--name",
    }
)


def command_word(args: Sequence[str]) -> tuple[int, str] | None:
    """Index and text of the first positional argument, skipping option values."""
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            return None
        if token.startswith("-") and token != "-":
            if "=" not in token and token in VALUE_FLAGS:
                index += 2
            else:
                index += 1
            continue
        return index, token
    return None
