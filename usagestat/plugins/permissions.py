"""What a plugin may touch, and the checks that enforce it (SPEC §3.4).

Every host call asks a :class:`PermissionPolicy` first. A denial raises
:class:`PermissionDenied` with the message plugins and users see:
``permission denied: http api.example.com (not declared by claude)``.

Some places are never readable whatever a manifest declares: ``~/.ssh``,
``~/.gnupg`` and usagestat's own config and data (other than the plugin's own
data dir), so a plugin cannot read another plugin's state or the user's keys.
"""

from __future__ import annotations

import os

# This module runs in every probe worker, where start-up time matters: it
# avoids dataclasses and imports ipaddress/shutil/urllib only when a check needs them.

PERMISSION_KINDS = ("http", "env", "fs", "fsWrite", "commands", "keychain")


class Permissions:
    """The ``permissions`` object of a manifest (SPEC §3.4)."""

    __slots__ = ("commands", "env", "fs", "fs_write", "http", "keychain")

    def __init__(
        self,
        http: list[str] | None = None,
        env: list[str] | None = None,
        fs: list[str] | None = None,
        fs_write: list[str] | None = None,
        commands: list[str] | None = None,
        keychain: list[str] | None = None,
    ) -> None:
        self.http = list(http or [])
        self.env = list(env or [])
        self.fs = list(fs or [])
        self.fs_write = list(fs_write or [])
        self.commands = list(commands or [])
        self.keychain = list(keychain or [])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Permissions) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Permissions({self.to_json()!r})"

    def to_json(self) -> dict[str, list[str]]:
        return {
            "http": self.http,
            "env": self.env,
            "fs": self.fs,
            "fsWrite": self.fs_write,
            "commands": self.commands,
            "keychain": self.keychain,
        }

    @classmethod
    def from_json(cls, data: dict[str, list[str]]) -> Permissions:
        return cls(
            http=data.get("http"),
            env=data.get("env"),
            fs=data.get("fs"),
            fs_write=data.get("fsWrite"),
            commands=data.get("commands"),
            keychain=data.get("keychain"),
        )


#: Environment variables a legacy (undeclared) plugin may read.
LEGACY_ENV = (
    "HOME",
    "USER",
    "USERNAME",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "TMPDIR",
    "TEMP",
    "TMP",
    "LANG",
    "TZ",
    "CODEX_HOME",
    "CLAUDE_CONFIG_DIR",
)
LEGACY_COMMANDS = ("gh",)


class PermissionDenied(Exception):
    pass


def is_loopback_host(host: str) -> bool:
    import ipaddress

    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def expand_entry(entry: str, env: dict[str, str], home: str) -> str | None:
    """Expand ``~`` and ``$NAME``/``${NAME}``; None when a named variable is unset."""
    import re

    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1) or match.group(2)
        value = env.get(name)
        if not value:
            missing = True
            return ""
        return value

    text = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", substitute, entry)
    if missing:
        return None
    return _expand_home(text, home)


def _expand_home(text: str, home: str) -> str:
    """A leading ``~`` (alone or before a separator) as ``home``."""
    return home + text[1:] if text == "~" or text.startswith(("~/", "~\\")) else text


#: Variables that may hold several directories separated by commas (Claude Code's config
#: dirs, as ``usagestat cost`` reads them): a declared entry naming one is expanded once per part.
LIST_VARIABLES = ("CLAUDE_CONFIG_DIR",)


def _expand_declared(entry: str, env: dict[str, str], home: str) -> list[str]:
    """A declared ``fs``/``fsWrite`` entry as the absolute paths it grants.

    Each comma-separated part of a :data:`LIST_VARIABLES` value stands for itself
    (``~`` allowed). An expansion that is not an absolute path, or is a file-system
    root, grants nothing: a value such as ``.`` or ``/`` must not widen the entry.
    """
    import re

    values = [env]
    for name in LIST_VARIABLES:
        if not re.search(r"\$(?:\{" + name + r"\}|" + name + r"(?![A-Za-z0-9_]))", entry):
            continue
        parts = [p.strip() for p in (env.get(name) or "").split(",")]
        parts = [_expand_home(p, home) for p in parts]
        parts = [p for p in parts if _usable_root(p) is not None]
        values = [{**v, name: part} for v in values for part in parts]
    out = []
    for value in values:
        text = expand_entry(entry, value, home)
        real = _usable_root(text) if text else None
        if real is not None:
            out.append(real)
    return out


def _usable_root(path: str) -> str | None:
    """The real path of an absolute path other than a file-system root (``/``, ``C:\\``), else None."""
    if not os.path.isabs(path):
        return None
    real = _real(path)
    return real if os.path.dirname(real) != real else None


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _within(path: str, root: str) -> bool:
    if path == root:
        return True
    root = root if root.endswith(os.sep) else root + os.sep
    return path.startswith(root)


class PermissionPolicy:
    """Checks for one probe of one plugin instance."""

    def __init__(
        self,
        plugin_id: str,
        declared: Permissions | None,  # None = legacy profile
        home: str,
        plugin_data_dir: str,
        private_roots: list[str] | None = None,  # usagestat config, data and cache dirs
        base_url: str | None = None,
        write_credentials: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.declared = declared
        self.home = home
        self.plugin_data_dir = plugin_data_dir
        self.private_roots = list(private_roots or [])
        self.base_url = base_url
        self.write_credentials = write_credentials
        self.env = dict(os.environ) if env is None else env

    @property
    def legacy(self) -> bool:
        return self.declared is None

    def _deny(self, kind: str, target: str, why: str | None = None) -> PermissionDenied:
        reason = why or f"not declared by {self.plugin_id}"
        return PermissionDenied(f"permission denied: {kind} {target} ({reason})")

    # -- env -----------------------------------------------------------------
    def check_env(self, name: str) -> None:
        allowed = LEGACY_ENV if self.declared is None else self.declared.env
        if name not in allowed:
            raise self._deny("env", name)

    # -- http ----------------------------------------------------------------
    def check_url(self, url: str) -> None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise PermissionDenied(f"permission denied: http {url[:80]} (not a valid URL)")
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if scheme not in ("http", "https") or not host:
            raise PermissionDenied(f"permission denied: http {url[:80]} (only http(s) URLs)")
        if self._matches_base_url(scheme, host, port):
            return
        if scheme == "http" and not is_loopback_host(host):
            raise self._deny("http", host, "plain http is only allowed to loopback hosts")
        if self.declared is None:
            return
        effective_port = port or (443 if scheme == "https" else 80)
        for pattern in self.declared.http:
            if _host_matches(pattern.lower(), host, effective_port):
                return
        raise self._deny("http", host)

    def _matches_base_url(self, scheme: str, host: str, port: int | None) -> bool:
        from urllib.parse import urlsplit

        if not self.base_url:
            return False
        try:
            base = urlsplit(self.base_url)
            base_port = base.port
        except ValueError:
            return False
        default = 443 if scheme == "https" else 80
        return (
            base.scheme.lower() == scheme
            and (base.hostname or "").lower() == host
            and (base_port or default) == (port or default)
        )

    # -- file system -------------------------------------------------------------
    def _expanded(self, entries: list[str]) -> list[str]:
        out = []
        for entry in entries:
            out.extend(_expand_declared(entry, self.env, self.home))
        return out

    def _hard_denied(self, real: str) -> bool:
        if _within(real, _real(self.plugin_data_dir)):
            return False
        blocked = [
            os.path.join(self.home, ".ssh"),
            os.path.join(self.home, ".gnupg"),
            *self.private_roots,
        ]
        return any(_within(real, _real(root)) for root in blocked)

    def resolve_read(self, path: str) -> str:
        """The real path to read, or PermissionDenied."""
        expanded = expand_entry(path, self.env, self.home) or path
        real = _real(expanded)
        if _within(real, _real(self.plugin_data_dir)):
            return real
        if self._hard_denied(real):
            raise self._deny("fs", path, "private location")
        roots = [_real(self.home)] if self.declared is None else self._expanded(self.declared.fs)
        if any(_within(real, root) for root in roots):
            return real
        raise self._deny("fs", path)

    def resolve_write(self, path: str) -> str:
        expanded = expand_entry(path, self.env, self.home) or path
        real = _real(expanded)
        if _within(real, _real(self.plugin_data_dir)):
            return real
        if self.declared is not None and real in self._expanded(self.declared.fs_write):
            if not self.write_credentials:
                raise self._deny("fsWrite", path, "writeCredentials is off for this instance")
            if self._hard_denied(real):
                raise self._deny("fsWrite", path, "private location")
            return real
        raise self._deny("fsWrite", path)

    # -- commands ------------------------------------------------------------
    def resolve_command(self, program: str) -> str:
        """The executable to run for ``program``, or PermissionDenied."""
        import re
        import shutil

        allowed = LEGACY_COMMANDS if self.declared is None else tuple(self.declared.commands)
        base = os.path.basename(program)
        names = {os.path.normcase(name) for name in allowed}
        stem = os.path.normcase(base)
        if os.name == "nt":
            stem = re.sub(r"\.(exe|cmd|bat)$", "", stem)
        if stem not in names or (
            (os.sep in program or "/" in program) and not os.path.isabs(program)
        ):
            raise self._deny("command", program)
        if os.path.isabs(program):
            if not os.path.isfile(program):
                raise PermissionDenied(f"command not found: {program}")
            return program
        found = shutil.which(program, path=self.env.get("PATH"))
        if not found:
            raise PermissionDenied(f"command not found: {program}")
        return found

    # -- keychain ------------------------------------------------------------
    def check_keychain(self, service: str) -> None:
        allowed = [] if self.declared is None else self.declared.keychain
        for pattern in allowed:
            if (pattern.endswith("*") and service.startswith(pattern[:-1])) or pattern == service:
                return
        raise self._deny("keychain", service)


def _host_matches(pattern: str, host: str, port: int) -> bool:
    want_port: int | None = None
    if ":" in pattern:
        pattern, _, port_text = pattern.rpartition(":")
        want_port = int(port_text)
    if want_port is not None and want_port != port:
        return False
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return host == pattern
