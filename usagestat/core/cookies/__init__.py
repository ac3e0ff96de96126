"""Read a website's session cookies from a local browser profile (``auth import-cookies``).

``import_cookies(host, browser=None, profile=None)`` returns the cookies a
browser holds for ``host`` as one ``Cookie`` header (:class:`CookieImport`),
or raises :class:`CookieImportError` with one of the SPEC §2.2 codes:

``BROWSER_NOT_FOUND``
    the browser (or the named profile) has no data for this user;
``SESSION_NOT_FOUND``
    the browser holds no unexpired cookie for the host;
``DECRYPT_FAILED``
    Chromium-family cookies that could not be decrypted (wrong or missing
    keyring secret, Windows). When some of a host's cookies decrypt and
    others do not (a stale cookie written with an older key), the others are
    skipped and :attr:`CookieImport.warnings` says how many.

Browsers: ``chrome``, ``chromium``, ``brave``, ``edge`` (:mod:`.chromium`) and
``firefox`` (:mod:`.firefox`). Without ``browser`` they are tried in
:data:`BROWSER_ORDER` and the first profile holding a session for the host
wins. Every cookie database is copied (with its ``-wal``/``-shm`` files) into a
private temporary directory and read from there, read-only, so a running
browser's lock never matters and its files are never touched.

Which cookies: those whose domain applies to ``host`` exactly as a browser
decides it - ``host_key == host`` (a host-only cookie), or a domain cookie
``.example.com`` when ``host`` is ``example.com`` or ends with
``.example.com`` - and that have not expired. One value per cookie name: the
most specific domain wins, then the broadest path. The header lists them in
the order of RFC 6265 §5.4 (longer paths first, then older cookies first),
ties broken by name, so the same store always gives the same header.

Cookie values are secrets: nothing here logs them and no error message ever
contains one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BROWSERS",
    "BROWSER_ORDER",
    "Cookie",
    "CookieImport",
    "CookieImportError",
    "build_header",
    "candidate_domains",
    "host_matches",
    "import_cookies",
    "select_cookies",
]

#: Every browser ``--browser`` accepts.
BROWSERS = ("chrome", "chromium", "brave", "edge", "firefox")
#: The order tried when no browser is named: the Chromium family by market
#: share on the desktop, then Firefox.
BROWSER_ORDER = ("chrome", "chromium", "brave", "edge", "firefox")

BROWSER_NOT_FOUND = "BROWSER_NOT_FOUND"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
DECRYPT_FAILED = "DECRYPT_FAILED"


class CookieImportError(Exception):
    """A cookie import that failed; ``code`` is a SPEC §2.2 error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CookieImport:
    """The outcome: a ``Cookie`` header and where it came from."""

    header: str
    browser: str
    profile: str
    #: Problems that did not stop the import (never containing a cookie value),
    #: for the caller to show on stderr.
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show the header (it is a password)
        return (
            f"CookieImport(header=<{len(self.header)} chars>, browser={self.browser!r}, "
            f"profile={self.profile!r}, warnings={len(self.warnings)})"
        )


@dataclass(frozen=True)
class Cookie:
    """One stored cookie, already decrypted. ``expires`` is Unix seconds, None = session cookie."""

    domain: str  # host_key as stored: "example.com" (host-only) or ".example.com"
    name: str
    value: str
    path: str = "/"
    expires: float | None = None
    created: float = 0.0  # Unix seconds (ordering only)

    def __repr__(self) -> str:  # never show the value
        return f"Cookie(domain={self.domain!r}, name={self.name!r}, path={self.path!r})"


def normalize_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def host_matches(host_key: str, host: str) -> bool:
    """Whether a cookie stored for ``host_key`` is sent to ``host`` (RFC 6265 domain-match).

    ``host_key == host``, or ``host_key`` is a domain cookie (leading dot) and
    ``host`` is that domain or a subdomain of it. Nothing else: no substring
    or suffix matching across a label boundary (``evil-claude.ai`` and
    ``claude.ai.evil.com`` never match ``claude.ai``).
    """
    key = host_key.lower()
    host = normalize_host(host)
    if not key or not host:
        return False
    if key == host:
        return True
    return key.startswith(".") and len(key) > 1 and (host == key[1:] or host.endswith(key))


def candidate_domains(host: str) -> list[str]:
    """Every stored domain that can apply to ``host``, for an exact ``IN (...)`` query.

    ``www.example.com`` -> ``www.example.com``, ``.www.example.com``,
    ``.example.com``, ``.com``.
    """
    host = normalize_host(host)
    out = [host]
    labels = host.split(".")
    for i in range(len(labels)):
        suffix = ".".join(labels[i:])
        if suffix:
            out.append("." + suffix)
    return out


def _valid_pair(name: str, value: str) -> bool:
    bad = (";", "\r", "\n", "\x00")
    if not name or "=" in name or any(c in name for c in bad) or name != name.strip():
        return False
    return not any(c in value for c in bad)


def select_cookies(cookies: Iterable[Cookie], host: str, now: float | None = None) -> list[Cookie]:
    """The cookies sent to ``host``: matching domain, unexpired, one per name, in header order."""
    now = time.time() if now is None else now
    best: dict[str, Cookie] = {}
    for cookie in cookies:
        if not host_matches(cookie.domain, host):
            continue
        if cookie.expires is not None and cookie.expires <= now:
            continue
        if not _valid_pair(cookie.name, cookie.value):
            continue
        current = best.get(cookie.name)
        if current is None or _preference(cookie) < _preference(current):
            best[cookie.name] = cookie
    return sorted(best.values(), key=lambda c: (-len(c.path), c.created, c.name))


def _preference(cookie: Cookie) -> tuple[int, int, int, float, str]:
    """Smaller is preferred among cookies of the same name: the most specific
    domain (a host-only cookie before a domain cookie of the same host), then
    the broadest path (the header is sent to every path of the site), then the
    newest."""
    host_only = 0 if not cookie.domain.startswith(".") else 1
    return (
        -len(cookie.domain.lstrip(".")),
        host_only,
        len(cookie.path),
        -cookie.created,
        cookie.path,
    )


def build_header(cookies: Iterable[Cookie]) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in cookies)


# -- the search over browsers and profiles --------------------------------------------


def _reader(browser: str):  # -> module with discover()/read_profile()
    if browser == "firefox":
        from . import firefox

        return firefox
    from . import chromium

    return chromium


def import_cookies(
    host: str,
    *,
    browser: str | None,
    profile: str | None,
    platform: str | None = None,
    now: float | None = None,
) -> CookieImport:
    """The cookies of ``host`` in ``browser`` (default: the first of :data:`BROWSER_ORDER` with a session).

    ``profile`` selects a profile by directory name or display name (default:
    the browser's profiles in its own preference order: last used / install
    default first). ``platform`` (``linux``/``macos``/``windows``) defaults to
    this machine; tests pass it to exercise another OS's layout.
    """
    from ..paths import platform_name

    host = normalize_host(host)
    if not host:
        raise CookieImportError(SESSION_NOT_FOUND, "no host to read cookies for")
    system = platform or platform_name()
    if browser is not None and browser not in BROWSERS:
        raise CookieImportError(
            BROWSER_NOT_FOUND, f"unknown browser {browser!r} (choose from {', '.join(BROWSERS)})"
        )
    order = [browser] if browser else list(BROWSER_ORDER)
    installed: list[str] = []
    failures: list[CookieImportError] = []
    profiles_seen: dict[str, list[str]] = {}
    profile_found = False
    for name in order:
        reader = _reader(name)
        profiles = reader.discover(name, system)
        if not profiles:
            continue
        installed.append(name)
        profiles_seen[name] = [p.describe() for p in profiles]
        if profile is not None:
            chosen = [p for p in profiles if p.matches(profile)]
            if not chosen:
                chosen = [p for p in profiles if p.matches(profile, loose=True)]
            profiles = chosen[:1]
            if not profiles:
                continue
            profile_found = True
        for prof in profiles:
            warnings: list[str] = []
            try:
                cookies = reader.read_profile(prof, host, system, now, warnings)
            except CookieImportError as exc:
                failures.append(exc)
                continue
            chosen_cookies = select_cookies(cookies, host, now)
            if chosen_cookies:
                return CookieImport(build_header(chosen_cookies), name, prof.label, tuple(warnings))
    where = f"in {browser}" if browser else "in any browser"
    if not installed:
        if browser:
            raise CookieImportError(
                BROWSER_NOT_FOUND, f"{browser} has no profile for this user on {system}"
            )
        raise CookieImportError(
            BROWSER_NOT_FOUND,
            f"no supported browser profile found on {system} (looked for {', '.join(order)})",
        )
    if profile is not None and not profile_found:
        have = "; ".join(f"{name}: {', '.join(profiles_seen[name])}" for name in installed)
        raise CookieImportError(BROWSER_NOT_FOUND, f"no profile {profile!r} {where} (have {have})")
    decrypt = [f for f in failures if f.code == DECRYPT_FAILED]
    if decrypt:
        raise decrypt[0]
    if failures:
        raise failures[0]
    searched = ", ".join(installed)
    raise CookieImportError(
        SESSION_NOT_FOUND,
        f"no unexpired cookies for {host} {where} (searched {searched}); "
        f"sign in to {host} in the browser first",
    )
