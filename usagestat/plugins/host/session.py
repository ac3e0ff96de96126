"""A probe's host session: permission checks, deadline, redaction and dispatch."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from usagestat.core.redact import Redactor

from ..permissions import PermissionDenied, PermissionPolicy

Logger = Callable[[str, str], None]


class HostError(Exception):
    """An expected failure of a host call; its message goes to the plugin as is."""


@dataclass
class ProbeDeadline:
    """Wall-clock deadline shared by every host call of one probe."""

    at: float  # time.monotonic() value

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


@dataclass
class HostSession:
    plugin_id: str
    instance_id: str
    policy: PermissionPolicy
    deadline: ProbeDeadline
    data_dir: str
    ca_bundle: str | None = None
    log: Logger = lambda level, message: None
    redactor: Redactor = field(default_factory=Redactor)
    max_calls: int = 20000
    calls: int = 0
    held_locks: dict[str, Any] = field(default_factory=dict)

    # The table of host functions, name -> bound method.
    def _table(self) -> dict[str, Callable[..., Any]]:
        from . import calls

        return calls.table(self)

    def bridge(self, name: str, args_json: str) -> str:
        """Entry point from JavaScript; always returns a JSON envelope string."""
        try:
            self.calls += 1
            if self.calls > self.max_calls:
                raise HostError(f"too many host calls (limit {self.max_calls} per probe)")
            table = getattr(self, "_cached_table", None)
            if table is None:
                table = self._table()
                self._cached_table = table
            function = table.get(name)
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
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path
