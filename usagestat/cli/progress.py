"""Which providers are still running, on stderr, once probing takes more than half a second.

Shown only when stderr is a terminal and the output is for a person (text or
``--plain``), never on stdout and never with ``--json``: the line is redrawn
in place and erased when probing ends, so nothing is left behind in the
scrollback or in a captured log.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

DELAY_SEC = 0.5
TICK_SEC = 0.2


class Progress:
    def __init__(self, enabled: bool, stream: TextIO, total: int = 0, width: int = 80) -> None:
        self.enabled = enabled
        self.stream = stream
        self.total = total
        self.width = width
        self.running: dict[str, float] = {}
        self.done = 0
        self.lock = threading.Lock()
        self.shown = False
        self.started = time.monotonic()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.enabled:
            self.started = time.monotonic()
            self.thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self.thread.start()

    def begin(self, name: str) -> None:
        with self.lock:
            self.running[name] = time.monotonic()

    def end(self, name: str) -> None:
        with self.lock:
            self.running.pop(name, None)
            self.done += 1

    def message(self, text: str) -> None:
        """Print a whole line on the stream (e.g. a plugin log) without garbling the progress."""
        with self.lock:
            if self.shown:
                self.stream.write("\r\033[K")
                self.shown = False
            self.stream.write(text if text.endswith("\n") else text + "\n")
            self.stream.flush()

    def line(self) -> str | None:
        """The text to show now, or None while nothing has run long enough."""
        now = time.monotonic()
        with self.lock:
            slow = sorted(name for name, since in self.running.items() if now - since > DELAY_SEC)
            done = self.done
        if not slow:
            return None
        from .render.term import clip, sanitize

        text = "waiting for " + ", ".join(sanitize(name) for name in slow)
        if self.total > 1:
            text += f" ({done} of {self.total} done)"
        return clip(text, max(10, self.width - 1), "...")

    def _loop(self) -> None:
        while not self.stop_event.wait(TICK_SEC):
            text = self.line()
            try:
                with self.lock:
                    if text is not None:
                        self.stream.write("\r\033[K" + text)
                        self.stream.flush()
                        self.shown = True
                    elif self.shown:
                        self.stream.write("\r\033[K")
                        self.stream.flush()
                        self.shown = False
            except (OSError, ValueError):
                return

    def finish(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(1.0)
        if self.shown:
            try:
                self.stream.write("\r\033[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.shown = False
