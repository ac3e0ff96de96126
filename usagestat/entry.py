"""The ``usagestat`` console script: route ``daemon`` to the daemon, the rest to the CLI.

``usagestat.cli`` and ``usagestat.daemon`` never import each other; this tiny
module is the one place that knows both. It imports nothing heavy, so
``usagestat --version`` stays fast.
"""

from __future__ import annotations

import sys

from usagestat.cli.argv import command_word


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
