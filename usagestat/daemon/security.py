"""Who may talk to the daemon: bind policy, API token, Host and Origin checks (SPEC §8).

The daemon serves data about the user's accounts, so the defaults are strict:
loopback only; a non-loopback bind needs a bearer token read from a file only
the owner can read; the ``Host`` header must name the bound address or
localhost (a DNS-rebinding page in a browser sends its own host name); and
cross-origin browser requests are refused unless the origin is listed in
``corsOrigins`` (there is never a ``*``).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass, field
from pathlib import Path


class SecurityError(Exception):
    """A security setting makes it unsafe to start (one-line message)."""


LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(bind: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    host = bind.strip().strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(bind: str) -> bool:
    host = bind.strip().strip("[]")
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


def read_token_file(path_text: str) -> str:
    """The first line of ``apiTokenFile``; refused when other users can read the file."""
    path = Path(os.path.expanduser(path_text))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecurityError(f"apiTokenFile {path} does not exist")
    except OSError as exc:
        raise SecurityError(f"apiTokenFile {path}: {exc.strerror or exc}")
    if not stat.S_ISREG(info.st_mode):
        raise SecurityError(f"apiTokenFile {path} is not a regular file")
    if os.name == "posix" and info.st_mode & 0o044:
        raise SecurityError(
            f"apiTokenFile {path} is readable by other users; run: chmod 600 {path}"
        )
    try:
        with open(path, "rb") as handle:
            first = handle.readline(4096)
    except OSError as exc:
        raise SecurityError(f"apiTokenFile {path}: {exc.strerror or exc}")
    try:
        token = first.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecurityError(f"apiTokenFile {path} is not UTF-8 text")
    if len(token) < 16:
        raise SecurityError(
            f"apiTokenFile {path}: the first line must hold a token of at least 16 characters"
        )
    if any(ch.isspace() or ord(ch) < 33 or ord(ch) > 126 for ch in token):
        raise SecurityError(
            f"apiTokenFile {path}: the token must be printable ASCII without spaces"
        )
    return token


def _split_host(value: str) -> tuple[str, str | None]:
    """``Host`` header -> (lower-case name without brackets or trailing dot, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return "", None
        name, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return "", None
        return name, (rest[1:] if rest else None)
    if value.count(":") == 1:
        name, _, port = value.partition(":")
        return name.rstrip("."), port
    if ":" in value:  # an unbracketed IPv6 literal is not a valid Host
        return "", None
    return value.rstrip("."), None


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


@dataclass
class Policy:
    """The per-request checks, built once the real port is known."""

    bind: str
    port: int
    token: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    extra_names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        bound = self.bind.strip().strip("[]").lower()
        names = set(LOCAL_NAMES) | {bound} | set(self.extra_names)
        self.wildcard = is_wildcard(self.bind)
        if self.wildcard:
            # gethostname() only: getfqdn() may wait on a slow reverse DNS lookup.
            name = socket.gethostname().lower().rstrip(".")
            if name:
                names.add(name)
        self.names = frozenset(names)
        self.port_text = str(self.port)
        self._token_bytes = self.token.encode("ascii") if self.token else None
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in self.cors_origins)
        self.self_origins = frozenset(
            f"http://{name if ':' not in name else '[' + name + ']'}:{self.port}"
            for name in self.names
        )

    def host_allowed(self, host: str | None, http10: bool) -> bool:
        """Names: localhost, the loopback literals, the bound address; port: the bound one.

        A ``Host`` without a port means port 80 (browsers leave out only the
        scheme's default port), so it passes only when the daemon is bound to
        port 80. A request without ``Host`` passes only on HTTP/1.0 (browsers
        always send one, so a rebinding page cannot omit it). On a wildcard bind
        any IP literal passes too: rebinding needs a DNS name, never an address.
        """
        if host is None:
            return http10
        name, port = _split_host(host)
        if not name:
            return False
        if (port if port is not None else "80") != self.port_text:
            return False
        if name in self.names:
            return True
        return self.wildcard and _is_ip_literal(name)

    def origin_allowed(self, origin: str | None) -> bool:
        """No ``Origin`` (curl, status bars), a listed one, or the daemon's own pages."""
        if origin is None:
            return True
        origin = origin.strip().rstrip("/").lower()
        return origin in self.origins or origin in self.self_origins

    def cors_origin(self, origin: str | None) -> str | None:
        """The value for ``Access-Control-Allow-Origin``: only a configured origin, never ``*``."""
        if origin is None:
            return None
        origin = origin.strip().rstrip("/")
        return origin if origin.lower() in self.origins else None

    @property
    def requires_token(self) -> bool:
        return self._token_bytes is not None

    def authorized(self, header: str | None) -> bool:
        """``Authorization: Bearer <token>``, compared in constant time."""
        if self._token_bytes is None:
            return True
        if not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        try:
            offered = value.strip().encode("ascii")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(offered, self._token_bytes)
