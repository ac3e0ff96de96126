"""Secrets never leave: outputs, logs, cache, history and HTTP answers hold none (SPEC §6).

Two layers:

* every bundled plugin's fixture tests run through ``plugin_env`` (tests/
  pluginharness.py), which records every secret a test hands to a plugin (config
  keys and cookies, secret-named env vars, credential files, tokens in fake API
  answers) and fails the probe if any shows up in its snapshot or log lines;
  ``test_the_harness_audit_catches_a_leak`` keeps that audit honest;
* here, every bundled plugin runs in the real daemon (``--verbose``) and the
  CLI with unique secrets, against a fake internet that echoes every request
  (headers, query, body) back in its answers; then every output, log line,
  HTTP answer, cache and history byte is searched for every secret.

Also: files and directories usagestat creates are 0600/0700, and a config that
holds secrets but is readable by others gives a warning.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fakeweb import FakeRequest, FakeResponse, FakeWeb, Route
from tmpplugins import NO_PERMISSIONS, make_plugin

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from daemon.harness import Daemon  # noqa: E402

BUNDLED = sorted(p.parent.name for p in (REPO / "plugins").glob("*/plugin.json"))


def test_the_harness_audit_catches_a_leak(plugin_env, tmp_path: Path) -> None:
    """A plugin that shows a token from an API answer it never uses (the host cannot know it
    is one): the harness must fail the probe, or every plugin test would prove nothing."""
    plugin_env.web.add(
        "POST", "https://auth.example.com/token", json={"access_token": "plain-looking-value-1234"}
    )
    make_plugin(
        tmp_path / "p",
        "leaky",
        "var r = ctx.host.http.request({url: 'https://auth.example.com/token', method: 'POST'});"
        " return {metrics: [ctx.line.text({label: 't', value: JSON.parse(r.bodyText).access_token})]};",
        permissions={**NO_PERMISSIONS, "http": ["auth.example.com"]},
    )
    with pytest.raises(AssertionError, match=r"a response of https://auth\.example\.com/token"):
        plugin_env.probe("leaky", plugin_dirs=[str(tmp_path / "p")])


# -- every bundled plugin in the daemon and the CLI, against an echoing internet ---------------


class EchoWeb(FakeWeb):
    """Answers any request nobody registered with an echo of everything it received."""

    def _route(self, req: FakeRequest) -> Route | None:
        route = super()._route(req)
        if route is not None:
            return route
        echo = {
            "error": {"message": f"invalid credentials for {req.url}", "type": "auth"},
            "received": {"url": req.url, "headers": req.headers, "body": req.text()},
        }
        status = (401, 200, 500, 403)[sum(req.host.encode()) % 4]
        response = FakeResponse(status, {"Content-Type": "application/json"}, json.dumps(echo))
        return Route("*", req.scheme, req.host, req.port, req.path, None, lambda _r: response)


@pytest.fixture
def echoweb(fakeweb_ca):
    ca, path = fakeweb_ca
    web = EchoWeb(ca=ca, ca_path=path).start()
    yield web
    web.stop()


def secret(kind: str, plugin_id: str) -> str:
    return f"{kind}-{plugin_id}-S3cr3t{abs(hash((kind, plugin_id))) % 10**8:08d}"


def declared_env(plugin_id: str) -> list[str]:
    manifest = json.loads((REPO / "plugins" / plugin_id / "plugin.json").read_text())
    names = set((manifest.get("permissions") or {}).get("env", []))
    names |= set((manifest.get("detect") or {}).get("env", []))
    return sorted(n for n in names if any(w in n for w in ("KEY", "TOKEN", "SECRET", "COOKIE")))


def build_world(root: Path, web: FakeWeb) -> tuple[dict[str, str], Path, dict[str, str]]:
    """Config, env and credential files full of unique secrets; returns (secrets, config, env)."""
    secrets: dict[str, str] = {}
    home = root / "home"
    home.mkdir()
    lines = [f'caBundle = "{web.ca_path}"', "maxParallel = 8", "probeTimeoutSec = 15", ""]
    env = {**web.env(), "TZ": "UTC"}
    for plugin_id in BUNDLED:
        key, cookie, setting = (secret(k, plugin_id) for k in ("key", "cookie", "setting"))
        secrets.update({key: f"{plugin_id} apiKey", cookie: f"{plugin_id} cookie"})
        secrets[setting] = f"{plugin_id} settings.token"
        lines += [
            "[[providers]]",
            f'id = "{plugin_id}"',
            f'apiKey = "{key}"',
            f'cookieHeader = "session={cookie}; theme=dark"',
            f'settings = {{ token = "{setting}", region = "us" }}',
            "",
        ]
        for name in declared_env(plugin_id):
            env[name] = secret(name.lower(), plugin_id)
            secrets[env[name]] = f"${name}"
    lines += ["[[providers]]", 'id = "mock"', "enabled = false", ""]
    config = root / "config.toml"
    config.write_text("\n".join(lines))
    config.chmod(0o644)  # readable by others on purpose: that must warn
    # Credential files of two OAuth agents, one expired (so the refresh path runs too).
    claude = {
        "claudeAiOauth": {
            "accessToken": secret("claude-access", "x"),
            "refreshToken": secret("claude-refresh", "x"),
            "expiresAt": 1_000_000_000_000,
            "scopes": ["user:inference", "user:profile"],
        }
    }
    codex = {
        "tokens": {
            "access_token": secret("codex-access", "x"),
            "refresh_token": secret("codex-refresh", "x"),
            "account_id": "acc-1234",
        },
        "last_refresh": "2030-01-10T08:00:00.000000Z",
    }
    for rel, data in ((".claude/.credentials.json", claude), (".codex/auth.json", codex)):
        path = home / rel
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data))
        path.chmod(0o600)
    for data in (claude["claudeAiOauth"], codex["tokens"]):
        for name, value in data.items():
            if "token" in name.lower():
                secrets[value] = f"credential file {name}"
    return secrets, config, env


def grep(secrets: dict[str, str], where: str, text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [f"{origin} in {where}" for value, origin in secrets.items() if value in text]


def test_no_secret_in_any_output_log_file_or_answer(tmp_path: Path, echoweb: EchoWeb) -> None:
    secrets, config, env = build_world(tmp_path, echoweb)
    old_umask = os.umask(0o022)
    daemon = Daemon(tmp_path / "home", config, tmp_path / "no-plugins", ["--verbose"], env)
    try:
        (tmp_path / "no-plugins").mkdir()
        daemon.start()
        daemon.wait_for(
            lambda: len(daemon.get("/v1/usage").json()) >= len(BUNDLED), timeout=90, interval=0.5
        )
        answers: dict[str, bytes] = {}
        daemon.request("POST", "/v1/refresh")
        for path in (
            "/health",
            "/v1/providers",
            "/v1/usage",
            "/metrics",
            "/openapi.json",
            "/v1/usage?refresh=true",
            *(f"/v1/usage/{p}" for p in BUNDLED),
        ):
            answers[path] = daemon.get(path, timeout=60).body
        code, _ = daemon.terminate()
        assert code == 0
        cli_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **daemon.env, **env}
        outputs: dict[str, str] = {}
        for args in (
            ["--verbose", "--json", "usage", "--save", "--all"],
            ["--verbose", "usage", "--all", "--status"],
            ["--json", "config", "dump"],
            ["config", "validate"],
            ["--json", "list", "--permissions"],
            ["export", "--from-history", "--format", "jsonl"],
            ["doctor"],
        ):
            done = subprocess.run(
                [sys.executable, "-m", "usagestat", "--config", str(config), *args],
                capture_output=True,
                text=True,
                env=cli_env,
                cwd=tmp_path,
                timeout=180,
            )
            outputs[" ".join(args)] = done.stdout + "\n" + done.stderr
            assert "Traceback" not in done.stderr, done.stderr[-2000:]
    finally:
        os.umask(old_umask)
        daemon.kill()
    # The secrets were really used: they went out in requests to the (echoing) providers.
    sent = "\n".join(r.url + json.dumps(r.headers) + r.text() for r in echoweb.requests)
    used = [value for value in secrets if value in sent]
    senders = {secrets[value].split()[0] for value in used}
    assert len(senders) >= len(BUNDLED) * 2 // 3, f"only {sorted(senders)} sent a secret"
    hits = grep(secrets, "the daemon log", daemon.log)
    for path, body in answers.items():
        hits += grep(secrets, f"GET {path}", body)
    for command, text in outputs.items():
        hits += grep(secrets, f"usagestat {command}", text)
    data = daemon.data_dir
    stored = [p for p in data.rglob("*") if p.is_file() and "plugin-data" not in p.parts]
    assert (data / "history.jsonl").exists() and stored
    for path in stored:
        hits += grep(secrets, str(path.relative_to(data)), path.read_bytes())
    assert hits == [], hits[:20]
    # A config holding secrets that others can read: both the daemon and the CLI say so.
    assert "readable by other users" in daemon.log
    assert "readable by other users" in outputs["--json config dump"]
    check_private_modes(daemon.home)
    print(
        f"\nsecrets: {len(secrets)} checked, {len(used)} sent out, {len(stored)} files, "
        f"{len(answers)} HTTP answers, {len(outputs)} CLI runs, 0 hits"
    )


def check_private_modes(home: Path) -> None:
    """What usagestat created under HOME is 0700 (dirs) / 0600 (files), umask 022 or not."""
    loose = []
    for base in (home / ".local/share/usagestat", home / ".cache/usagestat"):
        if not base.exists():
            continue
        for path in [base, *base.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                continue
            if mode & 0o077:  # nothing for the group or others
                loose.append(f"{path.relative_to(home)} {mode:o}")
    assert loose == [], loose


def test_files_created_by_every_writer_are_private(tmp_path: Path) -> None:
    """config init, usage --save, auth import-cookies --save, pricing update, cost (log index)."""
    from cookiestores import chromium_profile

    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / ".config"),
        XDG_DATA_HOME=str(tmp_path / ".local/share"),
        XDG_CACHE_HOME=str(tmp_path / ".cache"),
        TZ="UTC",
    )
    chromium_profile(
        tmp_path / ".config" / "google-chrome",
        "Default",
        [{"host_key": ".claude.ai", "name": "sessionKey", "value": "sk-ant-sid01-PRIVATE-MODES"}],
    )
    log = tmp_path / ".claude" / "projects" / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(
        json.dumps(
            {
                "type": "assistant",
                "timestamp": "2026-01-15T10:00:00Z",
                "requestId": "req_1",
                "message": {
                    "id": "msg_1",
                    "model": "claude-sonnet-4-5",
                    "usage": {"input_tokens": 10, "output_tokens": 20},
                },
            }
        )
        + "\n"
    )
    prices = tmp_path / "prices.json"
    table = json.loads((REPO / "usagestat" / "core" / "pricing.json").read_text())
    prices.write_text(json.dumps(dict(table, date="2099-01-01")))
    writers = (
        ["config", "init"],
        ["--json", "usage", "mock", "--save"],
        ["auth", "import-cookies", "--provider", "claude", "--browser", "chrome", "--save"],
        ["pricing", "update", "--from", str(prices)],
        ["cost", "--provider", "claude", "--days", "3"],
    )
    old_umask = os.umask(0o022)
    try:
        for args in writers:
            done = subprocess.run(
                [sys.executable, "-m", "usagestat", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert done.returncode == 0, (args, done.stderr)
    finally:
        os.umask(old_umask)
    config = tmp_path / ".config/usagestat/config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert "cookieHeader" in config.read_text()  # the import really wrote the config
    check_private_modes(tmp_path)
    data = tmp_path / ".local/share/usagestat"
    assert (data / "history.jsonl").exists()
    assert (data / "pricing.json").exists()
    assert list((data / "log-index").iterdir())


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_secrets_in_a_config_readable_by_others_warn(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[providers]]\nid = "mock"\napiKey = "sk-live-0123456789abcdef"\n')
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
        config.chmod(mode)
        done = subprocess.run(
            [sys.executable, "-m", "usagestat", "--config", str(config), "list"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0
        assert ("readable by other users; run: chmod 600" in done.stderr) is warned, mode
        assert "sk-live-0123456789abcdef" not in done.stdout + done.stderr
