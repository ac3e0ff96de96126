"""``sqlite.query``: one read-only SELECT against an application's SQLite database.

Editors such as Cursor keep their auth token in ``state.vscdb`` while running,
so a locked database is copied (with its WAL) and read from the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Any

from .session import HostError

MAX_ROWS = 10000
_ALLOWED_ACTIONS = None  # filled lazily from the sqlite3 module constants


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def check_select(sql: str) -> str:
    """Accept exactly one SELECT (or WITH … SELECT) statement."""
    import sqlite3

    body = _strip_comments(sql).strip().rstrip(";").strip()
    if not body:
        raise HostError("sqlite.query: empty SQL")
    if not re.match(r"(?is)^(select|with)\b", body):
        raise HostError("sqlite.query: only a SELECT statement is allowed")
    if ";" in body and sqlite3.complete_statement(body.split(";", 1)[0] + ";"):
        rest = body.split(";", 1)[1].strip()
        if rest:
            raise HostError("sqlite.query: only one statement is allowed")
    return body


def _authorizer(action: int, *_args: Any) -> int:
    import sqlite3

    allowed = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
    recursive = getattr(sqlite3, "SQLITE_RECURSIVE", None)
    if recursive is not None:
        allowed.add(recursive)
    return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY


def _convert(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, int) and not -(2**53) <= value <= 2**53:
        return float(value)
    return value


def _run(uri: str, sql: str) -> list[dict[str, Any]]:
    import sqlite3

    conn = sqlite3.connect(uri, uri=True, timeout=1.0)
    try:
        conn.set_authorizer(_authorizer)
        cursor = conn.execute(sql)
        names = [column[0] for column in cursor.description or []]
        rows = []
        for row in cursor:
            rows.append({name: _convert(value) for name, value in zip(names, row, strict=False)})
            if len(rows) >= MAX_ROWS:
                break
        return rows
    finally:
        conn.close()


def _uri(path: str, **params: str) -> str:
    from urllib.parse import quote

    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"file:{quote(path)}?{query}"


def query(path: str, sql: str) -> list[dict[str, Any]]:
    import sqlite3

    body = check_select(sql)
    if not os.path.isfile(path):
        raise HostError(f"database not found: {path}")
    try:
        return _run(_uri(path, mode="ro"), body)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            if "not authorized" in str(exc):
                raise HostError("sqlite.query: statement not allowed (read-only)")
            raise HostError(f"sqlite.query failed: {exc}")
    except sqlite3.DatabaseError as exc:
        raise HostError(f"sqlite.query failed: {exc}")
    # Locked: read a private copy (with its WAL) instead.
    with tempfile.TemporaryDirectory(prefix="usagestat-sqlite-") as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        try:
            shutil.copyfile(path, copy)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(path + suffix):
                    shutil.copyfile(path + suffix, copy + suffix)
        except OSError as exc:
            raise HostError(f"cannot copy locked database: {exc.strerror or exc}")
        try:
            return _run(_uri(copy, mode="ro"), body)
        except sqlite3.Error:
            try:
                return _run(_uri(copy, immutable="1"), body)
            except sqlite3.Error as exc:
                raise HostError(f"sqlite.query failed: {exc}")
