"""Open a browser's cookie database without touching it.

A running browser keeps its cookie database open (and locked on Windows) and
writes recent changes to a ``-wal`` file first. The database and its
``-wal``/``-shm`` companions are copied into a fresh private temporary directory
(mode 0700, removed afterwards) and the copy is opened read-only, so the
browser's files are never locked, modified or checkpointed by us.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

SIDE_FILES = ("-wal", "-shm")


class StoreError(Exception):
    """The database could not be copied or read (message names the file, never a value)."""


@contextlib.contextmanager
def open_copy(db_path: Path) -> Iterator[sqlite3.Connection]:
    tmp = tempfile.mkdtemp(prefix="usagestat-cookies-")
    try:
        target = Path(tmp) / "cookies.sqlite"
        try:
            shutil.copyfile(db_path, target)
            os.chmod(target, 0o600)
            for suffix in SIDE_FILES:
                side = db_path.with_name(db_path.name + suffix)
                if side.is_file():
                    copy = target.with_name(target.name + suffix)
                    shutil.copyfile(side, copy)
                    os.chmod(copy, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot copy {db_path}: {exc.strerror or exc}") from None
        try:
            conn = sqlite3.connect(target.as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {db_path}: {exc}") from None
        try:
            yield conn
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {db_path}: {exc}") from None
        finally:
            conn.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of ``table`` (empty when the table does not exist)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
