"""Crash-safe file writes and inter-process locks, standard library only.

A reader must only ever see the old or the new complete file: write to a
temporary file in the same directory, fsync, then ``os.replace``. Appends to
line-oriented files take an exclusive lock so two writers never interleave.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl


#: flags of ``tempfile.mkstemp``: a new private file, never through a symlink
_TEMP_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOINHERIT", 0)
    | getattr(os, "O_BINARY", 0)
)


def _create_temp(directory: str | os.PathLike[str], prefix: str) -> tuple[int, str]:
    """``tempfile.mkstemp`` (mode 0600, exclusive), without importing ``tempfile``.

    ``tempfile`` pulls in ``shutil``, ``random`` and the compression modules,
    about 3 ms of every CLI command that writes the cache.
    """
    for _attempt in range(100):
        name = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(directory))


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically.

    ``mode=None`` keeps the mode of the file being replaced (0600 when new):
    credential stores written back for another tool keep their permissions.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    fd, tmp_name = _create_temp(directory, f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix":
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if os.name == "posix":
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def atomic_write_text(path: Path, text: str, *, mode: int | None = 0o600) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


class LockTimeout(Exception):
    """The lock was held by someone else for longer than the caller would wait."""


def _try_lock(fd: int) -> bool:
    try:
        if os.name == "nt":  # pragma: no cover
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK):
            return False
        raise


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":  # pragma: no cover
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """An exclusive advisory lock on ``path`` (created 0600), held by this object.

    The lock dies with the process, so a killed writer never leaves it stuck.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, timeout: float = 10.0) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + max(0.0, timeout)
        delay = 0.005
        while True:
            if _try_lock(fd):
                self._fd = fd
                return True
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        if not self.acquire():
            raise LockTimeout(f"timed out waiting for lock {self.path}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked(path: Path, timeout: float = 10.0) -> Iterator[None]:
    lock = FileLock(path)
    if not lock.acquire(timeout):
        raise LockTimeout(f"timed out waiting for lock {path}")
    try:
        yield
    finally:
        lock.release()


def append_lines_locked(path: Path, lines: list[str], lock_path: Path) -> None:
    """Append complete lines under a lock, in one write so a kill loses at most that write."""
    if not lines:
        return
    payload = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode()
    with locked(lock_path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # A previous writer killed mid-line leaves a partial last line; start
            # ours on a fresh line so the damage stays confined to that one.
            size = os.fstat(fd).st_size
            if size:
                with open(path, "rb") as reader:
                    reader.seek(size - 1)
                    if reader.read(1) != b"\n":
                        payload = b"\n" + payload
            view = memoryview(payload)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            except OSError:
                # A full disk (ENOSPC, EFBIG) can take part of the payload: cut it
                # off again so the file never ends in a torn line.
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass
                raise
        finally:
            os.close(fd)
