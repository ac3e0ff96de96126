"""Host calls outside a plugin's declared permissions are refused (SPEC §3.4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tmpplugins import NO_PERMISSIONS, make_plugin


def text_probe(expr: str) -> str:
    """A probe that reports ``expr`` (or the error it throws) as a text line."""
    return (
        "var v; try { v = JSON.stringify(" + expr + "); } catch (e) { v = 'ERR ' + e.message; }"
        " return {metrics: [ctx.line.text({label: 'r', value: String(v)})]};"
    )


def probe_value(
    plugin_env, tmp_path: Path, expr: str, permissions=None, manifest=None, **entry
) -> str:
    perms = dict(NO_PERMISSIONS)
    if permissions != "legacy":
        perms.update(permissions or {})
    make_plugin(
        tmp_path / "plugins", "perm", text_probe(expr), permissions=perms, manifest=manifest
    )
    if permissions == "legacy":
        data = json.loads((tmp_path / "plugins/perm/plugin.json").read_text())
        data.pop("permissions")
        (tmp_path / "plugins/perm/plugin.json").write_text(json.dumps(data))
    run = plugin_env.probe("perm", plugin_dirs=[str(tmp_path / "plugins")], **entry)
    assert run.state == "ready", run.error
    return run.metric("r")["value"]


def test_undeclared_http_host(plugin_env, tmp_path: Path) -> None:
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.http.request({url: 'https://api.example.com/x'})",
        {"http": ["other.example.com"]},
    )
    assert value == "ERR permission denied: http api.example.com (not declared by perm)"
    assert plugin_env.web.requests == []


def test_declared_host_wildcards_and_ports(plugin_env, tmp_path: Path) -> None:
    plugin_env.web.add("GET", "https://eu.api.example.com/x", json={"ok": 1})
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.http.request({url: 'https://eu.api.example.com/x'}).status",
        {"http": ["*.example.com"]},
    )
    assert value == "200"
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.http.request({url: 'https://example.com:8443/x'})",
        {"http": ["example.com:443"]},
    )
    assert value.startswith("ERR permission denied: http example.com")


def test_plain_http_only_to_loopback(plugin_env, tmp_path: Path) -> None:
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.http.request({url: 'http://api.example.com/x'})",
        {"http": ["api.example.com"]},
    )
    assert "plain http is only allowed to loopback hosts" in value


def test_base_url_host_is_allowed(plugin_env, tmp_path: Path) -> None:
    plugin_env.web.add("GET", "https://proxy.internal.example/v1/x", json={})
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.http.request({url: ctx.provider.baseUrl + '/v1/x'}).status",
        base_url="https://proxy.internal.example",
    )
    assert value == "200"


def test_redirects_are_not_followed(plugin_env, tmp_path: Path) -> None:
    plugin_env.web.add(
        "GET",
        "https://api.example.com/start",
        status=302,
        headers={"Location": "https://evil.example.net/steal"},
    )
    value = probe_value(
        plugin_env,
        tmp_path,
        "(function(){var r = ctx.host.http.request({url: 'https://api.example.com/start'}); return [r.status, r.headers.location];})()",
        {"http": ["api.example.com"]},
    )
    assert json.loads(value) == [302, "https://evil.example.net/steal"]
    assert all(r.host != "evil.example.net" for r in plugin_env.web.requests)


def test_undeclared_env_var(plugin_env, tmp_path: Path) -> None:
    plugin_env.setenv("SECRET_THING", "s3cr3t-value")
    plugin_env.setenv("ALLOWED_THING", "fine")
    value = probe_value(
        plugin_env,
        tmp_path,
        "[ctx.host.env.get('ALLOWED_THING'), ctx.host.env.get('UNSET_ONE')]",
        {"env": ["ALLOWED_THING", "UNSET_ONE"]},
    )
    assert json.loads(value) == ["fine", None]
    value = probe_value(
        plugin_env, tmp_path, "ctx.host.env.get('SECRET_THING')", {"env": ["ALLOWED_THING"]}
    )
    assert value == "ERR permission denied: env SECRET_THING (not declared by perm)"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/shadow", "not declared"),
        ("/etc/hostname", "not declared"),
        ("~/.ssh/id_rsa", "private location"),
        ("~/.local/share/usagestat/plugin-data/other/state.json", "private location"),
        ("~/.config/usagestat/config.toml", "private location"),
        ("~/../../etc/passwd", "not declared"),
    ],
)
def test_reads_outside_declared_roots(plugin_env, tmp_path: Path, path: str, reason: str) -> None:
    (plugin_env.home / ".ssh").mkdir()
    (plugin_env.home / ".ssh/id_rsa").write_text("PRIVATE")
    value = probe_value(
        plugin_env, tmp_path, f"ctx.host.fs.readText({json.dumps(path)})", {"fs": ["~/.tool", "~"]}
    )
    assert value.startswith("ERR permission denied: fs") and reason in value
    assert "PRIVATE" not in value


def test_symlink_out_of_a_root_is_refused(plugin_env, tmp_path: Path) -> None:
    (plugin_env.home / ".tool").mkdir()
    os.symlink("/etc", plugin_env.home / ".tool" / "etc")
    value = probe_value(
        plugin_env, tmp_path, "ctx.host.fs.readText('~/.tool/etc/hostname')", {"fs": ["~/.tool"]}
    )
    assert value.startswith("ERR permission denied: fs")


def test_declared_root_and_env_expansion(plugin_env, tmp_path: Path) -> None:
    plugin_env.file(".tool/a.txt", "hello")
    plugin_env.file("elsewhere/b.txt", "there")
    plugin_env.setenv("TOOL_HOME", str(plugin_env.home / "elsewhere"))
    value = probe_value(
        plugin_env,
        tmp_path,
        "[ctx.host.fs.readText('~/.tool/a.txt'), ctx.host.fs.readText(ctx.host.env.get('TOOL_HOME') + '/b.txt'), ctx.host.fs.listDir('~/.tool')]",
        {"fs": ["~/.tool", "$TOOL_HOME", "$UNSET_VAR/x"], "env": ["TOOL_HOME"]},
    )
    assert json.loads(value) == ["hello", "there", ["a.txt"]]


def test_comma_separated_claude_config_dir(plugin_env, tmp_path: Path) -> None:
    # Each absolute part is a root of its own; a relative part or "/" grants nothing.
    plugin_env.file("cfg-a/a.txt", "a")
    plugin_env.file("cfg-b/b.txt", "b")
    plugin_env.file("between/c.txt", "c")
    home = plugin_env.home
    plugin_env.setenv("CLAUDE_CONFIG_DIR", f"{home}/cfg-a, {home}/cfg-b,between,/,/x/..")
    reads = ", ".join(
        f"(function () {{ try {{ return ctx.host.fs.readText({json.dumps(p)}); }}"
        " catch (e) { return e.message.slice(0, 21); } })()"
        for p in ("~/cfg-a/a.txt", "~/cfg-b/b.txt", "~/between/c.txt", "/etc/hostname")
    )
    value = probe_value(
        plugin_env,
        tmp_path,
        f"[{reads}]",
        {"fs": ["$CLAUDE_CONFIG_DIR"], "env": ["CLAUDE_CONFIG_DIR"]},
    )
    denied = "permission denied: fs"
    assert json.loads(value) == ["a", "b", denied, denied]
    # Logs in every part are counted by ctx.host.usage.scanLogs.
    for n, part in enumerate(("cfg-a", "cfg-b")):
        line = {
            "type": "assistant",
            "timestamp": "2026-01-15T12:00:00.000Z",
            "requestId": f"r{n}",
            "message": {"id": f"m{n}", "model": "claude-opus-4-6", "usage": {"input_tokens": 10}},
        }
        plugin_env.file(f"{part}/projects/p/s.jsonl", json.dumps(line) + "\n")
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.usage.scanLogs({provider: 'claude'}).totals.inputTokens",
        {"fs": ["$CLAUDE_CONFIG_DIR"], "env": ["CLAUDE_CONFIG_DIR"]},
    )
    assert value == "20"
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.usage.scanLogs({provider: 'claude'}).totals.inputTokens",
        {"fs": ["$CLAUDE_CONFIG_DIR/projects"], "env": ["CLAUDE_CONFIG_DIR"]},
    )
    assert value == "20"


def test_writes_only_to_data_dir_and_declared_files(plugin_env, tmp_path: Path) -> None:
    creds = plugin_env.file(".tool/creds.json", "{}", mode=0o640)
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.fs.writeText('~/.tool/other.json', 'x')",
        {"fs": ["~/.tool"], "fsWrite": ["~/.tool/creds.json"]},
    )
    assert value.startswith("ERR permission denied: fsWrite")
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.fs.writeText('~/.tool/creds.json', '{\"a\":1}')",
        {"fs": ["~/.tool"], "fsWrite": ["~/.tool/creds.json"]},
    )
    assert (
        value == "null" and creds.read_text() == '{"a":1}' and creds.stat().st_mode & 0o777 == 0o640
    )
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.fs.writeText('~/.tool/creds.json', 'y')",
        {"fs": ["~/.tool"], "fsWrite": ["~/.tool/creds.json"]},
        write_credentials=False,
    )
    assert "writeCredentials is off" in value
    value = probe_value(
        plugin_env,
        tmp_path,
        "(ctx.host.fs.writeText(ctx.app.pluginDataDir + '/s.json', 'ok'), ctx.host.fs.readText(ctx.app.pluginDataDir + '/s.json'))",
    )
    assert value == '"ok"'


def test_commands(plugin_env, tmp_path: Path) -> None:
    plugin_env.fake_command("tool", 'echo "args:$1|$2"')
    plugin_env.fake_command("other", "echo no")
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.command.run({program: 'other', args: []})",
        {"commands": ["tool"]},
    )
    assert value == "ERR permission denied: command other (not declared by perm)"
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.command.run({program: 'tool', args: ['a; rm -rf /', '$(id)']}).stdout",
        {"commands": ["tool"]},
    )
    assert json.loads(value) == "args:a; rm -rf /|$(id)\n"  # no shell: metacharacters are literal
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.command.run({program: './tool', args: []})",
        {"commands": ["tool"]},
    )
    assert value.startswith("ERR permission denied: command")
    plugin_env.fake_command("sleepy", "sleep 30")
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.command.run({program: 'sleepy', args: [], timeoutMs: 300})",
        {"commands": ["sleepy"]},
    )
    assert "timed out" in value


def test_keychain_must_be_declared(plugin_env, tmp_path: Path) -> None:
    value = probe_value(
        plugin_env,
        tmp_path,
        "ctx.host.keychain.readGenericPassword('Other-credentials')",
        {"keychain": ["Claude Code-credentials*"]},
    )
    assert value == "ERR permission denied: keychain Other-credentials (not declared by perm)"


def test_legacy_profile(plugin_env, tmp_path: Path) -> None:
    plugin_env.file(".tool/a.txt", "legacy ok")
    (plugin_env.home / ".ssh").mkdir()
    plugin_env.web.add("GET", "https://anything.example.org/x", json={})
    value = probe_value(
        plugin_env,
        tmp_path,
        "[ctx.host.fs.readText('~/.tool/a.txt'), ctx.host.http.request({url: 'https://anything.example.org/x'}).status, ctx.host.env.get('HOME') !== null]",
        "legacy",
    )
    assert json.loads(value) == ["legacy ok", 200, True]
    assert probe_value(plugin_env, tmp_path, "ctx.host.fs.listDir('~/.ssh')", "legacy").startswith(
        "ERR permission denied"
    )
    assert probe_value(
        plugin_env, tmp_path, "ctx.host.env.get('AWS_SECRET_ACCESS_KEY')", "legacy"
    ).startswith("ERR permission denied")
    assert probe_value(
        plugin_env, tmp_path, "ctx.host.fs.writeText('~/.tool/a.txt', 'x')", "legacy"
    ).startswith("ERR permission denied")


def test_sqlite_is_read_only(plugin_env, tmp_path: Path) -> None:
    import sqlite3

    db = plugin_env.home / ".tool" / "state.vscdb"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute("create table ItemTable (key text, value blob)")
    conn.execute("insert into ItemTable values ('cursorAuth/accessToken', 'tok'), ('bin', x'ff00')")
    conn.commit()
    conn.close()
    value = probe_value(
        plugin_env,
        tmp_path,
        "JSON.parse(ctx.host.sqlite.query('~/.tool/state.vscdb', 'SELECT key, value FROM ItemTable ORDER BY key'))",
        {"fs": ["~/.tool"]},
    )
    assert json.loads(value) == [
        {"key": "bin", "value": "ff00"},
        {"key": "cursorAuth/accessToken", "value": "tok"},
    ]
    for sql in (
        "DELETE FROM ItemTable",
        "SELECT 1; DROP TABLE ItemTable",
        "ATTACH DATABASE '/tmp/x' AS x",
    ):
        value = probe_value(
            plugin_env,
            tmp_path,
            f"ctx.host.sqlite.query('~/.tool/state.vscdb', {json.dumps(sql)})",
            {"fs": ["~/.tool"]},
        )
        assert value.startswith("ERR sqlite.query")
    # a locked database is read from a copy
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        value = probe_value(
            plugin_env,
            tmp_path,
            "JSON.parse(ctx.host.sqlite.query('~/.tool/state.vscdb', 'SELECT count(*) AS n FROM ItemTable'))",
            {"fs": ["~/.tool"]},
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert json.loads(value) == [{"n": 2}]
