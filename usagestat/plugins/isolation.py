"""Parent side of probe isolation: spawn, feed, time out and kill worker processes.

Each worker is ``python -I`` running :mod:`usagestat.plugins.worker` in its own
process group (session), so a deadline kill takes helpers it started with it
and Ctrl-C in the terminal reaches only the parent, which then kills them all.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import resources

GRACE_SEC = 0.5
MAX_LINE = 4 * 1024 * 1024 + 65536
STDERR_TAIL = 4096

LogSink = Callable[[str, str], None]

_LIVE: set[WorkerProcess] = set()
_LIVE_LOCK = threading.Lock()

# Plugin scripts get a number the first time a worker is sent one; a warm worker
# keeps the text, so later requests carry the number instead of the source.
_SCRIPT_IDS: dict[str, int] = {}
_SCRIPT_LOCK = threading.Lock()
_MAX_SCRIPT_IDS = 256
_next_script_id = 0


def script_id(script: str) -> int:
    """A number for this exact script text, never reused for another text."""
    global _next_script_id
    with _SCRIPT_LOCK:
        key = _SCRIPT_IDS.get(script)
        if key is None:
            if len(_SCRIPT_IDS) >= _MAX_SCRIPT_IDS:
                _SCRIPT_IDS.clear()  # numbers keep counting up, so none is ever reused
            _next_script_id += 1
            key = _SCRIPT_IDS[script] = _next_script_id
        return key


class WorkerFailed(Exception):
    """The worker did not produce a reply: timed out, crashed or spoke garbage."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.message = message

    @classmethod
    def timed_out(cls, timeout: float) -> WorkerFailed:
        """The probe's deadline passed (isolated or in-process alike)."""
        return cls("timed-out", f"probe timed out after {timeout:g}s")


def engine_file() -> str | None:
    """Path of the ``_quickjs`` extension the worker should load (without importing it here)."""
    module = sys.modules.get("_quickjs")
    if module is not None and getattr(module, "__file__", None):
        return module.__file__
    try:
        from usagestat import vendor  # present in the .pyz build
    except ImportError:
        vendor = None
    if vendor is not None and vendor.available():
        return vendor.quickjs_path()
    import importlib.util

    spec = importlib.util.find_spec("_quickjs")
    return spec.origin if spec and spec.origin else None


def worker_command() -> list[str]:
    roots = resources.import_roots()
    bootstrap = (
        "import sys;sys.path[:0]=" + repr(roots) + ";"
        "from usagestat.plugins.worker import main;main()"
    )
    # -I: no PYTHON* variables, user site or current directory; -S: no site
    # module either (it costs ~40 ms per start and the worker needs nothing from
    # site-packages: the package root and the engine file are passed explicitly).
    return [resources.python_executable(), "-I", "-S", "-c", bootstrap]


def kill_process_tree(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True, check=False
            )
    except (ProcessLookupError, PermissionError, OSError):
        try:
            process.kill()
        except OSError:
            pass


class WorkerProcess:
    """One worker child. Not thread-safe: one probe at a time.

    ``pooled`` workers are told to prepare the next probe's context after each
    reply; a one-shot worker (the CLI) is not, so it can exit at once.
    """

    def __init__(
        self, stderr_sink: Callable[[str], None] | None = None, pooled: bool = False
    ) -> None:
        env = dict(os.environ)
        location = engine_file()
        if location:
            env["USAGESTAT_ENGINE_FILE"] = location
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
        else:  # pragma: no cover - Windows
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        self.process = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            **kwargs,
        )
        self.started = time.monotonic()
        self.probes = 0
        self.pooled = pooled
        self._env_sent: dict[str, str] | None = None  # the worker's environment now
        self._scripts_sent: set[int] = set()  # script ids the worker has the text of
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._groups: set[int] = set()  # process groups of commands the worker runs now
        self._stderr_tail = b""
        self._stderr_sink = stderr_sink
        with _LIVE_LOCK:
            _LIVE.add(self)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    # -- reader threads --------------------------------------------------------
    def _read_stdout(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                line = stream.readline(MAX_LINE)
                if not line:
                    break
                if len(line) >= MAX_LINE and not line.endswith(b"\n"):
                    self._lines.put(b'{"garbage":"reply too large"}')
                    break
                if line.startswith(b'{"group": '):  # tracked here, at once, for kill()
                    self._track_group(line)
                    continue
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def _track_group(self, line: bytes) -> None:
        try:
            pgid, running = json.loads(line)["group"]
        except (ValueError, KeyError, TypeError):
            return
        if isinstance(pgid, int) and pgid > 1:
            (self._groups.add if running else self._groups.discard)(pgid)

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        try:
            for line in iter(stream.readline, b""):
                self._stderr_tail = (self._stderr_tail + line)[-STDERR_TAIL:]
                if self._stderr_sink is not None:
                    self._stderr_sink(line.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    # -- use --------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def probe(
        self, request: dict[str, Any], timeout: float, on_log: LogSink | None = None
    ) -> dict[str, Any]:
        """Send one request and wait for its reply; kill the worker on any failure."""
        self.probes += 1
        deadline = time.monotonic() + timeout + GRACE_SEC
        payload, env, key = self._wire(request)
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(payload, ensure_ascii=True).encode("ascii") + b"\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            self.kill()
            raise WorkerFailed("failed", self._died_message())
        if env is not None:
            self._env_sent = env
        if key is not None:
            self._scripts_sent.add(key)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerFailed.timed_out(timeout)
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self.kill()
                raise WorkerFailed("failed", self._died_message())
            try:
                message = json.loads(line)
            except ValueError:
                self.kill()
                raise WorkerFailed("failed", "probe worker sent a malformed reply")
            if not isinstance(message, dict):
                self.kill()
                raise WorkerFailed("failed", "probe worker sent a malformed reply")
            if "log" in message:
                entry = message["log"]
                if on_log is not None and isinstance(entry, dict):
                    on_log(str(entry.get("level", "info")), str(entry.get("message", "")))
                continue
            if "reply" in message and isinstance(message["reply"], dict):
                return message["reply"]
            if "garbage" in message:
                self.kill()
                raise WorkerFailed("failed", "probe result is larger than 4 MiB")
            # "ready" and unknown lines are ignored.

    def _wire(
        self, request: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str] | None, int | None]:
        """What to send: ``request`` without what this worker already has.

        Returns the payload, the environment the worker will have after it (or
        None) and the id of the script it will know (or None).
        """
        payload = dict(request)
        env = request.get("env")
        if isinstance(env, dict) and env == self._env_sent:
            del payload["env"]  # unchanged since the previous probe: the worker has it
        script = request.get("script")
        key = None
        if isinstance(script, str):
            key = script_id(script)
            payload["scriptId"] = key
            if key in self._scripts_sent:
                del payload["script"]
        if self.pooled:
            payload["prepareNext"] = True
        return payload, env if isinstance(env, dict) else None, key

    def _died_message(self) -> str:
        try:
            self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        code = self.process.returncode
        tail = self._stderr_tail.decode("utf-8", "replace").strip().splitlines()
        last = tail[-1] if tail else ""
        reason = f"signal {-code}" if code is not None and code < 0 else f"rc={code}"
        return f"probe worker died ({reason})" + (f": {last[:300]}" if last else "")

    def kill(self) -> None:
        kill_process_tree(self.process)
        # Commands run in process groups of their own (so that their timeout spares
        # the worker); a worker killed from outside must not leave them running.
        for pgid in list(self._groups):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        self._groups.clear()
        self._close()

    def close(self) -> None:
        """Ask the worker to exit, then make sure it did."""
        if self.alive:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(b'{"op":"exit"}\n')
                self.process.stdin.flush()
                self.process.wait(timeout=1.0)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self)
        for stream in (self.process.stdin,):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass


def kill_all_workers() -> None:
    """Kill every live worker (Ctrl-C, daemon shutdown)."""
    with _LIVE_LOCK:
        workers = list(_LIVE)
    for worker in workers:
        worker.kill()


class WorkerPool:
    """Warm workers for repeated probes (the daemon): spawn on demand, reuse when healthy."""

    def __init__(self, size: int, max_probes_per_worker: int = 200) -> None:
        self.size = max(1, size)
        self.max_probes = max_probes_per_worker
        self._idle: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self) -> WorkerProcess:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        return WorkerProcess(pooled=True)

    def release(self, worker: WorkerProcess) -> None:
        if not worker.alive or worker.probes >= self.max_probes:
            worker.close()
            return
        with self._lock:
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(worker)
                return
        worker.close()

    def prestart(self, count: int) -> None:
        for _ in range(min(count, self.size)):
            worker = WorkerProcess(pooled=True)
            with self._lock:
                self._idle.append(worker)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()
