"""The ``usagestat`` console script: route ``daemon`` to the daemon, the rest to the CLI.

``usagestat.cli`` and ``usagestat.daemon`` never import each other; this tiny
module is the one place that knows both. It imports nothing heavy, so
``usagestat --version`` stays fast.
"""

from __future__ import annotations

import sys

#: flags that take a value and may come before the command word
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
    }
)


def command_word(argv: list[str]) -> tuple[int, str] | None:
    """Index and value of the first positional argument (the command word), if any."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            return None
        if token.startswith("-"):
            index += 2 if token in VALUE_FLAGS else 1
            continue
        return index, token
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    found = command_word(args)
    if found is not None and found[1] == "daemon":
        from usagestat.daemon import main as daemon_main

        index = found[0]
        return daemon_main(args[:index] + args[index + 1 :], prog="usagestat daemon")
    if found is not None and found[1] == "_probe-worker":
        from usagestat.plugins.worker import main as worker_main

        worker_main()
        return 0
    from usagestat.cli import main as cli_main

    return cli_main(args)
