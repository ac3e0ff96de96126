"""Chrome, Chromium, Brave and Edge: profile discovery and cookie decryption.

Layout: a *user data directory* per browser (below), holding ``Local State``
(JSON: ``profile.info_cache`` maps profile directories to display names,
``profile.last_used`` names the last one used) and one directory per profile
(``Default``, ``Profile 1``, ...) whose cookie database is ``Network/Cookies``
(Chrome 96+) or ``Cookies``.

The ``cookies`` table stores ``host_key, name, value, encrypted_value, path,
expires_utc, creation_utc, ...``; times are microseconds since 1601-01-01 UTC
(``expires_utc`` 0 = a session cookie). ``encrypted_value`` starts with
``v10``/``v11`` followed by AES-128-CBC ciphertext (see :mod:`.keys`). Since
database version 24 (``meta`` table, key ``version``) the plaintext starts with
SHA-256(host_key), 32 bytes, which is checked and removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..ciphers import DecryptError, aes_cbc_decrypt
from . import DECRYPT_FAILED, SESSION_NOT_FOUND, Cookie, CookieImportError, candidate_domains
from .keys import IV, KeyRing
from .store import StoreError, columns, open_copy

#: Seconds between 1601-01-01 and 1970-01-01.
WINDOWS_EPOCH_OFFSET = 11_644_473_600
#: Database version from which values carry the SHA-256(host_key) prefix.
DOMAIN_HASH_VERSION = 24
SKIPPED_PROFILES = {"System Profile", "Guest Profile"}

#: User data directories per platform, relative to a base directory:
#: linux: $XDG_CONFIG_HOME (~/.config), then the Flatpak/Snap homes;
#: macos: ~/Library/Application Support; windows: %LOCALAPPDATA%.
LINUX_DIRS: dict[str, tuple[str, ...]] = {
    "chrome": ("google-chrome",),
    "chromium": ("chromium",),
    "brave": ("BraveSoftware/Brave-Browser",),
    "edge": ("microsoft-edge",),
}
LINUX_SANDBOXED: dict[str, tuple[str, ...]] = {
    "chrome": (".var/app/com.google.Chrome/config/google-chrome",),
    "chromium": (
        ".var/app/org.chromium.Chromium/config/chromium",
        "snap/chromium/common/chromium",
    ),
    "brave": (
        ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",
        "snap/brave/current/.config/BraveSoftware/Brave-Browser",
    ),
    "edge": (".var/app/com.microsoft.Edge/config/microsoft-edge",),
}
MACOS_DIRS: dict[str, str] = {
    "chrome": "Google/Chrome",
    "chromium": "Chromium",
    "brave": "BraveSoftware/Brave-Browser",
    "edge": "Microsoft Edge",
}
WINDOWS_DIRS: dict[str, str] = {
    "chrome": "Google/Chrome/User Data",
    "chromium": "Chromium/User Data",
    "brave": "BraveSoftware/Brave-Browser/User Data",
    "edge": "Microsoft/Edge/User Data",
}


@dataclass(frozen=True)
class Profile:
    browser: str
    directory: Path
    dirname: str  # "Default", "Profile 1"
    name: str | None  # display name from Local State ("Person 1", "Work")
    db: Path

    @property
    def label(self) -> str:
        return self.dirname

    def describe(self) -> str:
        return (
            f"{self.dirname} ({self.name})"
            if self.name and self.name != self.dirname
            else self.dirname
        )

    def matches(self, wanted: str, loose: bool = False) -> bool:
        if loose:
            w = wanted.strip().casefold()
            return w in (self.dirname.casefold(), (self.name or "").casefold())
        return wanted in (self.dirname, self.name)


def user_data_dirs(browser: str, system: str) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    out: list[Path] = []
    if system == "linux":
        bases = []
        xdg = os.environ.get("XDG_CONFIG_HOME")
        if xdg and os.path.isabs(xdg):
            bases.append(Path(xdg))
        bases.append(home / ".config")
        for base in bases:
            out.extend(base / rel for rel in LINUX_DIRS[browser])
        out.extend(home / rel for rel in LINUX_SANDBOXED[browser])
    elif system == "macos":
        out.append(home / "Library" / "Application Support" / MACOS_DIRS[browser])
    else:
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
        out.append(base / WINDOWS_DIRS[browser])
    unique: list[Path] = []
    for path in out:
        if path not in unique:
            unique.append(path)
    return unique


def _local_state(root: Path) -> tuple[dict[str, str], str | None]:
    """(profile dir -> display name, last used dir) from ``Local State``; empty when unreadable."""
    try:
        data = json.loads((root / "Local State").read_text(encoding="utf-8"))
        profile = data.get("profile") or {}
        cache = profile.get("info_cache") or {}
        names = {
            str(k): str(v.get("name"))
            for k, v in cache.items()
            if isinstance(v, dict) and v.get("name")
        }
        last = profile.get("last_used")
        return names, (str(last) if isinstance(last, str) and last else None)
    except (OSError, ValueError, AttributeError):
        return {}, None


def _cookie_db(profile_dir: Path) -> Path | None:
    for candidate in (profile_dir / "Network" / "Cookies", profile_dir / "Cookies"):
        if candidate.is_file():
            return candidate
    return None


def _profile_order(dirname: str, last_used: str | None) -> tuple[int, int, str]:
    if dirname == last_used:
        return (0, 0, dirname)
    if dirname == "Default":
        return (1, 0, dirname)
    match = re.fullmatch(r"Profile (\d+)", dirname)
    if match:
        return (2, int(match.group(1)), dirname)
    return (3, 0, dirname)


def discover(browser: str, system: str) -> list[Profile]:
    """The browser's profiles that have a cookie database, in preference order."""
    profiles: list[Profile] = []
    for root in user_data_dirs(browser, system):
        if not root.is_dir():
            continue
        names, last_used = _local_state(root)
        try:
            entries = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            continue
        found = []
        for entry in entries:
            if entry.name in SKIPPED_PROFILES:
                continue
            db = _cookie_db(entry)
            if db is not None:
                found.append(Profile(browser, entry, entry.name, names.get(entry.name), db))
        found.sort(key=lambda p: _profile_order(p.dirname, last_used))
        profiles.extend(found)
    return profiles


def chrome_time(value: int | None) -> float | None:
    """Microseconds since 1601 -> Unix seconds; 0/None -> None."""
    if not value:
        return None
    return value / 1_000_000 - WINDOWS_EPOCH_OFFSET


def _printable(text: str) -> bool:
    return all(" " <= ch != "\x7f" for ch in text)


def decrypt_value(
    encrypted: bytes, host_key: str, keyring: KeyRing, domain_hash: bool
) -> str | None:
    """The plaintext of one ``encrypted_value``, or None when no candidate key fits."""
    version = encrypted[:3]
    if version not in (b"v10", b"v11"):
        return None
    body = encrypted[3:]
    digest = hashlib.sha256(host_key.encode("utf-8")).digest() if domain_hash else b""
    for key in keyring.keys(version):
        try:
            plain = aes_cbc_decrypt(key, IV, body)
        except DecryptError:
            continue
        if domain_hash:
            if plain[:32] != digest:
                continue
            plain = plain[32:]
        try:
            text = plain.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return text
    return None


def _meta_version(conn) -> int:
    if not columns(conn, "meta"):
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return 0


def read_profile(
    profile: Profile,
    host: str,
    system: str,
    now: float | None = None,
    warnings: list[str] | None = None,
) -> list[Cookie]:
    """The unexpired cookies stored for ``host``'s candidate domains, decrypted.

    Cookies that no candidate key decrypts (e.g. a stale cookie written with an
    older key) are skipped, with one line appended to ``warnings``, as long as
    at least one encrypted cookie of the host decrypted; when none did the
    key is wrong or missing and this raises ``DECRYPT_FAILED``.
    """
    import time

    now = time.time() if now is None else now
    keyring = KeyRing(profile.browser, system)
    domains = candidate_domains(host)
    cookies: list[Cookie] = []
    failed: dict[bytes, int] = {}
    decrypted = 0
    try:
        with open_copy(profile.db) as conn:
            cols = columns(conn, "cookies")
            if not {"host_key", "name", "value", "encrypted_value"} <= cols:
                raise StoreError(f"{profile.db} is not a Chromium cookie database")
            domain_hash = _meta_version(conn) >= DOMAIN_HASH_VERSION
            optional = [
                c for c in ("path", "expires_utc", "creation_utc", "has_expires") if c in cols
            ]
            partition = "top_frame_site_key" in cols
            select = ", ".join(["host_key", "name", "value", "encrypted_value", *optional])
            where = f"host_key IN ({', '.join('?' * len(domains))})"
            if partition:  # CHIPS cookies belong to an embedding site, not to this one
                where += " AND (top_frame_site_key IS NULL OR top_frame_site_key = '')"
            rows = conn.execute(f"SELECT {select} FROM cookies WHERE {where}", domains).fetchall()
    except StoreError as exc:
        raise CookieImportError(SESSION_NOT_FOUND, f"{profile.browser}: {exc}") from None
    for row in rows:
        record = dict(
            zip(["host_key", "name", "value", "encrypted_value", *optional], row, strict=True)
        )
        host_key = str(record["host_key"])
        expires = chrome_time(record.get("expires_utc"))
        if record.get("has_expires") == 0:
            expires = None
        if expires is not None and expires <= now:
            continue
        encrypted = record["encrypted_value"] or b""
        if isinstance(encrypted, str):
            encrypted = encrypted.encode("latin-1")
        if encrypted:
            value = decrypt_value(bytes(encrypted), host_key, keyring, domain_hash)
            if value is None:
                failed[bytes(encrypted[:3])] = failed.get(bytes(encrypted[:3]), 0) + 1
                continue
            decrypted += 1
        else:
            value = str(record["value"] or "")
        cookies.append(
            Cookie(
                domain=host_key,
                name=str(record["name"]),
                value=value,
                path=str(record.get("path") or "/"),
                expires=expires,
                created=chrome_time(record.get("creation_utc")) or 0.0,
            )
        )
    if failed:
        count = sum(failed.values())
        plural = "s" if count != 1 else ""
        if decrypted:
            if warnings is not None:
                warnings.append(
                    f"skipped {count} {profile.browser} cookie{plural} for {host} "
                    f"(profile {profile.label}) that could not be decrypted (probably stored "
                    f"with an older key); kept the {decrypted} that decrypted"
                )
            return cookies
        version = max(failed, key=lambda v: failed[v])
        raise CookieImportError(
            DECRYPT_FAILED,
            f"cannot decrypt {count} {profile.browser} cookie{plural} for "
            f"{host} (profile {profile.label}): {keyring.why_not(version)}",
        )
    return cookies
