"""Config parsing, type checks, validation and masking (SPEC §4)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from usagestat.core.config import (
    ConfigError,
    ProviderEntry,
    SecretCommandError,
    dump_config,
    load_config,
    resolve_api_key,
    validate_config,
)

KNOWN = {"claude": ("oauth", "web"), "openai-api": ("api",), "mock": ("local",)}


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert not config.exists and config.refresh_sec == 60 and config.max_parallel == 4
    assert config.daemon.bind == "127.0.0.1" and config.daemon.port == 6736
    assert config.notify.warn_percent == 80 and config.notify.critical_percent == 95


def test_full_example(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
refreshSec = 30
pluginDirs = ["~/more"]
maxParallel = 8
probeTimeoutSec = 12.5
[daemon]
port = 7000
corsOrigins = ["http://localhost:3000"]
[notify]
warnPercent = 70
[[providers]]
id = "claude"
instanceId = "claude-web"
displayName = "Claude Web"
source = "web"
cookieHeader = "sessionKey=sk-ant-sid01-abcdefgh"
[[providers]]
id = "openai-api"
apiKey = "sk-proj-1234567890abcd"
settings = { projectToken = "tok-123456789", color = "blue" }
""",
    )
    config = load_config(path)
    assert (
        config.refresh_sec == 30 and config.max_parallel == 8 and config.probe_timeout_sec == 12.5
    )
    assert config.daemon.port == 7000 and config.daemon.cors_origins == ["http://localhost:3000"]
    assert config.notify.warn_percent == 70
    assert [p.instance_id for p in config.providers] == ["claude-web", "openai-api"]
    assert config.providers[0].source == "web" and config.providers[1].settings["color"] == "blue"
    dumped = dump_config(config)
    text = repr(dumped)
    assert "sk-proj-1234567890abcd" not in text and "sk-…abcd" in text
    assert "sessionKey=sk-ant-sid01-abcdefgh" not in text
    assert "tok-123456789" not in text and dumped["providers"][1]["settings"]["color"] == "blue"


def test_toml_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "refreshSec = 30\nbroken line here\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "line 2, column" in message and str(path) in message
    result = validate_config(path, KNOWN)
    assert not result.valid and "line 2, column" in result.issues[0].message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('refreshSec = "fast"', "refreshSec"),
        ("refreshSec = 5", "refreshSec"),
        ("maxParallel = 0", "maxParallel"),
        ("[daemon]\nport = 70000", "daemon.port"),
        ('pluginDirs = "x"', "pluginDirs"),
        ("[[providers]]\nid = 'claude'\nenabled = 'yes'", "providers[0].enabled"),
        ("[[providers]]\nid = 'Bad_Id'", "providers[0].id"),
        ("[[providers]]\nname = 'x'", "providers[0].id"),
        ("[[providers]]\nid = 'claude'\ninstanceId = 'has space'", "providers[0].instanceId"),
        ("[notify]\nwarnPercent = 99\ncriticalPercent = 50", "notify"),
        ("providers = 3", "providers"),
    ],
)
def test_wrong_types_are_refused_with_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert where in str(info.value)


def test_unknown_keys_are_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "colour = 'red'\n[[providers]]\nid = 'mock'\nflavour = 1\n")
    config = load_config(path)
    assert {w.path for w in config.warnings} == {"colour", "providers[0].flavour"}
    result = validate_config(path, KNOWN)
    assert result.valid and {i.level for i in result.issues} == {"warning"}


def test_validate_reports_semantic_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[providers]]
id = "claud"
[[providers]]
id = "claude"
source = "api"
[[providers]]
id = "mock"
[[providers]]
id = "mock"
[[providers]]
id = "custom"
instanceId = "script"
""",
    )
    result = validate_config(path, KNOWN)
    assert not result.valid
    messages = {issue.path: issue.message for issue in result.issues}
    assert "did you mean 'claude'" in messages["providers[0].id"]
    assert "does not support 'api'" in messages["providers[1].source"]
    assert "duplicate instanceId 'mock'" in messages["providers[3].instanceId"]
    assert "customCommand" in messages["providers[4]"]
    # load_config keeps the first duplicate and only warns
    config = load_config(path)
    assert [p.instance_id for p in config.providers].count("mock") == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_secrets_in_a_world_readable_file_warn(tmp_path: Path) -> None:
    path = write(
        tmp_path, "[[providers]]\nid = 'openai-api'\napiKey = 'sk-1234567890'\n", mode=0o644
    )
    result = validate_config(path, KNOWN)
    assert result.valid
    assert any("chmod 600" in i.message for i in result.issues)
    os.chmod(path, 0o600)
    assert not any("chmod" in i.message for i in validate_config(path, KNOWN).issues)


def test_not_utf8_and_directory(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"refreshSec = 30\n\xff\xfe")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(bad)
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path)


def test_api_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "from-env")
    entry = ProviderEntry(id="x", instance_id="x", index=0, api_key_env="MY_KEY")
    assert resolve_api_key(entry) == "from-env"
    entry.api_key = "inline"
    assert resolve_api_key(entry) == "inline"
    entry = ProviderEntry(
        id="x",
        instance_id="x",
        index=0,
        api_key_command=f"{sys.executable} -c \"print('from-cmd'); print('x')\"",
    )
    assert resolve_api_key(entry) == "from-cmd"
    entry.api_key_command = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    with pytest.raises(SecretCommandError, match="status 3"):
        resolve_api_key(entry)
    entry.api_key_command = "/nonexistent/program"
    with pytest.raises(SecretCommandError, match="not found"):
        resolve_api_key(entry)
