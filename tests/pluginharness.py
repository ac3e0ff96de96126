"""Drive provider plugins through usagestat's real host, against a fake internet.

Provider tests use the ``plugin_env`` fixture::

    def test_normal_account(plugin_env):
        plugin_env.file(".claude/.credentials.json", {"claudeAiOauth": {...}})
        plugin_env.web.add("GET", "https://api.anthropic.com/api/oauth/usage", json={...})
        result = plugin_env.probe("claude")
        assert result.state == "ready"
        assert result.metric("Session")["used"] == 37.0
        plugin_env.assert_no_secrets(result, "the-access-token")

Each probe runs in an isolated worker process exactly as for users: the
plugin's real URLs go through the HTTPS proxy of :mod:`fakeweb` (a MITM proxy
with a test CA passed as ``caBundle``), HOME and the XDG dirs point into a
temp directory, and no provider credential leaks in from the real environment.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "plugins"

#: Environment variables that must never leak from the developer's machine into a test.
_SCRUB_PREFIXES = (
    "ANTHROPIC",
    "CLAUDE",
    "CODEX",
    "OPENAI",
    "GITHUB",
    "GH_",
    "COPILOT",
    "CURSOR",
    "GEMINI",
    "GOOGLE",
    "AWS_",
    "AZURE",
    "USAGESTAT_",
)


def _declared_env_names() -> set[str]:
    names: set[str] = set()
    for manifest in BUNDLED.glob("*/plugin.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        permissions = data.get("permissions") or {}
        names.update(n for n in permissions.get("env", []) if isinstance(n, str))
        detect = data.get("detect") or {}
        names.update(n for n in detect.get("env", []) if isinstance(n, str))
    return names


#: ``USAGESTAT_SECRET_AUDIT=FILE``: one JSON line per probe (read before tests scrub the env).
_AUDIT_FILE = os.environ.get("USAGESTAT_SECRET_AUDIT")
#: Names of config keys, env vars and JSON members whose values are secrets.
_SECRET_NAME = re.compile(
    r"(?i)(token|secret|passw|api[_-]?key|apikey|cookie|session[_-]?(key|id|token)|private[_-]?key)"
)
#: ... unless the name says the value is about the secret, not the secret.
_NOT_SECRET_NAME = re.compile(
    r"(?i)(expir|type|url|uri|endpoint|path|file|dir|name|count|limit|scope|kind|mode|env|hint|"
    r"prefix|label|header|command|source|ttl|_at$|At$|time|date)"
)


def _secret_values(value: str) -> list[str]:
    """The secret parts of a value: a cookie header or ``Bearer x`` holds several."""
    parts = [value]
    if ";" in value or "=" in value:
        parts = [p.partition("=")[2] or p for p in value.split(";")]
    out = []
    for part in parts:
        part = part.strip().split(" ")[-1]
        if len(part) >= 8 and not part.isdigit() and not part.startswith(("http", "/", "~")):
            out.append(part)
    return out


def _secrets_in_json(data: Any, found: dict[str, str], origin: str) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _SECRET_NAME.search(str(key)):
                if not _NOT_SECRET_NAME.search(str(key)):
                    for secret in _secret_values(value):
                        found.setdefault(secret, f"{origin} ({key})")
            else:
                _secrets_in_json(value, found, origin)
    elif isinstance(data, list):
        for item in data:
            _secrets_in_json(item, found, origin)


def make_jwt(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """An unsigned-looking JWT (signature is junk): plugins only decode the payload."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'RS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


@dataclass
class ProbeRun:
    """One probe's outcome in the shapes tests assert on."""

    json: dict[str, Any]
    logs: list[tuple[str, str]] = field(default_factory=list)
    retry_after_sec: float | None = None
    duration_sec: float = 0.0

    @property
    def state(self) -> str:
        return self.json["state"]

    @property
    def error(self) -> str | None:
        error = self.json.get("error")
        return error["message"] if error else None

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return self.json["metrics"]

    def metric(self, label: str) -> dict[str, Any]:
        for line in self.metrics:
            if line.get("label") == label:
                return line
        labels = [m.get("label") for m in self.metrics]
        raise AssertionError(
            f"no metric {label!r}; have {labels} (state {self.state}: {self.error})"
        )

    def has_metric(self, label: str) -> bool:
        return any(line.get("label") == label for line in self.metrics)

    def text(self) -> str:
        """Everything a user or program could see of this run."""
        return json.dumps(self.json) + "\n" + "\n".join(message for _, message in self.logs)


class PluginEnv:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, web: Any) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.web = web
        self.monkeypatch = monkeypatch
        for name in list(os.environ):
            if name.startswith(_SCRUB_PREFIXES) or name in _declared_env_names():
                monkeypatch.delenv(name, raising=False)
        for name in (
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "https_proxy",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "SSL_CERT_FILE",
        ):
            monkeypatch.delenv(name, raising=False)
        env = {
            "HOME": str(self.home),
            "USERPROFILE": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "TZ": "UTC",
        }
        env.update(web.env())
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # secret-tool would talk to a real keyring; keep probes hermetic.
        monkeypatch.setenv("PATH", self._hermetic_path())
        #: Secret values this test handed to the plugin (value -> where it came from):
        #: every probe checks that none of them shows up in what it produced.
        self.secrets: dict[str, str] = {}
        self.audit_secrets = True
        add = web.add

        def recording_add(method: str, url: str, **kwargs: Any) -> Any:
            if kwargs.get("json") is not None:
                _secrets_in_json(kwargs["json"], self.secrets, f"a response of {url}")
            return add(method, url, **kwargs)

        monkeypatch.setattr(web, "add", recording_add)

    def _hermetic_path(self) -> str:
        keep = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir(exist_ok=True)
        return os.pathsep.join([str(bin_dir), *keep])

    # -- files -------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        return self.home / rel

    def file(self, rel: str, content: Any, mode: int = 0o600) -> Path:
        """Write a file under the temp HOME (dicts/lists as JSON)."""
        path = self.home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            _secrets_in_json(content, self.secrets, f"the file ~/{rel}")
            path.write_text(json.dumps(content), encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        os.chmod(path, mode)
        return path

    def read_json(self, rel: str) -> Any:
        return json.loads((self.home / rel).read_text(encoding="utf-8"))

    def setenv(self, name: str, value: str) -> None:
        if _SECRET_NAME.search(name) and not _NOT_SECRET_NAME.search(name):
            for secret in _secret_values(value):
                self.secrets.setdefault(secret, f"${name}")
        self.monkeypatch.setenv(name, value)

    def fake_command(self, name: str, script: str) -> Path:
        """Put an executable ``name`` first on PATH (a shell script body)."""
        path = self.tmp / "bin" / name
        path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    # -- probing -----------------------------------------------------------------
    def probe(
        self,
        provider_id: str,
        *,
        source: str | None = None,
        plugin_dirs: list[str] | None = None,
        timeout: float = 20.0,
        pool: Any = None,
        **entry: Any,
    ) -> ProbeRun:
        """Probe one provider through the real host; ``entry`` = config keys in snake_case.

        ``pool``: a warm ``WorkerPool`` to probe in, for tests that probe hundreds of
        times (by default every probe starts its own worker)."""
        from usagestat.core.config import Config, ProviderEntry
        from usagestat.core.serialize import to_json
        from usagestat.plugins.discovery import discover
        from usagestat.plugins.instances import resolve_instances, select
        from usagestat.plugins.probe import ProbeOptions, probe_many

        instance_id = entry.pop("instance_id", provider_id)
        for key in ("api_key", "cookie_header"):
            for secret in _secret_values(entry.get(key) or ""):
                self.secrets.setdefault(secret, f"config {key}")
        _secrets_in_json(entry.get("settings") or {}, self.secrets, "config settings")
        provider = ProviderEntry(id=provider_id, instance_id=instance_id, index=0, **entry)
        config = Config(
            path=self.tmp / "config.toml",
            exists=False,
            ca_bundle=str(self.web.ca_path),
            probe_timeout_sec=timeout,
            providers=[provider],
        )
        registry = discover(plugin_dirs or [], [], include_cwd=False)
        resolution = resolve_instances(config, registry)
        instances = select(resolution, registry, [instance_id])
        logs: list[tuple[str, str]] = []
        options = ProbeOptions(
            source=source, on_log=lambda _i, level, msg: logs.append((level, msg)), pool=pool
        )
        outcome = probe_many(instances, config, options)[0]
        run = ProbeRun(
            to_json(outcome.snapshot), logs, outcome.retry_after_sec, outcome.duration_sec
        )
        self._audit(run, provider_id)
        return run

    def _audit(self, run: ProbeRun, provider_id: str) -> None:
        """No secret this test gave the plugin may appear in its snapshot or log lines.

        ``USAGESTAT_SECRET_AUDIT=FILE`` also appends one JSON line per probe to FILE
        (how many secrets were checked), for the figures in docs/security.md.
        """
        text = run.text()
        leaked = sorted(origin for secret, origin in self.secrets.items() if secret in text)
        if _AUDIT_FILE:
            with open(_AUDIT_FILE, "a", encoding="utf-8") as handle:
                handle.write(
                    json.dumps(
                        {
                            "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
                            "provider": provider_id,
                            "secrets": len(self.secrets),
                            "leaked": leaked,
                        }
                    )
                    + "\n"
                )
        if self.audit_secrets and leaked:
            raise AssertionError(
                f"{provider_id}: a secret from {leaked[0]} appears in the snapshot or log lines"
            )

    def cli(
        self, *args: str, config_text: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m usagestat …`` with this environment (and ``caBundle`` set)."""
        config = self.tmp / "cli-config.toml"
        body = f'caBundle = "{self.web.ca_path}"\n' + (config_text or "")
        config.write_text(body, encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "usagestat", "--config", str(config), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    # -- assertions ----------------------------------------------------------------
    def assert_no_secrets(self, run: ProbeRun, *secrets: str) -> None:
        text = run.text()
        for secret in secrets:
            assert secret not in text, f"secret {secret[:4]}… leaked into output or logs"

    def requests_to(self, url: str, method: str | None = None) -> list[Any]:
        return self.web.requests_to(url, method)


_POOL: Any = None


def _shared_pool() -> Any:
    """Warm probe workers shared by the whole test session (each probe still gets a
    fresh JS context and the caller's current environment), as the daemon uses them."""
    global _POOL
    if _POOL is None:
        import atexit

        from usagestat.plugins.isolation import WorkerPool

        _POOL = WorkerPool(size=4)
        atexit.register(_POOL.close)
    return _POOL


@pytest.fixture
def plugin_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakeweb: Any) -> PluginEnv:
    return PluginEnv(tmp_path, monkeypatch, fakeweb)
