"""The configuration file (SPEC §4): parsing, type checks, validation and masking.

``load_config`` is what every command uses: it refuses (raises
:class:`ConfigError` with one clear line) only a file that does not parse or
holds values of the wrong type, and keeps softer findings as warnings.
``validate_config`` is the thorough check behind ``config validate``; it needs
to know which providers exist, which the caller passes in (core does not know
about plugins).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .models import MODES, ConfigIssue, ConfigValidation
from .redact import mask_value

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SECRET_SETTING_WORDS = ("key", "secret", "token", "password", "cookie")


class ConfigError(Exception):
    """The config file cannot be used: it does not parse or has wrong types."""


@dataclass
class ProviderEntry:
    """One ``[[providers]]`` table."""

    id: str
    instance_id: str
    index: int
    display_name: str | None = None
    enabled: bool = True
    source: str | None = None
    cookie_header: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None
    api_key_command: str | None = None
    region: str | None = None
    workspace_id: str | None = None
    base_url: str | None = None
    custom_command: str | None = None
    probe_timeout_sec: float | None = None
    write_credentials: bool = True
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class DaemonSettings:
    bind: str = "127.0.0.1"
    port: int = 6736
    api_token_file: str | None = None
    cors_origins: list[str] = field(default_factory=list)


@dataclass
class NotifySettings:
    warn_percent: float = 80.0
    critical_percent: float = 95.0


@dataclass
class Config:
    path: Path
    exists: bool = False
    refresh_sec: int = 60
    plugin_dirs: list[str] = field(default_factory=list)
    probe_timeout_sec: float | None = None
    max_parallel: int = 4
    ca_bundle: str | None = None
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    providers: list[ProviderEntry] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)


# --- schema -----------------------------------------------------------------
# Each key maps to (python attribute, checker). A checker returns the converted
# value or raises _Bad with a message.


class _Bad(Exception):
    pass


class _Range(_Bad):
    """A value of the right type outside its range (``value`` = what the file says)."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("expected a string")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("expected true or false")
    return value


def _int_at_least(low: int, high: int | None = None):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad("expected an integer")
        if value < low or (high is not None and value > high):
            message = f"must be between {low} and {high}" if high else f"must be at least {low}"
            raise _Range(message, value)
        return value

    return check


def _out_of_range(message: str, value: float) -> _Bad:
    """A range problem, or a plain error for infinity (not shown as written: JSON has no inf)."""
    if value in (float("inf"), float("-inf")):
        return _Bad(message)
    return _Range(message, float(value))


def _positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise _Bad("expected a number")
    if value <= 0 or value > 86400:
        raise _out_of_range("must be a number of seconds above 0", value)
    return float(value)


def _percent(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise _Bad("expected a number from 0 to 100")
    if not 0 <= value <= 100:
        raise _out_of_range("expected a number from 0 to 100", value)
    return float(value)


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Bad("expected a list of strings")
    if len(value) > 1000:
        raise _Bad("too many entries (at most 1000)")
    return list(value)


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("expected a table")
    return dict(value)


def _id(value: Any) -> str:
    text = _str(value)
    if not ID_PATTERN.match(text):
        raise _Bad("must match ^[a-z0-9][a-z0-9-]*$ (lower-case letters, digits, dashes)")
    return text


def _source(value: Any) -> str:
    text = _str(value)
    if text != "auto" and text not in MODES:
        raise _Bad(f"must be one of auto, {', '.join(MODES)}")
    return text


_TOP = {
    "refreshSec": ("refresh_sec", _int_at_least(10)),
    "pluginDirs": ("plugin_dirs", _str_list),
    "probeTimeoutSec": ("probe_timeout_sec", _positive_number),
    "maxParallel": ("max_parallel", _int_at_least(1, 256)),
    "caBundle": ("ca_bundle", _str),
}
_DAEMON = {
    "bind": ("bind", _str),
    "port": ("port", _int_at_least(0, 65535)),
    "apiTokenFile": ("api_token_file", _str),
    "corsOrigins": ("cors_origins", _str_list),
}
_NOTIFY = {
    "warnPercent": ("warn_percent", _percent),
    "criticalPercent": ("critical_percent", _percent),
}
_PROVIDER = {
    "id": ("id", _id),
    "instanceId": ("instance_id", _id),
    "displayName": ("display_name", _str),
    "enabled": ("enabled", _bool),
    "source": ("source", _source),
    "cookieHeader": ("cookie_header", _str),
    "apiKey": ("api_key", _str),
    "apiKeyEnv": ("api_key_env", _str),
    "apiKeyCommand": ("api_key_command", _str),
    "region": ("region", _str),
    "workspaceId": ("workspace_id", _str),
    "baseUrl": ("base_url", _str),
    "customCommand": ("custom_command", _str),
    "probeTimeoutSec": ("probe_timeout_sec", _positive_number),
    "writeCredentials": ("write_credentials", _bool),
    "settings": ("settings", _table),
}
MAX_PROVIDERS = 500


def _apply(
    target: object,
    data: Mapping[str, Any],
    schema: Mapping[str, tuple[str, Any]],
    prefix: str,
    errors: list[ConfigIssue],
    warnings: list[ConfigIssue],
    ranges: list[ConfigIssue] | None = None,
) -> None:
    """Check and set each key; a range problem goes to ``ranges`` (value kept) when given."""
    for key, value in data.items():
        where = f"{prefix}{key}"
        spec = schema.get(key)
        if spec is None:
            warnings.append(ConfigIssue("warning", where, "unknown key (ignored)"))
            continue
        attr, check = spec
        try:
            setattr(target, attr, check(value))
        except _Range as bad:
            if ranges is None:
                errors.append(ConfigIssue("error", where, str(bad)))
            else:
                setattr(target, attr, bad.value)
                ranges.append(ConfigIssue("warning", where, str(bad)))
        except _Bad as bad:
            errors.append(ConfigIssue("error", where, str(bad)))


def _parse(
    text: str, path: Path, ranges: list[ConfigIssue] | None = None
) -> tuple[Config, list[ConfigIssue], list[ConfigIssue]]:
    """Parse and type-check; with ``ranges`` (a list), range problems go there, not to errors."""
    from .toml import TOMLDecodeError, loads

    config = Config(path=path, exists=True)
    errors: list[ConfigIssue] = []
    warnings: list[ConfigIssue] = []
    try:
        data = loads(text)
    except TOMLDecodeError as exc:
        errors.append(ConfigIssue("error", "", f"invalid TOML: {_toml_message(exc)}"))
        return config, errors, warnings
    except RecursionError:
        errors.append(ConfigIssue("error", "", "invalid TOML: arrays or tables nested too deeply"))
        return config, errors, warnings
    except ValueError:  # Python's limit on digits in an integer literal
        errors.append(ConfigIssue("error", "", "invalid TOML: a number has too many digits"))
        return config, errors, warnings
    top = {k: v for k, v in data.items() if k not in ("daemon", "notify", "providers")}
    _apply(config, top, _TOP, "", errors, warnings, ranges)
    for name, schema, target in (
        ("daemon", _DAEMON, config.daemon),
        ("notify", _NOTIFY, config.notify),
    ):
        if name in data:
            if isinstance(data[name], dict):
                _apply(target, data[name], schema, f"{name}.", errors, warnings, ranges)
            else:
                errors.append(ConfigIssue("error", name, "expected a table ([" + name + "])"))
    if config.notify.warn_percent > config.notify.critical_percent:
        issue = ConfigIssue("error", "notify", "warnPercent must not be above criticalPercent")
        if ranges is None:
            errors.append(issue)
        else:
            ranges.append(ConfigIssue("warning", issue.path, issue.message))
    providers = data.get("providers", [])
    if not isinstance(providers, list):
        errors.append(
            ConfigIssue("error", "providers", "expected an array of tables ([[providers]])")
        )
        providers = []
    if len(providers) > MAX_PROVIDERS:
        errors.append(
            ConfigIssue("error", "providers", f"too many entries (at most {MAX_PROVIDERS})")
        )
        providers = []
    for index, item in enumerate(providers):
        where = f"providers[{index}]"
        if not isinstance(item, dict):
            errors.append(ConfigIssue("error", where, "expected a table"))
            continue
        raw_id = item.get("id")
        if raw_id is None:
            errors.append(ConfigIssue("error", f"{where}.id", "missing (every entry needs an id)"))
            continue
        try:
            provider_id = _id(raw_id)
        except _Bad as bad:
            errors.append(ConfigIssue("error", f"{where}.id", str(bad)))
            continue
        entry = ProviderEntry(id=provider_id, instance_id=provider_id, index=index)
        _apply(entry, item, _PROVIDER, f"{where}.", errors, warnings, ranges)
        config.providers.append(entry)
    return config, errors, warnings


def _toml_message(exc: Exception) -> str:
    """tomllib already says ``(at line L, column C)``; make that the lead."""
    text = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if match:
        reason = text[: match.start()].strip()
        return f"line {match.group(1)}, column {match.group(2)}: {reason}"
    return text


def _read_text(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config is not valid UTF-8 (byte {exc.start})")


def resolve_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit).expanduser() if explicit else paths.config_path()


def load_config(
    explicit: str | os.PathLike[str] | None = None, *, check_ranges: bool = True
) -> Config:
    """Load the config (defaults when the file is missing); raise ConfigError when unusable.

    ``check_ranges=False`` (``config dump``, ``config path``) refuses only a file
    that does not parse or has wrong types: a value outside its range is kept as
    written and reported among ``config.warnings``, so the user sees what they wrote.
    """
    path = resolve_path(explicit)
    text = _read_text(path)
    if text is None:
        return Config(path=path, exists=False)
    ranges: list[ConfigIssue] | None = None if check_ranges else []
    config, errors, warnings = _parse(text, path, ranges)
    if ranges:
        warnings = [
            ConfigIssue(
                "warning",
                issue.path,
                f"{issue.message} (other commands refuse the file until this is fixed)",
            )
            for issue in ranges
        ] + warnings
    if errors:
        first = errors[0]
        where = f" {first.path}:" if first.path else ""
        more = (
            f" (and {len(errors) - 1} more; run `usagestat config validate`)"
            if len(errors) > 1
            else ""
        )
        raise ConfigError(f"{path}:{where} {first.message}{more}")
    seen: set[str] = set()
    unique: list[ProviderEntry] = []
    for entry in config.providers:
        if entry.instance_id in seen:
            warnings.append(
                ConfigIssue(
                    "warning",
                    f"providers[{entry.index}].instanceId",
                    f"duplicate instanceId {entry.instance_id!r}: this entry is ignored",
                )
            )
            continue
        seen.add(entry.instance_id)
        unique.append(entry)
    config.providers = unique
    if has_secrets(config) and readable_by_others(path):
        warnings.append(ConfigIssue("warning", "", _READABLE_SECRETS.format(path=path)))
    config.warnings = warnings
    return config


_READABLE_SECRETS = "holds secrets but is readable by other users; run: chmod 600 {path}"


def has_secrets(config: Config) -> bool:
    return any(
        entry.api_key
        or entry.cookie_header
        or any(_is_secret_setting(key) for key in entry.settings)
        for entry in config.providers
    )


def readable_by_others(path: Path) -> bool:
    if os.name != "posix":
        return False
    try:
        return bool(path.stat().st_mode & 0o044)
    except OSError:
        return False


def validate_config(
    explicit: str | os.PathLike[str] | None,
    known_providers: Mapping[str, tuple[str, ...]],
) -> ConfigValidation:
    """Everything ``config validate`` reports (SPEC §4).

    ``known_providers`` maps each discovered provider id to its supported modes.
    """
    path = resolve_path(explicit)
    try:
        text = _read_text(path)
    except ConfigError as exc:
        return ConfigValidation(str(path), False, [ConfigIssue("error", "", str(exc))])
    if text is None:
        return ConfigValidation(
            str(path), True, [ConfigIssue("warning", "", "file does not exist; defaults apply")]
        )
    config, errors, warnings = _parse(text, path)
    issues = errors + warnings
    seen: dict[str, int] = {}
    for entry in config.providers:
        where = f"providers[{entry.index}]"
        if entry.instance_id in seen:
            issues.append(
                ConfigIssue(
                    "error",
                    f"{where}.instanceId",
                    f"duplicate instanceId {entry.instance_id!r} (also providers[{seen[entry.instance_id]}])",
                )
            )
        else:
            seen[entry.instance_id] = entry.index
        if entry.id == "custom":
            if not entry.custom_command:
                issues.append(ConfigIssue("error", where, "a custom provider needs customCommand"))
            elif _split_command(entry.custom_command) is None:
                issues.append(
                    ConfigIssue("error", f"{where}.customCommand", "cannot be split into arguments")
                )
            if entry.source not in (None, "auto", "custom"):
                issues.append(
                    ConfigIssue(
                        "error", f"{where}.source", "the custom provider only supports custom"
                    )
                )
            continue
        modes = known_providers.get(entry.id)
        if modes is None:
            hint = did_you_mean(entry.id, known_providers)
            issues.append(
                ConfigIssue("error", f"{where}.id", f"unknown provider {entry.id!r}{hint}")
            )
        elif entry.source not in (None, "auto") and entry.source not in modes:
            issues.append(
                ConfigIssue(
                    "error",
                    f"{where}.source",
                    f"{entry.id} does not support {entry.source!r} (supports: {', '.join(modes) or 'none'})",
                )
            )
        if entry.api_key_command and _split_command(entry.api_key_command) is None:
            issues.append(
                ConfigIssue("error", f"{where}.apiKeyCommand", "cannot be split into arguments")
            )
    if has_secrets(config) and readable_by_others(path):
        issues.append(ConfigIssue("warning", "", _READABLE_SECRETS.format(path=path)))
    valid = not any(issue.level == "error" for issue in issues)
    return ConfigValidation(str(path), valid, issues)


def did_you_mean(name: str, candidates: Mapping[str, Any] | list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _split_command(command: str) -> list[str] | None:
    try:
        import shlex  # lazily: only configs with commands need it

        parts = shlex.split(command, posix=os.name != "nt")
    except ValueError:
        return None
    return parts or None


class SecretCommandError(Exception):
    pass


def resolve_api_key(entry: ProviderEntry, timeout: float = 10.0) -> str | None:
    """``apiKey``, else ``$apiKeyEnv``, else the first stdout line of ``apiKeyCommand``."""
    if entry.api_key:
        return entry.api_key
    if entry.api_key_env:
        value = os.environ.get(entry.api_key_env)
        if value:
            return value.strip()
    if entry.api_key_command:
        argv = _split_command(entry.api_key_command)
        if argv is None:
            raise SecretCommandError("apiKeyCommand cannot be split into arguments")
        import subprocess  # lazily: start-up of every command pays for imports

        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=min(timeout, 10.0),
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError:
            raise SecretCommandError(f"apiKeyCommand: program not found: {argv[0]}")
        except subprocess.TimeoutExpired:
            raise SecretCommandError("apiKeyCommand timed out after 10 s")
        except OSError as exc:
            raise SecretCommandError(f"apiKeyCommand failed: {exc.strerror or exc}")
        if done.returncode != 0:
            raise SecretCommandError(f"apiKeyCommand exited with status {done.returncode}")
        first = done.stdout.decode("utf-8", "replace").strip().splitlines()
        return first[0].strip() if first and first[0].strip() else None
    return None


def _is_secret_setting(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_SETTING_WORDS)


def _mask_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            out[key] = _mask_settings(value)
        elif _is_secret_setting(key) and value not in (None, ""):
            out[key] = mask_value(str(value))
        else:
            out[key] = value
    return out


def dump_config(config: Config) -> dict[str, Any]:
    """The effective config as camelCase JSON with every secret masked (``config dump``)."""
    providers = []
    for entry in config.providers:
        item: dict[str, Any] = {"id": entry.id, "instanceId": entry.instance_id}
        for key, (attr, _check) in _PROVIDER.items():
            if key in ("id", "instanceId"):
                continue
            value = getattr(entry, attr)
            if value is None or (key == "settings" and not value):
                continue
            if key in ("apiKey", "cookieHeader"):
                value = mask_value(value)
            elif key == "settings":
                value = _mask_settings(value)
            item[key] = value
        providers.append(item)
    return {
        "path": str(config.path),
        "exists": config.exists,
        "refreshSec": config.refresh_sec,
        "pluginDirs": config.plugin_dirs,
        "probeTimeoutSec": config.probe_timeout_sec,
        "maxParallel": config.max_parallel,
        "caBundle": config.ca_bundle,
        "daemon": {
            "bind": config.daemon.bind,
            "port": config.daemon.port,
            "apiTokenFile": config.daemon.api_token_file,
            "corsOrigins": config.daemon.cors_origins,
        },
        "notify": {
            "warnPercent": config.notify.warn_percent,
            "criticalPercent": config.notify.critical_percent,
        },
        "providers": providers,
    }
