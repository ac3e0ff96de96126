"""Real-format browser cookie stores for tests: Chromium ``Cookies`` and Firefox ``cookies.sqlite``.

The schemas are the ones the browsers create (Chromium cookie DB version 24 /
21, Firefox ``moz_cookies`` with ``originAttributes``), and Chromium values are
encrypted here with the documented scheme: AES-128-CBC, IV = 16 spaces, key =
PBKDF2-HMAC-SHA1(password, "saltysalt", iterations, 16 bytes), prefix
``v10``/``v11``, and for DB version >= 24 the plaintext prefixed with
SHA-256(host_key).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from usagestat.core.ciphers import aes_cbc_encrypt

WINDOWS_EPOCH_OFFSET = 11_644_473_600
DAY = 86_400

CHROMIUM_SCHEMA_V24 = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE cookies(creation_utc INTEGER NOT NULL,host_key TEXT NOT NULL,
  top_frame_site_key TEXT NOT NULL,name TEXT NOT NULL,value TEXT NOT NULL,
  encrypted_value BLOB NOT NULL,path TEXT NOT NULL,expires_utc INTEGER NOT NULL,
  is_secure INTEGER NOT NULL,is_httponly INTEGER NOT NULL,last_access_utc INTEGER NOT NULL,
  has_expires INTEGER NOT NULL,is_persistent INTEGER NOT NULL,priority INTEGER NOT NULL,
  samesite INTEGER NOT NULL,source_scheme INTEGER NOT NULL,source_port INTEGER NOT NULL,
  last_update_utc INTEGER NOT NULL,source_type INTEGER NOT NULL,
  has_cross_site_ancestor INTEGER NOT NULL);
CREATE UNIQUE INDEX cookies_unique_index ON cookies(host_key, top_frame_site_key,
  has_cross_site_ancestor, name, path, source_scheme, source_port);
"""
CHROMIUM_SCHEMA_V21 = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE cookies(creation_utc INTEGER NOT NULL,host_key TEXT NOT NULL,
  top_frame_site_key TEXT NOT NULL,name TEXT NOT NULL,value TEXT NOT NULL,
  encrypted_value BLOB DEFAULT '',path TEXT NOT NULL,expires_utc INTEGER NOT NULL,
  is_secure INTEGER NOT NULL,is_httponly INTEGER NOT NULL,last_access_utc INTEGER NOT NULL,
  has_expires INTEGER NOT NULL DEFAULT 1,is_persistent INTEGER NOT NULL DEFAULT 1,
  priority INTEGER NOT NULL DEFAULT 1,samesite INTEGER NOT NULL DEFAULT -1,
  source_scheme INTEGER NOT NULL DEFAULT 0,source_port INTEGER NOT NULL DEFAULT -1,
  is_same_party INTEGER NOT NULL DEFAULT 0,last_update_utc INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX cookies_unique_index ON cookies(host_key, top_frame_site_key, name,
  path, source_scheme, source_port);
"""
FIREFOX_SCHEMA = """
CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '',
  name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER,
  creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER, inBrowserElement INTEGER DEFAULT 0,
  sameSite INTEGER DEFAULT 0, rawSameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0,
  isPartitionedAttributeSet INTEGER DEFAULT 0,
  CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes));
"""


def chrome_time(unix: float) -> int:
    return int((unix + WINDOWS_EPOCH_OFFSET) * 1_000_000)


def chromium_key(password: bytes, iterations: int = 1) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", password, b"saltysalt", iterations, 16)


def chromium_encrypt(
    value: str,
    host_key: str,
    *,
    password: bytes = b"peanuts",
    version: bytes = b"v10",
    iterations: int = 1,
    domain_hash: bool = True,
) -> bytes:
    plain = value.encode()
    if domain_hash:
        plain = hashlib.sha256(host_key.encode()).digest() + plain
    return version + aes_cbc_encrypt(chromium_key(password, iterations), b" " * 16, plain)


def make_chromium_db(
    path: Path,
    cookies: list[dict[str, Any]],
    *,
    meta_version: int = 24,
    wal: bool = False,
) -> sqlite3.Connection | None:
    """Write a Chromium ``Cookies`` DB. Each cookie: ``host_key, name`` and either
    ``value`` (encrypted with ``password``/``version``/``iterations`` unless
    ``plain=True``) or ``encrypted`` bytes; ``expires`` (Unix s, 0 = session),
    ``path``, ``created``, ``top_frame_site_key``.

    With ``wal=True`` the DB is put in WAL mode and the writing connection is
    returned still open (like a running browser), so the latest rows sit in
    ``Cookies-wal``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executescript(CHROMIUM_SCHEMA_V24 if meta_version >= 24 else CHROMIUM_SCHEMA_V21)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("mmap_status", "-1"), ("version", str(meta_version)), ("last_compatible_version", "21")],
    )
    now = time.time()
    for i, c in enumerate(cookies):
        expires = c.get("expires", now + 30 * DAY)
        if c.get("plain"):
            value, encrypted = c["value"], b""
        elif "encrypted" in c:
            value, encrypted = "", c["encrypted"]
        else:
            value = ""
            encrypted = chromium_encrypt(
                c["value"],
                c["host_key"],
                password=c.get("password", b"peanuts"),
                version=c.get("version", b"v10"),
                iterations=c.get("iterations", 1),
                domain_hash=meta_version >= 24,
            )
        created = chrome_time(c.get("created", now - 10 * DAY + i))
        row = {
            "creation_utc": created,
            "host_key": c["host_key"],
            "top_frame_site_key": c.get("top_frame_site_key", ""),
            "name": c["name"],
            "value": value,
            "encrypted_value": encrypted,
            "path": c.get("path", "/"),
            "expires_utc": chrome_time(expires) if expires else 0,
            "is_secure": 1,
            "is_httponly": 1,
            "last_access_utc": created,
            "has_expires": 1 if expires else 0,
            "is_persistent": 1 if expires else 0,
            "priority": 1,
            "samesite": -1,
            "source_scheme": 2,
            "source_port": 443,
            "last_update_utc": created,
        }
        if meta_version >= 24:
            row.update(source_type=0, has_cross_site_ancestor=0)
        else:
            row["is_same_party"] = 0
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO cookies ({names}) VALUES ({marks})", list(row.values()))
    conn.commit()
    if wal:
        return conn
    conn.close()
    return None


def chromium_profile(
    root: Path,
    profile: str,
    cookies: list[dict[str, Any]],
    *,
    names: dict[str, str] | None = None,
    last_used: str | None = None,
    network: bool = True,
    **kwargs: Any,
) -> Path:
    """A profile dir under a Chromium user data dir (``root``), with ``Local State``."""
    state_path = root / "Local State"
    state: dict[str, Any] = {}
    if state_path.exists():
        state = json.loads(state_path.read_text())
    info = state.setdefault("profile", {}).setdefault("info_cache", {})
    info.setdefault(profile, {"name": (names or {}).get(profile, profile)})
    for directory, name in (names or {}).items():
        info.setdefault(directory, {})["name"] = name
    if last_used:
        state["profile"]["last_used"] = last_used
    root.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state))
    db = root / profile / ("Network/Cookies" if network else "Cookies")
    make_chromium_db(db, cookies, **kwargs)
    return db


def make_firefox_db(path: Path, cookies: list[dict[str, Any]]) -> None:
    """Each cookie: ``host, name, value``; ``expires`` (Unix s), ``path``, ``origin``, ``expiry_ms``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(FIREFOX_SCHEMA)
    now = time.time()
    for i, c in enumerate(cookies):
        expires = c.get("expires", now + 30 * DAY)
        expiry = int(expires * 1000) if c.get("expiry_ms") else int(expires)
        conn.execute(
            "INSERT INTO moz_cookies (originAttributes, name, value, host, path, expiry, "
            "lastAccessed, creationTime, isSecure, isHttpOnly) VALUES (?,?,?,?,?,?,?,?,1,1)",
            (
                c.get("origin", ""),
                c["name"],
                c["value"],
                c["host"],
                c.get("path", "/"),
                expiry,
                int(now * 1_000_000),
                int((now - 10 * DAY + i) * 1_000_000),
            ),
        )
    conn.commit()
    conn.close()


def firefox_profiles(
    home: Path, profiles: list[dict[str, Any]], install_default: str | None = None
) -> Path:
    """``~/.mozilla/firefox`` with profiles.ini (+ installs.ini); each profile:
    ``name``, ``dir`` (relative), ``cookies``, ``default`` (bool)."""
    root = home / ".mozilla" / "firefox"
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[General]", "StartWithLastProfile=1", "Version=2", ""]
    if install_default:
        lines += ["[Install4F96D1932A9F858E]", f"Default={install_default}", "Locked=1", ""]
    for i, p in enumerate(profiles):
        lines += [f"[Profile{i}]", f"Name={p['name']}", "IsRelative=1", f"Path={p['dir']}"]
        if p.get("default"):
            lines.append("Default=1")
        lines.append("")
        make_firefox_db(root / p["dir"] / "cookies.sqlite", p.get("cookies", []))
    (root / "profiles.ini").write_text("\n".join(lines))
    if install_default:
        (root / "installs.ini").write_text(
            f"[4F96D1932A9F858E]\nDefault={install_default}\nLocked=1\n"
        )
    return root


def fake_secret_tool(bin_dir: Path, passwords: dict[str, str], log: Path | None = None) -> Path:
    """A ``secret-tool`` that answers ``lookup application <app>`` from ``passwords``
    (exit 1 otherwise, like the real one), optionally logging its arguments."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    cases = "\n".join(f"  '{app}') printf '%s' '{pw}'; exit 0 ;;" for app, pw in passwords.items())
    logging = f'echo "$@" >> "{log}"\n' if log else ""
    script = (
        "#!/bin/sh\n"
        f"{logging}"
        '[ "$1" = lookup ] && [ "$2" = application ] || exit 1\n'
        'case "$3" in\n'
        f"{cases}\n"
        "esac\n"
        "exit 1\n"
    )
    path = bin_dir / "secret-tool"
    path.write_text(script)
    path.chmod(0o755)
    return path


def fake_security(bin_dir: Path, service: str, password: str) -> Path:
    """A macOS ``security`` answering ``find-generic-password -w -s <service> ...``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = (
        "#!/bin/sh\n"
        '[ "$1" = find-generic-password ] || exit 44\n'
        "while [ $# -gt 0 ]; do\n"
        f'  if [ "$1" = -s ] && [ "$2" = "{service}" ]; then echo "{password}"; exit 0; fi\n'
        "  shift\n"
        "done\n"
        "exit 44\n"
    )
    path = bin_dir / "security"
    path.write_text(script)
    path.chmod(0o755)
    return path
