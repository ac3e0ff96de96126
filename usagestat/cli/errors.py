"""Exceptions that end a command with a one-line message and an exit code."""

from __future__ import annotations


class CliError(Exception):
    """An operational failure: print ``usagestat: <message>`` and exit 1."""

    exit_code = 1


class UsageError(CliError):
    """The command line itself is wrong (exit 2, like argparse)."""

    exit_code = 2
