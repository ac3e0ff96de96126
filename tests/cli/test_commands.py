"""Every other command, flag, output shape and exit code of SPEC §7, as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import NOW, ROOT, Cli

SLOW_PROBE = """
var end = Date.now() + %d;
while (Date.now() < end) {}
return {metrics: [ctx.line.text({label: "Done", value: "yes"})]};
"""


# -- the command line itself --------------------------------------------------------


def test_version_is_fast_path_and_verbose_adds_licences(cli: Cli) -> None:
    import usagestat

    for flag in ("-V", "--version"):
        result = cli.call(flag)
        assert (result.code, result.stdout) == (0, f"usagestat {usagestat.__version__}\n")
    verbose = cli.call("--version", "--verbose")
    assert verbose.code == 0
    assert "QuickJS" in verbose.stdout and "tomli" in verbose.stdout


def test_no_command_means_usage(cli: Cli) -> None:
    assert cli.call("mock").stdout == cli.call("usage", "mock").stdout
    default = cli.call("--json")  # the enabled providers: mock, in a fresh home
    assert [s["providerId"] for s in default.json()] == ["mock"]


def test_global_flags_before_or_after_the_command(cli: Cli) -> None:
    before = cli.call("--json", "--no-color", "usage", "mock")
    after = cli.call("usage", "mock", "--json", "--no-color")
    assert before.code == after.code == 0
    assert before.json() == after.json()
    nested = cli.call("config", "path", "--json")
    assert nested.json()["path"].endswith("config.toml")


def test_every_help_reads_like_documentation(cli: Cli) -> None:
    pages = [
        ("usage",),
        ("list",),
        ("status",),
        ("export",),
        ("auth",),
        ("auth", "import-cookies"),
        ("config",),
        ("config", "validate"),
        ("config", "dump"),
        ("config", "path"),
        ("config", "init"),
        ("cache",),
        ("cache", "clear"),
        ("plugin",),
        ("plugin", "validate"),
        ("plugin", "new"),
        ("doctor",),
    ]
    for words in pages:
        result = cli.call(*words, "--help")
        assert result.code == 0, result
        assert "examples:" in result.stdout, words
        assert f"usagestat {' '.join(words)}" in result.stdout.split("examples:")[1], words
    main = cli.call("--help").stdout
    assert "None" not in main
    for word in (
        "usage",
        "list",
        "status",
        "export",
        "auth",
        "config",
        "cache",
        "plugin",
        "doctor",
        "daemon",
    ):
        assert f"    {word} " in main


def test_unknown_provider_is_a_usage_error_with_a_suggestion(cli: Cli) -> None:
    result = cli.call("usage", "mok")
    assert result.code == 2
    assert result.stderr == "usagestat: unknown provider 'mok' (did you mean 'mock'?)\n"
    typo = cli.call("lsit")
    assert typo.code == 2
    assert "did you mean the command 'list'" in typo.stderr
    assert cli.call("list", "chaoss").code == 2
    assert cli.call("status", "mok").code == 2


def test_argparse_errors_exit_2(cli: Cli) -> None:
    assert cli.call("usage", "--format", "yaml").code == 2
    assert cli.call("export", "--format", "xml").code == 2
    assert cli.call("--json", "--plain", "list").code == 2
    assert cli.call("usage", "mock", "--json", "--format", "waybar").code == 2
    assert cli.call("plugin", "new", "x").code == 2  # --mode is required


def test_broken_config_is_one_line_exit_1_without_traceback(cli: Cli) -> None:
    cli.write_config("refreshSec = [\n")
    result = cli.call("usage", "mock")
    assert result.code == 1
    assert len(result.stderr.splitlines()) == 1
    assert "invalid TOML" in result.stderr and "line" in result.stderr
    assert "Traceback" not in result.stderr
    verbose = cli.call("usage", "mock", "--verbose")
    assert "Traceback" in verbose.stderr
    # config validate still reports it, as data
    report = cli.call("config", "validate", "--json")
    assert report.code == 1 and report.json()["valid"] is False


def test_unreadable_config_path(cli: Cli) -> None:
    result = cli.call("--config", str(cli.tmp), "list")
    assert result.code == 1
    assert result.stderr.strip().endswith("is a directory, not a config file")


# -- usage ---------------------------------------------------------------------------


def test_provider_errors_are_in_band_unless_strict(cli: Cli) -> None:
    cli.plugin("broken", "throw {code: 'rate-limited', message: 'Slow down'};")
    pdir = str(cli.plugin_dir)
    result = cli.call("--json", "usage", "broken", "--plugin-dir", pdir)
    assert result.code == 0
    (snap,) = result.json()
    assert snap["state"] == "rate-limited" and snap["source"] == "error"
    assert snap["metrics"] == [
        {"type": "badge", "label": "Error", "text": "Slow down", "color": "red"}
    ]
    assert cli.call("usage", "broken", "--strict", "--plugin-dir", pdir).code == 1
    assert cli.call("usage", "broken", "mock", "--strict", "--plugin-dir", pdir).code == 0


def test_a_broken_plugin_named_by_its_manifest_id_gives_a_failed_snapshot(cli: Cli) -> None:
    folder = cli.plugin("acme", webUrl="ftp://acme.test")
    folder.rename(cli.plugin_dir / "acme-plugin")
    pdir = str(cli.plugin_dir)
    result = cli.call("--json", "usage", "acme", "--plugin-dir", pdir)
    assert result.code == 0, result
    (snap,) = result.json()
    assert snap["providerId"] == "acme" and snap["state"] == "failed"
    assert "webUrl must be an http(s) URL" in snap["error"]["message"]
    listed = cli.call("list", "--json", "--plugin-dir", pdir).json()
    acme = next(item for item in listed if item["id"] == "acme")
    assert acme["enabled"] is False and "webUrl" in acme["error"]
    assert not any(item["id"] == "acme-plugin" for item in listed)
    report = cli.call("plugin", "validate", pdir, "--json").json()
    assert [(item["id"], item["valid"]) for item in report] == [("acme", False)]


def test_debug_in_process_probe_keeps_the_deadline(cli: Cli) -> None:
    cli.plugin("hang", "while (true) {}", probeTimeoutSec=1)
    cli.plugin("fine")
    pdir = str(cli.plugin_dir)
    started = time.monotonic()
    result = cli.run("--debug", "--json", "usage", "hang", "fine", "--plugin-dir", pdir, timeout=30)
    assert time.monotonic() - started < 15
    assert result.code == 0, result
    hang, fine = result.json()
    assert hang["state"] == "timed-out" and hang["source"] == "error"
    assert hang["error"]["message"] == "probe timed out after 1s"
    assert fine["state"] == "ready"


def test_cache_and_history_write_warnings_name_the_file(cli: Cli) -> None:
    blocker = cli.tmp / "a-file"
    blocker.write_text("")
    data = blocker / "data"
    result = cli.call("usage", "mock", "--save", env={"USAGESTAT_DATA_DIR": str(data)})
    assert result.code == 0, result
    assert (
        f"could not update the snapshot cache {data / 'snapshots.json'}: {data}: Not a directory"
        in result.stderr
    )
    assert f"could not append to history {data / 'history.jsonl'}: " in result.stderr


def test_parallel_probes_keep_the_requested_order(cli: Cli) -> None:
    result = cli.call("--json", "usage", "mock", "chaos", "--provider", "mock")
    assert [s["providerId"] for s in result.json()] == ["mock", "chaos"]


def test_cached_answers_without_probing(cli: Cli) -> None:
    empty = cli.call("--json", "usage", "mock", "--cached").json()
    assert empty[0]["state"] == "no-data" and empty[0]["source"] == "error"
    cli.call("usage", "mock")
    cached = cli.call("--json", "usage", "mock", "--cached").json()
    assert cached[0]["state"] == "ready" and cached[0]["stale"] is False


def test_min_interval_answers_from_the_cache(cli: Cli) -> None:
    counter = (
        "var n = Number(ctx.host.fs.exists(ctx.app.pluginDataDir + '/n') ? "
        "ctx.host.fs.readText(ctx.app.pluginDataDir + '/n') : '0') + 1;"
        "ctx.host.fs.writeText(ctx.app.pluginDataDir + '/n', String(n));"
        "return {metrics: [ctx.line.text({label: 'Probes', value: String(n)})]};"
    )
    cli.plugin("slowpoke", counter, minIntervalSec=300)
    pdir = str(cli.plugin_dir)
    first = cli.call("--plain", "usage", "slowpoke", "--plugin-dir", pdir)
    second = cli.call("--plain", "usage", "slowpoke", "--plugin-dir", pdir)
    assert "Probes: 1" in first.stdout and "Probes: 1" in second.stdout
    later = cli.call(
        "--plain",
        "usage",
        "slowpoke",
        "--plugin-dir",
        pdir,
        env={"USAGESTAT_NOW": "2026-01-15T12:06:00Z"},
    )
    assert "Probes: 2" in later.stdout


def test_status_flag_adds_the_status_member(cli: Cli, httpserver) -> None:
    httpserver.expect_request("/api/v2/status.json").respond_with_json(
        {"status": {"indicator": "major", "description": "Major Outage"}}
    )
    cli.plugin("acme", statusPageUrl=httpserver.url_for("/"))
    pdir = str(cli.plugin_dir)
    snaps = cli.call("--json", "usage", "acme", "mock", "--status", "--plugin-dir", pdir).json()
    assert snaps[0]["status"]["indicator"] == "major"
    assert snaps[1]["status"] == {
        "providerId": "mock",
        "displayName": "Mock",
        "statusUrl": None,
        "indicator": "unknown",
        "description": None,
        "error": None,
    }
    text = cli.call("usage", "acme", "--status", "--plugin-dir", pdir).stdout
    assert "  Status: Major Outage" in text


def test_status_of_a_broken_page_is_unknown_with_the_reason(cli: Cli, httpserver) -> None:
    httpserver.expect_request("/api/v2/status.json").respond_with_data("oops", status=500)
    cli.plugin("acme", statusPageUrl=httpserver.url_for("/"))
    (item,) = cli.call("--json", "status", "acme", "--plugin-dir", str(cli.plugin_dir)).json()
    assert item["indicator"] == "unknown"
    assert item["error"] == "status page answered HTTP 500"


def test_unsupported_source_gives_an_unsupported_snapshot(cli: Cli) -> None:
    (snap,) = cli.call("--json", "usage", "mock", "--source", "web").json()
    assert snap["state"] == "unsupported"


def test_progress_on_stderr_only_for_a_terminal_and_never_in_json(cli: Cli) -> None:
    cli.plugin("sloth", SLOW_PROBE % 1000)
    pdir = str(cli.plugin_dir)
    pty = pytest.importorskip("pty")
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        cli.command("usage", "sloth", "--plugin-dir", pdir),
        cwd=ROOT,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=secondary,
        stdin=subprocess.DEVNULL,
    )
    os.close(secondary)
    stdout, _ = process.communicate(timeout=60)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert b"waiting for Sloth" in seen
    assert b"waiting" not in stdout
    assert stdout.decode().startswith("Sloth\n")
    quiet = cli.call("--json", "usage", "sloth", "--plugin-dir", pdir)
    assert quiet.stderr == "" and quiet.code == 0


def _processes_with_marker(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find child processes")
def test_ctrl_c_prints_interrupted_and_leaves_no_children(cli: Cli) -> None:
    cli.plugin("sloth", SLOW_PROBE % 20000)
    cli.plugin("sloth-two", SLOW_PROBE % 20000)
    marker = f"USAGESTAT_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    name, value = marker.split("=")
    process = subprocess.Popen(
        cli.command("usage", "sloth", "sloth-two", "--plugin-dir", str(cli.plugin_dir)),
        cwd=ROOT,
        env=dict(cli.env, **{name: value}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(_processes_with_marker(marker)) < 3:
        time.sleep(0.05)
    assert len(_processes_with_marker(marker)) >= 3  # the CLI and its two workers
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130
    assert stderr.decode().strip().endswith("usagestat: interrupted")
    assert stdout == b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _processes_with_marker(marker):
        time.sleep(0.05)
    assert _processes_with_marker(marker) == []


# -- list ----------------------------------------------------------------------------------


def test_list_json_is_provider_summaries(cli: Cli) -> None:
    data = cli.call("list", "--json").json()
    mock = next(item for item in data if item["id"] == "mock")
    assert mock["enabled"] is True and mock["dev"] is True
    assert mock["supportedModes"] == ["local"] and mock["webUrl"] is None
    assert Path(mock["icon"]["path"]).is_absolute()
    custom = next(item for item in data if item["id"] == "custom")
    assert custom["enabled"] is False
    perms = cli.call("list", "mock", "--permissions", "--json").json()
    assert perms[0]["permissions"]["http"] == []


def test_a_manifest_without_supported_modes_has_one_auto_mode_everywhere(cli: Cli) -> None:
    folder = cli.plugin("modeless")
    manifest = json.loads((folder / "plugin.json").read_text())
    del manifest["supportedModes"]
    (folder / "plugin.json").write_text(json.dumps(manifest))
    pdir = str(cli.plugin_dir)
    (summary,) = cli.call("list", "modeless", "--json", "--plugin-dir", pdir).json()
    assert summary["supportedModes"] == [] and summary["autoMode"] == "api"
    (snap,) = cli.call("--json", "usage", "modeless", "--plugin-dir", pdir).json()
    assert snap["state"] == "ready" and snap["source"] == summary["autoMode"]


def test_plugin_dir_that_is_a_file_is_called_not_a_directory(cli: Cli) -> None:
    a_file = cli.tmp / "plugins.txt"
    a_file.write_text("not a folder")
    listed = cli.call("list", "--plugin-dir", str(a_file))
    assert listed.code == 0
    assert f"usagestat: warning: --plugin-dir {a_file}: not a directory" in listed.stderr
    missing = cli.call("list", "--plugin-dir", str(cli.tmp / "nowhere"))
    assert "nowhere: no such directory" in missing.stderr
    validate = cli.call("plugin", "validate", str(a_file))
    assert validate.code == 1 and f"not a directory: {a_file}" in validate.stderr
    doctor = cli.call("doctor", "--json", "--plugin-dir", str(a_file))
    (dirs,) = [c for c in doctor.json()["checks"] if c["check"] == "plugin dirs"]
    assert dirs["message"] == f"{a_file} is not a directory"


def test_list_shows_invalid_plugins(cli: Cli) -> None:
    bad = cli.plugin_dir / "half-done"
    bad.mkdir(parents=True)
    (bad / "plugin.json").write_text("{not json")
    result = cli.call("list", "--plain", "--plugin-dir", str(cli.plugin_dir))
    assert "half-done: invalid" in result.stdout
    assert result.code == 0


# -- export --------------------------------------------------------------------------------


def test_export_from_history_formats_and_since(cli: Cli) -> None:
    cli.call("usage", "mock", "chaos", "--save", env={"USAGESTAT_NOW": "2026-01-10T08:00:00Z"})
    cli.call("usage", "mock", "--save")
    history = cli.data_dir / "history.jsonl"
    with history.open("a") as handle:
        handle.write("{broken line\n")
    everything = cli.call("export", "--from-history", "--format", "jsonl")
    assert everything.code == 0
    records = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [r["ts"] for r in records] == ["2026-01-10T08:00:00Z"] * 2 + [NOW]
    assert "skipped 1 unreadable history line" in everything.stderr
    since = cli.call("export", "--from-history", "--since", "2026-01-12", "--json")
    assert [r["providerId"] for r in since.json()] == ["mock"]
    rfc = cli.call("export", "--from-history", "--since", "2026-01-10T09:00:00+01:00")
    assert len(rfc.stdout.splitlines()) == 1 + 3
    only = cli.call("export", "--from-history", "--provider", "chaos")
    rows = only.stdout.splitlines()
    assert len(rows) == 2 and rows[1].startswith("2026-01-10T08:00:00Z,chaos,Chaos,")
    assert rows[1].split(",")[7] == "4.500000"  # cost: 6 decimals


def test_export_argument_errors(cli: Cli) -> None:
    assert cli.call("export", "--since", "2026-01-01").code == 2
    assert cli.call("export", "--from-history", "--since", "yesterday").code == 2
    assert cli.call("export", "--from-history", "--provider", "mok").code == 2


def test_export_live_json_is_history_records(cli: Cli) -> None:
    (record,) = cli.call("export", "--provider", "mock", "--format", "json").json()
    assert record["ts"] == record["fetchedAt"] == NOW


# -- auth ----------------------------------------------------------------------------------


def test_auth_errors(cli: Cli) -> None:
    unknown = cli.call("auth", "import-cookies", "--provider", "mok", "--format", "json")
    assert unknown.code == 2 and "did you mean 'mock'" in unknown.stderr
    text = cli.call("auth", "import-cookies", "--provider", "mock")
    assert text.code == 1
    assert text.stderr.startswith("usagestat: NO_WEB_URL: Mock has no website")
    assert cli.call("auth", "import-cookies").code == 2  # --provider is required
    assert cli.call("auth", "import-cookies", "--provider", "mock", "--browser", "lynx").code == 2


def _firefox_profile(home: Path, host: str, cookies: dict[str, str]) -> None:
    import sqlite3

    root = home / ".mozilla" / "firefox"
    profile = root / "abc.default"
    profile.mkdir(parents=True)
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=default\nIsRelative=1\nPath=abc.default\nDefault=1\n"
    )
    db = sqlite3.connect(profile / "cookies.sqlite")
    db.execute(
        "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '',"
        " name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, creationTime INTEGER)"
    )
    for index, (name, value) in enumerate(cookies.items()):
        db.execute(
            "INSERT INTO moz_cookies (name, value, host, path, expiry, creationTime)"
            " VALUES (?, ?, ?, '/', 4102444800, ?)",
            (name, value, host, 1_700_000_000_000_000 + index),
        )
    db.commit()
    db.close()


def test_auth_import_cookies_from_firefox(cli: Cli) -> None:
    _firefox_profile(cli.home, ".acme.example", {"session": "s3cr3t-session-value-1234"})
    cli.plugin("acme", webUrl="https://app.acme.example/dashboard", supportedModes=["web"])
    args = ("auth", "import-cookies", "--provider", "acme", "--plugin-dir", str(cli.plugin_dir))
    masked = cli.call(*args, "--browser", "firefox", "--format", "json")
    assert masked.code == 0, masked
    assert masked.json() == {
        "providerId": "acme",
        "cookieHeader": "ses…1234",
        "source": "firefox",
        "profile": "default",
    }
    assert "s3cr3t" not in masked.stdout + masked.stderr
    shown = cli.call(*args, "--json", "--show")
    assert shown.json()["cookieHeader"] == "session=s3cr3t-session-value-1234"
    text = cli.call(*args)
    assert "Found the app.acme.example session in firefox (profile default)." in text.stdout
    assert "s3cr3t" not in text.stdout
    saved = cli.call(*args, "--save")
    assert saved.code == 0, saved
    config = cli.config_dir / "config.toml"
    assert 'cookieHeader = "session=s3cr3t-session-value-1234"' in config.read_text()
    assert config.stat().st_mode & 0o777 == 0o600
    assert "s3cr3t" not in saved.stdout
    dump = cli.call("config", "dump", "--plugin-dir", str(cli.plugin_dir)).json()
    assert dump["providers"][0]["cookieHeader"] == "ses…1234"
    none = cli.call(*args, "--browser", "chrome", "--json")
    assert none.code == 1
    assert none.json()["error"]["code"] == "BROWSER_NOT_FOUND"


# -- config --------------------------------------------------------------------------------


def test_config_validate_reports_every_problem(cli: Cli) -> None:
    path = cli.write_config(
        "refreshSec = 5\n"
        "colour = 'blue'\n"
        "[[providers]]\nid = 'mok'\n"
        "[[providers]]\nid = 'mock'\nsource = 'api'\n"
        "[[providers]]\nid = 'custom'\ninstanceId = 'mine'\n"
        "[[providers]]\nid = 'mock'\ninstanceId = 'mine'\n"
    )
    result = cli.call("config", "validate", "--json")
    assert result.code == 1
    data = result.json()
    assert data["valid"] is False and data["path"] == str(path)
    issues = {(i["level"], i["path"]) for i in data["issues"]}
    assert ("error", "refreshSec") in issues
    assert ("warning", "colour") in issues
    assert ("error", "providers[0].id") in issues
    assert ("error", "providers[1].source") in issues
    assert ("error", "providers[2]") in issues  # custom without customCommand
    assert ("error", "providers[3].instanceId") in issues
    text = cli.call("config", "validate")
    assert text.code == 1
    assert "invalid (5 errors, 1 warning)" in text.stdout.splitlines()[0]
    assert "did you mean 'mock'" in text.stdout


def test_config_dump_masks_secrets(cli: Cli) -> None:
    cli.write_config(
        "[[providers]]\nid = 'mock'\napiKey = 'sk-live-1234567890abcd'\n"
        "cookieHeader = 'session=abcdefghijklmnop'\n"
        "settings = { accessToken = 'tok-123456789', region = 'eu' }\n"
    )
    result = cli.call("config", "dump")
    assert result.code == 0
    entry = result.json()["providers"][0]
    assert entry["apiKey"] == "sk-…abcd"
    assert entry["cookieHeader"] == "ses…mnop"
    assert entry["settings"] == {"accessToken": "tok…6789", "region": "eu"}
    for secret in ("1234567890", "abcdefghij", "123456789"):
        assert secret not in result.stdout
    plain = cli.call("config", "dump", "--plain")
    assert "providers[0].apiKey: sk-…abcd" in plain.stdout


def test_config_dump_and_path_show_a_config_with_range_errors(cli: Cli) -> None:
    where = cli.write_config(
        "refreshSec = 5\n[notify]\nwarnPercent = 99\ncriticalPercent = 90\n"
        "[[providers]]\nid = 'mock'\nprobeTimeoutSec = 0\n"
    )
    dump = cli.call("config", "dump")
    assert dump.code == 0, dump
    data = dump.json()
    assert data["refreshSec"] == 5  # what the file says
    assert data["notify"] == {"warnPercent": 99.0, "criticalPercent": 90.0}
    assert data["providers"][0]["probeTimeoutSec"] == 0.0
    warnings = dump.stderr.splitlines()
    assert "usagestat: warning: config: refreshSec: must be at least 10" in warnings[0]
    assert any("providers[0].probeTimeoutSec" in line for line in warnings)
    assert any("warnPercent must not be above criticalPercent" in line for line in warnings)
    assert all("other commands refuse" in line for line in warnings)
    path = cli.call("config", "path")
    assert path.code == 0 and path.stdout == f"{where}\n"
    assert "refreshSec: must be at least 10" in path.stderr
    # the others still refuse it, and a wrong type still stops dump (path still answers)
    assert cli.call("list").code == 1
    cli.write_config("refreshSec = 'soon'\n")
    wrong = cli.call("config", "dump")
    assert wrong.code == 1 and "refreshSec: expected an integer" in wrong.stderr
    path = cli.call("config", "path")
    assert path.code == 0 and path.stdout == f"{where}\n"
    assert "expected an integer" in path.stderr


def test_config_path_honours_overrides(cli: Cli) -> None:
    assert cli.call("config", "path").stdout == f"{cli.config_dir / 'config.toml'}\n"
    other = cli.tmp / "other.toml"
    assert cli.call("--config", str(other), "config", "path").stdout == f"{other}\n"
    via_env = cli.call("config", "path", env={"USAGESTAT_CONFIG": str(other)})
    assert via_env.stdout == f"{other}\n"


def test_config_init_enables_detected_providers(cli: Cli) -> None:
    cli.plugin("acme", detect={"env": ["ACME_API_KEY"]})
    cli.plugin("other", detect={"files": ["~/.other/creds.json"]})
    env = {"USAGESTAT_PLUGIN_DIR": str(cli.plugin_dir), "ACME_API_KEY": "k"}
    result = cli.call("config", "init", "--json", env=env)
    assert result.code == 0, result
    data = result.json()
    path = Path(data["path"])
    assert data["providers"] == ["acme"]
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert '[[providers]]\nid = "acme"' in text and "#   " in text
    assert cli.call("config", "validate", env=env).code == 0
    assert "acme" in [e["id"] for e in cli.call("config", "dump", env=env).json()["providers"]]
    again = cli.call("config", "init", env=env)
    assert again.code == 1 and "already exists" in again.stderr
    forced = cli.call("config", "init", "--force", env=env)
    assert forced.code == 0 and path.with_name("config.toml.bak").exists()
    printed = cli.call("config", "init", "--stdout", env=env)
    assert printed.stdout.startswith("# usagestat configuration")


# -- cache ---------------------------------------------------------------------------------


def test_cache_clear_targets_and_provider(cli: Cli) -> None:
    assert cli.call("cache", "clear").code == 2  # at least one target
    cli.call("usage", "mock", "chaos", "--save")
    plugin_data = cli.data_dir / "plugin-data" / "chaos"
    plugin_data.mkdir(parents=True, exist_ok=True)
    (plugin_data / "token").write_text("x")
    result = cli.call(
        "cache",
        "clear",
        "--snapshots",
        "--history",
        "--plugin-data",
        "--provider",
        "chaos",
        "--json",
    )
    assert result.code == 0
    assert [r["cache"] for r in result.json()] == ["snapshots", "history", "plugin-data"]
    assert all(r["cleared"] for r in result.json())
    snapshots = json.loads((cli.data_dir / "snapshots.json").read_text())["snapshots"]
    assert list(snapshots) == ["mock"]
    lines = (cli.data_dir / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["providerId"] for line in lines] == ["mock"]
    assert not plugin_data.exists()
    everything = cli.call("cache", "clear", "--all", "--plain")
    assert everything.stdout.splitlines() == [
        "snapshots: cleared",
        "history: cleared",
        "plugin-data: empty",
    ]
    assert cli.call("cache", "clear", "--history", "--provider", "nope").code == 2


# -- plugin --------------------------------------------------------------------------------


def test_plugin_validate_reports_every_problem_with_its_file(cli: Cli) -> None:
    cli.plugin("good")
    bad = cli.plugin("bad", "return {metrics: []};", colour="red", id="Bad!")
    (bad / "icon.svg").write_text("not an svg")
    result = cli.call("plugin", "validate", str(cli.plugin_dir), "--json")
    assert result.code == 1
    by_path = {Path(item["path"]).name: item for item in result.json()}
    assert by_path["good"]["valid"] is True and by_path["good"]["problems"] == []
    assert by_path["bad"]["valid"] is False
    files = {Path(p["file"]).name for p in by_path["bad"]["problems"]}
    assert "plugin.json" in files
    assert cli.call("plugin", "validate", str(cli.plugin_dir / "good")).code == 0
    missing = cli.call("plugin", "validate", str(cli.tmp / "nowhere"))
    assert missing.code == 1 and "no such directory" in missing.stderr


@pytest.mark.parametrize("mode", ["api", "oauth", "local", "cli", "web"])
def test_plugin_new_for_each_mode_validates(cli: Cli, mode: str) -> None:
    target = cli.tmp / "mine"
    result = cli.call("plugin", "new", "acme-co", "--mode", mode, "--dir", str(target), "--json")
    if result.code == 1 and "template is not part" in result.stderr:
        pytest.skip("the provider template is not in this checkout")
    assert result.code == 0, result
    folder = target / "acme-co"
    manifest = json.loads((folder / "plugin.json").read_text())
    assert manifest["id"] == "acme-co" and manifest["name"] == "Acme Co"
    assert manifest["supportedModes"] == [mode]
    script = (folder / "plugin.js").read_text()
    assert 'id: "acme-co"' in script and "--- mode:" not in script
    check = cli.call("plugin", "validate", str(folder), "--json")
    assert check.code == 0, check
    assert check.json()[0]["valid"] is True
    again = cli.call("plugin", "new", "acme-co", "--mode", mode, "--dir", str(target))
    assert again.code == 1 and "already exists" in again.stderr


def test_plugin_new_rejects_a_bad_id(cli: Cli) -> None:
    assert cli.call("plugin", "new", "Bad_Id", "--mode", "api").code == 2


# -- doctor --------------------------------------------------------------------------------


def test_doctor(cli: Cli) -> None:
    cli.plugin("acme", detect={"env": ["ACME_API_KEY"]})
    env = {"USAGESTAT_PLUGIN_DIR": str(cli.plugin_dir), "ACME_API_KEY": "k"}
    result = cli.call("doctor", "--json", env=env)
    assert result.code == 0, result
    data = result.json()
    checks = {c["check"]: c for c in data["checks"]}
    assert checks["python"]["status"] == "ok"
    assert checks["engine"]["status"] == "ok"
    assert checks["daemon"]["running"] is False
    assert {
        "instanceId": "acme",
        "providerId": "acme",
        "enabled": True,
        "credentials": "$ACME_API_KEY",
    } in data["providers"]
    text = cli.call("doctor", env=env)
    assert text.code == 0 and "No problems found." in text.stdout
    assert "1 with credentials, 1 enabled" in text.stdout
    assert "(plus the dev provider mock)" in text.stdout  # a checkout: the daemon polls mock too
    cli.write_config("refreshSec = 1\n")
    broken = cli.call("doctor", env=env)
    assert broken.code == 1
    assert "error    config" in broken.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_is_one_line_exit_1(cli: Cli) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            cli.command("list"),
            cwd=ROOT,
            env=cli.env,
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.decode() == "usagestat: No space left on device\n"


def test_missing_optional_command_is_explained(cli: Cli) -> None:
    from usagestat.cli import app

    missing = [
        w
        for w, (m, _) in app.OPTIONAL.items()
        if not (ROOT / "usagestat/cli/commands" / f"{m}.py").exists()
    ]
    for word in missing:
        result = cli.call(word)
        assert result.code == 1
        assert "not part of this build" in result.stderr
