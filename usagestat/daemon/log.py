"""The daemon's log: one line per event on stderr, ``<UTC time> <level> <message>``.

Every line goes through the redactor, so a secret that reaches a message (a
plugin echoing its token, an exception quoting a header) is masked before it
is written. Messages are folded onto one line so log collectors never split
an event.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from usagestat.core.redact import Redactor

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}


class Log:
    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.threshold = LEVELS["debug"] if verbose else LEVELS["info"]
        self.redactor = Redactor()
        self._lock = threading.Lock()

    def add_secrets(self, *secrets: str | None) -> None:
        self.redactor.add(*secrets)

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.threshold

    def emit(self, level: str, message: str) -> None:
        if LEVELS.get(level, 20) < self.threshold:
            return
        text = self.redactor(message).replace("\r", "").replace("\n", " | ")
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        line = f"{stamp}Z {level} {text}\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr closed (detached daemon): nothing useful left to do

    def debug(self, message: str) -> None:
        self.emit("debug", message)

    def info(self, message: str) -> None:
        self.emit("info", message)

    def warn(self, message: str) -> None:
        self.emit("warn", message)

    def error(self, message: str) -> None:
        self.emit("error", message)
