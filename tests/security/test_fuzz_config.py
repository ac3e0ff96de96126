"""Random and hostile config files: always a clear one-line error or a usable config (SPEC §4).

Covers random TOML documents, valid configs with values of the wrong type,
huge arrays and tables, nesting deeper than the recursion limit, numbers
beyond any range, and random bytes; through ``load_config``/``validate_config``
and through the real CLI and daemon entry points.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, datetime, time
from pathlib import Path

from homes import private_home
from hypothesis import given
from hypothesis import strategies as st

from usagestat.core.config import Config, ConfigError, load_config, validate_config

from .conftest import fuzz

REPO = Path(__file__).resolve().parents[2]
VALID = """\
refreshSec = 60
pluginDirs = ["~/plugins"]
probeTimeoutSec = 20
maxParallel = 4
caBundle = "/etc/ssl/certs/ca-certificates.crt"

[daemon]
bind = "127.0.0.1"
port = 6736
apiTokenFile = "~/.config/usagestat/token"
corsOrigins = ["http://dash.example"]

[notify]
warnPercent = 80
criticalPercent = 95

[[providers]]
id = "claude"
instanceId = "claude-work"
displayName = "Claude (work)"
enabled = true
source = "oauth"
apiKey = "sk-ant-example-0123456789"
writeCredentials = false
settings = { region = "eu", token = "t-0123456789" }

[[providers]]
id = "custom"
customCommand = "/usr/local/bin/usage --json"
"""
KEYS = [
    "refreshSec",
    "pluginDirs",
    "probeTimeoutSec",
    "maxParallel",
    "caBundle",
    "daemon",
    "notify",
    "providers",
    "bind",
    "port",
    "apiTokenFile",
    "corsOrigins",
    "id",
    "instanceId",
    "enabled",
    "source",
    "settings",
    "apiKeyCommand",
    "customCommand",
    "warnPercent",
]


def toml_value(value) -> str:
    """A TOML rendering of ``value`` (inline forms only)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a valid TOML basic string for BMP text without surrogates
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


toml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    toml_text,
    st.sampled_from(["claude", "mock", "custom", "auto", "web", "0.0.0.0", "~/x", "$HOME"]),
    st.datetimes(),
    st.dates(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), toml_text), inner, max_size=4),
    ),
    max_leaves=15,
)
documents = st.dictionaries(st.one_of(st.sampled_from(KEYS), toml_text), toml_values, max_size=6)


def render(document: dict) -> str:
    lines = []
    for key, value in document.items():
        if (
            key == "providers"
            and isinstance(value, list)
            and all(isinstance(v, dict) for v in value)
        ):
            for table in value:
                lines.append("[[providers]]")
                lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
            continue
        lines.append(f"{json.dumps(key)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


@st.composite
def wrong_types(draw) -> str:
    """The valid config with one value replaced by something of another type."""
    lines = VALID.splitlines()
    candidates = [n for n, line in enumerate(lines) if " = " in line]
    index = draw(st.sampled_from(candidates))
    key = lines[index].split(" = ", 1)[0]
    lines[index] = f"{key} = {toml_value(draw(toml_values))}"
    return "\n".join(lines) + "\n"


@st.composite
def byte_damage(draw) -> bytes:
    data = bytearray(VALID.encode())
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


HOSTILE = [
    "a = " + "[" * 50_000 + "]" * 50_000,
    "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
    "refreshSec = " + "9" * 5_000,
    "refreshSec = 1e400",
    "maxParallel = -9223372036854775808",
    "pluginDirs = [" + ", ".join(['"d"'] * 100_000) + "]",
    "[[providers]]\nid = 'x'\n" * 5_000,
    "[[providers]]\nid = 'x'\nsettings = {" + ", ".join(f"k{n} = {n}" for n in range(50_000)) + "}",
    "[[providers]]\nid = 'x'\nsettings = " + "{a = " * 3_000 + "1" + "}" * 3_000,
    'caBundle = "\\ud800"',
    "\ufeffrefreshSec = 60",
    "refreshSec = 60\x00",
    "[daemon]\nport = 65536",
    "[daemon]\nport = true",
    "providers = 5",
    "daemon = [1, 2]",
]

configs = st.one_of(
    documents.map(render).map(str.encode),
    wrong_types().map(str.encode),
    byte_damage(),
    st.binary(max_size=200),
    st.sampled_from(HOSTILE).map(str.encode),
)


def check_outcome(path: Path) -> None:
    """load_config: a Config or ConfigError (one line naming the file); validate never raises."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "\n" not in message and "Traceback" not in message
        assert len(message) < 2000
    else:
        assert isinstance(config, Config)
        assert config.refresh_sec >= 10 and 1 <= config.max_parallel <= 256
        assert 0 <= config.daemon.port <= 65535
        assert all(isinstance(d, str) for d in config.plugin_dirs)
    result = validate_config(path, {"claude": ("oauth", "api"), "mock": ("mock",)})
    for issue in result.issues:
        assert issue.level in ("error", "warning")
        assert isinstance(issue.message, str) and issue.message and "\n" not in issue.message
    json.dumps([issue.__dict__ for issue in result.issues]).encode("utf-8")


@fuzz(400)
@given(raw=configs)
def test_config_files_give_a_config_or_one_clear_error(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("config") / "config.toml"
    path.write_bytes(raw)
    check_outcome(path)


def test_hostile_configs_through_the_cli(tmp_path: Path, monkeypatch) -> None:
    """The CLI prints one line and exits 1 for each; no traceback, no 'unexpected error'."""
    from usagestat.cli.app import run

    for name, value in private_home(tmp_path).items():
        monkeypatch.setenv(name, value)
    for n, text in enumerate(HOSTILE):
        path = tmp_path / f"c{n}.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for argv in (
            ["--config", str(path), "list"],
            ["--config", str(path), "config", "validate"],
        ):
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = run(argv)
            assert code in (0, 1), (text[:60], code, err.getvalue())
            assert "Traceback" not in err.getvalue() and "unexpected error" not in err.getvalue()
            if code == 1 and argv[-1] == "list":
                assert len(err.getvalue().strip().splitlines()) == 1, err.getvalue()


def test_hostile_config_stops_the_daemon_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HOSTILE[0])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **private_home(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "usagestat", "daemon", "--config", str(config), "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid TOML" in lines[0], done.stderr
