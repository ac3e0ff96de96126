"""A probe's host session: permission checks, deadline, redaction and dispatch."""

from __future__ import annotations

import json
import os
import time

from usagestat.core.redact import Redactor

from ..permissions import PermissionDenied, PermissionPolicy

TYPE_CHECKING = False  # avoids importing typing in the worker (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class HostError(Exception):
    """An expected failure of a host call; its message goes to the plugin as is."""


class ProbeDeadline:
    """Wall-clock deadline shared by every host call of one probe."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at  # a time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> ProbeDeadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def clamp(self, seconds: float, what: str) -> float:
        """``seconds`` limited to what is left; fail when nothing is left."""
        left = self.remaining()
        if left <= 0.05:
            raise HostError(f"{what}: probe deadline reached")
        return max(0.05, min(seconds, left - 0.05))


def _no_log(level: str, message: str) -> None:
    pass


class HostSession:
    """The host side of one probe: permissions, deadline, redaction, held locks."""

    max_calls = 20000

    def __init__(
        self,
        plugin_id: str,
        instance_id: str,
        policy: PermissionPolicy,
        deadline: ProbeDeadline,
        data_dir: str,
        ca_bundle: str | None = None,
        log: Callable[[str, str], None] = _no_log,
        redactor: Redactor | None = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.instance_id = instance_id
        self.policy = policy
        self.deadline = deadline
        self.data_dir = data_dir
        self.ca_bundle = ca_bundle
        self.log = log
        self.redactor = redactor if redactor is not None else Redactor()
        self.calls = 0
        self.held_locks: dict[str, Any] = {}
        #: ``(pgid, running)`` for each command's process group (set by the worker).
        self.on_group: Callable[[int, bool], None] | None = None
        self._table: dict[str, Callable[..., Any]] | None = None

    def bridge(self, name: str, args_json: str) -> str:
        """Entry point from JavaScript; always returns a JSON envelope string."""
        try:
            self.calls += 1
            if self.calls > self.max_calls:
                raise HostError(f"too many host calls (limit {self.max_calls} per probe)")
            if self._table is None:
                from . import calls

                self._table = calls.table(self)
            function = self._table.get(name)
            if function is None:
                raise HostError(f"unknown host function {name!r}")
            args = json.loads(args_json)
            if not isinstance(args, list):
                raise HostError("host call arguments must be an array")
            value = function(*args)
            return json.dumps({"value": value}, ensure_ascii=True)
        except (HostError, PermissionDenied) as exc:
            message = str(exc)
        except TypeError as exc:
            message = f"{name}: bad arguments ({exc})"
        except RecursionError:
            message = f"{name}: value nested too deeply"
        except MemoryError:
            message = f"{name}: out of memory"
        except BaseException as exc:  # the bridge must never raise into the engine
            message = f"{name} failed: {type(exc).__name__}: {exc}"
        return json.dumps({"error": self.redactor(message)}, ensure_ascii=True)

    def release_locks(self) -> None:
        for lock in list(self.held_locks.values()):
            lock.release()
        self.held_locks.clear()

    def plugin_data_dir(self) -> str:
        path = self.policy.plugin_data_dir
        if not os.path.isdir(path):
            # os.makedirs gives missing parents the default mode (0755 with umask
            # 022): create <data>, <data>/plugin-data and the instance's dir 0700.
            root = os.path.dirname(path)
            data = os.path.dirname(root)
            os.makedirs(os.path.dirname(data), exist_ok=True)
            for directory in (data, root, path):
                try:
                    os.mkdir(directory, 0o700)
                except FileExistsError:
                    pass
        return path
