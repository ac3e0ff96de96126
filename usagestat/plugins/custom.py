"""The built-in ``custom`` provider: any program that prints usage JSON (SPEC §3.6).

``customCommand`` is split with :mod:`shlex` (no shell) and run with the probe
deadline; its stdout must be what a plugin returns, or a bare metrics array.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from typing import TYPE_CHECKING

from usagestat.core.config import Config
from usagestat.core.redact import Redactor
from usagestat.core.results import InvalidResult, parse_probe_result
from usagestat.core.timeutil import format_timestamp, now_utc

from .isolation import kill_process_tree

if TYPE_CHECKING:
    from .instances import Instance
    from .probe import ProbeOptions, ProbeOutcome

MAX_OUTPUT = 4 * 1024 * 1024


def probe_custom(
    instance: Instance,
    config: Config,
    timeout: float,
    started: float,
    redactor: Redactor,
    options: ProbeOptions,
) -> ProbeOutcome:
    from .probe import ProbeOutcome, _fail, snapshot_from_result

    command = instance.entry.custom_command if instance.entry else None
    if not command:
        return _fail(
            instance,
            "failed",
            "the custom provider needs customCommand in its config entry",
            started,
        )
    try:
        argv = shlex.split(command, posix=os.name != "nt")
    except ValueError as exc:
        return _fail(instance, "failed", f"customCommand cannot be split: {exc}", started)
    if not argv:
        return _fail(instance, "failed", "customCommand is empty", started)
    kwargs = {"start_new_session": True} if os.name == "posix" else {}
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kwargs,
        )
    except FileNotFoundError:
        return _fail(instance, "failed", f"custom command not found: {argv[0]}", started)
    except OSError as exc:
        return _fail(
            instance, "failed", f"cannot run custom command: {exc.strerror or exc}", started
        )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process_tree(process)
        process.communicate()
        return _fail(instance, "timed-out", f"custom command timed out after {timeout:g}s", started)
    except KeyboardInterrupt:
        kill_process_tree(process)
        raise
    first_err = next(
        (ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()), ""
    )
    if process.returncode != 0:
        detail = f": {first_err.strip()}" if first_err else ""
        return _fail(
            instance,
            "failed",
            redactor(f"custom command exited with status {process.returncode}{detail}"),
            started,
        )
    if len(stdout) > MAX_OUTPUT:
        return _fail(instance, "failed", "custom command printed more than 4 MiB", started)
    try:
        raw = json.loads(stdout.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        detail = f" (stderr: {first_err.strip()})" if first_err else ""
        return _fail(
            instance,
            "failed",
            redactor(f"custom command did not print valid JSON{detail}"),
            started,
        )
    try:
        result = parse_probe_result(raw)
    except InvalidResult as exc:
        return _fail(
            instance, "failed", f"custom command returned an invalid result: {exc}", started
        )
    snapshot = snapshot_from_result(
        instance, result, format_timestamp(now_utc()), "custom", redactor
    )
    return ProbeOutcome(instance, snapshot, time.monotonic() - started, result.retry_after_sec)
