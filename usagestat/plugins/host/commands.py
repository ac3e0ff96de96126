"""``command.run``: run a declared program without a shell, with a hard timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from .session import HostError

MAX_OUTPUT = 4 * 1024 * 1024


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(process.pid)],
                capture_output=True,
                check=False,
            )
    except (ProcessLookupError, PermissionError, OSError):
        pass


def run_command(
    argv: list[str],
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_group: Callable[[int, bool], None] | None = None,
) -> dict[str, Any]:
    """Run ``argv``; the whole process tree is killed when ``timeout`` passes.

    The command gets its own process group (so a timeout can kill its tree
    without killing the worker); ``on_group(pgid, running)`` tells the worker's
    parent about it, so a worker killed from outside takes the command along.
    """
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:  # pragma: no cover
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            **kwargs,
        )
    except FileNotFoundError:
        raise HostError(f"command not found: {os.path.basename(argv[0])}")
    except OSError as exc:
        raise HostError(f"cannot run {os.path.basename(argv[0])}: {exc.strerror or exc}")
    if on_group is not None and os.name == "posix":
        on_group(process.pid, True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process)
        process.communicate()
        raise HostError(f"command timed out after {timeout:.0f}s: {os.path.basename(argv[0])}")
    finally:
        if process.poll() is None:
            _kill_tree(process)
        if on_group is not None and os.name == "posix":
            on_group(process.pid, False)
    return {
        "status": process.returncode,
        "stdout": stdout[:MAX_OUTPUT].decode("utf-8", "replace"),
        "stderr": stderr[:MAX_OUTPUT].decode("utf-8", "replace"),
    }
