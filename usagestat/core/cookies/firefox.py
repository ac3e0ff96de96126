"""Firefox: profiles from ``profiles.ini``/``installs.ini``, plain ``cookies.sqlite``.

Firefox does not encrypt cookies. Its profile root (below) holds
``profiles.ini`` (``[ProfileN]`` sections with ``Name``, ``Path``,
``IsRelative`` and ``Default=1``; ``[Install<hash>]`` sections whose
``Default`` is the profile a given installation actually uses) and
``installs.ini`` (the same install defaults). Profiles are tried install
defaults first, then the ``Default=1`` profile, then the rest in file order.

``moz_cookies`` stores ``host`` (``example.com`` host-only, ``.example.com``
domain), ``name``, ``value``, ``path``, ``expiry`` (Unix seconds; values
beyond 10^11 are taken as milliseconds) and ``creationTime`` (microseconds).
Only cookies of the default context are used: those with a non-empty
``originAttributes`` belong to a container tab, private browsing or a
partitioned third-party context.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from . import SESSION_NOT_FOUND, Cookie, CookieImportError, candidate_domains
from .store import StoreError, columns, open_copy

LINUX_ROOTS = (
    ".mozilla/firefox",
    "snap/firefox/common/.mozilla/firefox",
    ".var/app/org.mozilla.firefox/.mozilla/firefox",
)


@dataclass(frozen=True)
class Profile:
    browser: str
    directory: Path
    name: str  # Name= from profiles.ini, else the directory name
    ini_path: str  # Path= as written in profiles.ini

    @property
    def label(self) -> str:
        return self.name

    @property
    def db(self) -> Path:
        return self.directory / "cookies.sqlite"

    def describe(self) -> str:
        return (
            f"{self.name} ({self.directory.name})"
            if self.name != self.directory.name
            else self.name
        )

    def matches(self, wanted: str, loose: bool = False) -> bool:
        options = (self.name, self.directory.name, self.ini_path)
        if loose:
            w = wanted.strip().casefold()
            return any(w == o.casefold() for o in options)
        return wanted in options


def roots(system: str) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    if system == "macos":
        return [home / "Library" / "Application Support" / "Firefox"]
    if system == "windows":
        appdata = os.environ.get("APPDATA")
        base = Path(appdata) if appdata else home / "AppData" / "Roaming"
        return [base / "Mozilla" / "Firefox"]
    out = [home / rel for rel in LINUX_ROOTS]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    config = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
    out.append(config / "mozilla" / "firefox")  # newer Firefox builds follow XDG
    return out


def _read_ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        pass
    return parser


def _resolve(root: Path, path: str, relative: bool) -> Path:
    parts = path.replace("\\", "/")
    return (root / parts) if relative else Path(path)


def _root_profiles(root: Path) -> list[Profile]:
    ini = _read_ini(root / "profiles.ini")
    listed: list[tuple[Profile, bool]] = []
    for section in ini.sections():
        if not section.startswith("Profile") or not ini.has_option(section, "Path"):
            continue
        raw = ini.get(section, "Path")
        relative = ini.get(section, "IsRelative", fallback="1").strip() != "0"
        directory = _resolve(root, raw, relative)
        name = ini.get(section, "Name", fallback="").strip() or directory.name
        is_default = ini.get(section, "Default", fallback="0").strip() == "1"
        listed.append((Profile("firefox", directory, name, raw), is_default))
    install_defaults: list[str] = []
    for parser in (ini, _read_ini(root / "installs.ini")):
        for section in parser.sections():
            if section.startswith("Profile") or section == "General":
                continue
            value = parser.get(section, "Default", fallback="").strip()
            if value and value not in install_defaults:
                install_defaults.append(value)

    def rank(item: tuple[Profile, bool]) -> int:
        profile, is_default = item
        norm = profile.ini_path.replace("\\", "/")
        for i, wanted in enumerate(install_defaults):
            if wanted.replace("\\", "/") == norm:
                return i
        return len(install_defaults) + (0 if is_default else 1)

    ordered = sorted(enumerate(listed), key=lambda pair: (rank(pair[1]), pair[0]))
    return [profile for _i, (profile, _d) in ordered if profile.db.is_file()]


def discover(browser: str, system: str) -> list[Profile]:
    profiles: list[Profile] = []
    seen: set[Path] = set()
    for root in roots(system):
        if not (root / "profiles.ini").is_file():
            continue
        for profile in _root_profiles(root):
            if profile.directory not in seen:
                seen.add(profile.directory)
                profiles.append(profile)
    return profiles


def firefox_expiry(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    return number / 1000 if number > 1e11 else number


def read_profile(
    profile: Profile,
    host: str,
    system: str,
    now: float | None = None,
    warnings: list[str] | None = None,
) -> list[Cookie]:
    domains = candidate_domains(host)
    try:
        with open_copy(profile.db) as conn:
            cols = columns(conn, "moz_cookies")
            if not {"host", "name", "value"} <= cols:
                raise StoreError(f"{profile.db} is not a Firefox cookie database")
            optional = [c for c in ("path", "expiry", "creationTime") if c in cols]
            select = ", ".join(["host", "name", "value", *optional])
            where = f"host IN ({', '.join('?' * len(domains))})"
            if "originAttributes" in cols:
                where += " AND (originAttributes IS NULL OR originAttributes = '')"
            rows = conn.execute(
                f"SELECT {select} FROM moz_cookies WHERE {where}", domains
            ).fetchall()
    except StoreError as exc:
        raise CookieImportError(SESSION_NOT_FOUND, f"firefox: {exc}") from None
    cookies: list[Cookie] = []
    for row in rows:
        record = dict(zip(["host", "name", "value", *optional], row, strict=True))
        created = record.get("creationTime")
        cookies.append(
            Cookie(
                domain=str(record["host"]),
                name=str(record["name"]),
                value=str(record["value"] if record["value"] is not None else ""),
                path=str(record.get("path") or "/"),
                expires=firefox_expiry(record.get("expiry")),
                created=(float(created) / 1_000_000) if created else 0.0,
            )
        )
    return cookies
