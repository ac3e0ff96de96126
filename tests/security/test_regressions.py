"""One small test per bug the security suite found, next to the fix it pins down."""

from __future__ import annotations

import json

from usagestat.core.results import error_snapshot, parse_probe_error, parse_probe_result
from usagestat.core.serialize import dumps

from .oracle import check_snapshot


def test_lone_surrogates_from_a_plugin_are_replaced_not_fatal() -> None:
    result = parse_probe_result(
        {"plan": "p\ud800", "metrics": [{"type": "text", "label": "a\udfff", "value": "x\ud800"}]}
    )
    assert result.metrics[0].label == "a\ufffd" and result.plan == "p\ufffd"
    failure = parse_probe_error("bad \udc00 thing")
    assert failure.message == "bad \ufffd thing"
    snap = error_snapshot(
        provider_id="p",
        instance_id="p",
        display_name="P",
        state="failed",
        message="x\ud800",
        fetched_at="2026-01-15T12:00:00Z",
    )
    check_snapshot(json.loads(dumps(snap)))


def test_integers_beyond_the_float_range_are_invalid_not_a_crash() -> None:
    huge = 10**400
    for raw in (
        {
            "metrics": [
                {
                    "type": "progress",
                    "label": "x",
                    "used": huge,
                    "limit": 1,
                    "format": {"kind": "percent"},
                }
            ]
        },
        {"metrics": [{"type": "text", "label": "x", "value": "v"}], "retryAfterSec": huge},
    ):
        try:
            parse_probe_result(raw)
        except ValueError as exc:
            assert "finite number" in str(exc)
        else:
            raise AssertionError("accepted a number beyond the float range")
    assert (
        parse_probe_error({"code": "rate-limited", "retryAfterSec": huge}).retry_after_sec is None
    )


def test_timestamps_at_the_edge_of_the_calendar_are_invalid_not_a_crash() -> None:
    from usagestat.core.timeutil import parse_timestamp

    assert parse_timestamp("0001-01-01T00:00:00+05:00") is None
    assert parse_timestamp("9999-12-31T23:59:59-01:00") is None
    try:
        parse_probe_result(
            {
                "metrics": [
                    {
                        "type": "progress",
                        "label": "x",
                        "used": 1,
                        "limit": 2,
                        "format": {"kind": "percent"},
                        "resetsAt": "9999-12-31T23:59:59-01:00",
                    }
                ]
            }
        )
    except ValueError as exc:
        assert "resetsAt" in str(exc)
    else:
        raise AssertionError("accepted a reset time outside the calendar")


def test_damaged_cache_and_history_are_set_aside_or_skipped(tmp_path) -> None:
    from usagestat.core.cache import SnapshotCache
    from usagestat.core.history import History

    good = {
        "providerId": "m",
        "instanceId": "m",
        "displayName": "M",
        "source": "mock",
        "metrics": [{"type": "text", "label": "a", "value": "b"}],
        "fetchedAt": "2026-01-15T12:00:00Z",
        "statusPageUrl": None,
        "pace": None,
        "state": "ready",
        "error": None,
        "stale": False,
        "lastError": None,
    }
    progress = {
        "type": "progress",
        "label": "x",
        "used": 10**400,
        "limit": 1,
        "format": {"kind": "percent"},
    }
    bad_entries = [
        "[" * 100_000,  # deeper than the recursion limit
        json.dumps({"version": 1, "snapshots": {"m": {**good, "metrics": [progress]}}}),
        json.dumps({"version": 1, "snapshots": {"m": {**good, "displayName": "\ud800"}}}),
        json.dumps({"version": 1, "snapshots": {"m": {**good, "fetchedAt": "yesterday"}}}),
        json.dumps({"version": 1, "snapshots": {"m": {**good, "state": "ready", "error": {}}}}),
    ]
    for n, text in enumerate(bad_entries):
        path = tmp_path / f"c{n}" / "snapshots.json"
        path.parent.mkdir()
        path.write_text(text)
        warnings: list[str] = []
        assert SnapshotCache(path, warn=warnings.append).load() == {}
        assert "corrupt" in warnings[0] and not path.exists()
    history = History(tmp_path / "history.jsonl")
    lines = [json.dumps({**good, "ts": good["fetchedAt"]})]
    lines += [
        text if text.startswith("[") else json.dumps(json.loads(text)["snapshots"]["m"])
        for text in bad_entries
    ]
    history.path.write_text("\n".join(lines) + "\n")
    read = history.read()
    assert (len(read.records), read.skipped_lines) == (1, len(bad_entries))


def test_toml_beyond_the_parsers_limits_is_a_clear_config_error(tmp_path) -> None:
    from usagestat.core.config import ConfigError, load_config, validate_config
    from usagestat.core.configedit import ConfigEditError, set_provider_value

    for n, text in enumerate(["a = " + "[" * 50_000 + "]" * 50_000, "refreshSec = " + "9" * 5000]):
        path = tmp_path / f"c{n}.toml"
        path.write_text(text)
        try:
            load_config(path)
        except ConfigError as exc:
            assert str(exc).startswith(f"{path}: invalid TOML: ")
        else:
            raise AssertionError("accepted")
        assert not validate_config(path, {}).valid
        try:
            set_provider_value(path, "claude", "cookieHeader", "a=b")
        except ConfigEditError as exc:
            assert "does not parse" in str(exc)
        else:
            raise AssertionError("edited a config that does not parse")
        assert path.read_text() == text


def test_a_config_with_secrets_readable_by_others_warns_on_every_load(tmp_path) -> None:
    import os

    from usagestat.core.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[[providers]]\nid = "openrouter"\napiKey = "sk-or-v1-0123456789"\n')
    os.chmod(path, 0o644)
    assert [w.message for w in load_config(path).warnings] == [
        f"holds secrets but is readable by other users; run: chmod 600 {path}"
    ]
    os.chmod(path, 0o600)
    assert load_config(path).warnings == []


def test_a_result_nested_too_deeply_gets_a_clear_message(tmp_path, monkeypatch) -> None:
    from tmpplugins import make_plugin

    from usagestat.core.config import Config, ProviderEntry
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import resolve_instances, select
    from usagestat.plugins.probe import probe_many

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    make_plugin(
        tmp_path,
        "deep",
        "var a = {}; for (var i = 0; i < 3000; i++) a = {x: a};"
        " return {metrics: [ctx.line.text({label: 'a', value: 'b'})], extra: a};",
    )
    config = Config(path=tmp_path / "none.toml", providers=[ProviderEntry("deep", "deep", 0)])
    registry = discover([str(tmp_path)], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ["deep"])
    snapshot = probe_many(instances, config)[0].snapshot
    assert snapshot.state == "failed"
    assert snapshot.error.message == "probe result is nested too deeply"


def test_manifests_nested_too_deeply_or_with_lone_surrogates_are_invalid(tmp_path) -> None:
    from usagestat.plugins.manifest import read_manifest

    base = {"id": "x", "name": "X", "entry": "plugin.js", "permissions": {}}
    cases = {
        "deep": (b"[" * 100_000, "invalid JSON: nested too deeply"),
        "surrogate": (
            json.dumps(base).replace('"X"', '"X\\ud800"').encode(),
            "manifest holds text that is not valid Unicode (an escaped lone surrogate)",
        ),
    }
    for name, (raw, message) in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "plugin.json").write_bytes(raw)
        manifest, problems = read_manifest(tmp_path / name)
        assert manifest is None and [p.message for p in problems] == [message]


def test_custom_command_printing_json_nested_too_deeply_is_an_error_snapshot(tmp_path) -> None:
    from usagestat.core.config import Config, ProviderEntry
    from usagestat.plugins.instances import Instance
    from usagestat.plugins.probe import probe_instance

    out = tmp_path / "out.json"
    out.write_bytes(b"[" * 100_000)
    entry = ProviderEntry(id="custom", instance_id="custom", index=0, custom_command=f"cat {out}")
    config = Config(path=tmp_path / "none.toml", providers=[entry])
    snapshot = probe_instance(Instance("custom", "custom", entry, None, enabled=True), config)
    assert snapshot.snapshot.state == "failed"
    assert snapshot.snapshot.error.message == "custom command did not print valid JSON"


def test_hostile_status_page_bodies_give_unknown_with_a_reason(fakeweb, monkeypatch) -> None:
    from usagestat.core.statuspage import fetch_status

    fakeweb.apply_env(monkeypatch)
    url = "https://status.example.com"
    fakeweb.add("GET", url + "/api/v2/status.json", body=b"[" * 100_000)
    status = fetch_status("p", "P", url, ca_bundle=fakeweb.ca_path, timeout=10)
    assert status.indicator == "unknown" and "unexpected body" in status.error
    fakeweb.add(
        "GET",
        url + "/api/v2/status.json",
        body=b'{"status": {"indicator": "minor", "description": "bad \\ud800 day"}}',
    )
    status = fetch_status("p", "P", url, ca_bundle=fakeweb.ca_path, timeout=10)
    assert status.description == "bad \ufffd day"


def test_timestamps_before_year_1000_keep_four_digit_years(tmp_path) -> None:
    from usagestat.core.cache import SnapshotCache
    from usagestat.core.models import MetricFormat, ProgressLine, UsageSnapshot
    from usagestat.core.timeutil import normalize_timestamp

    assert normalize_timestamp("0999-12-31T23:59:59Z") == "0999-12-31T23:59:59Z"
    line = parse_probe_result(
        {
            "metrics": [
                {
                    "type": "progress",
                    "label": "x",
                    "used": 1,
                    "limit": 2,
                    "format": {"kind": "percent"},
                    "resetsAt": "0005-01-01T00:00:00Z",
                }
            ]
        }
    ).metrics[0]
    assert line.resets_at == "0005-01-01T00:00:00Z"
    # Such a snapshot must survive a cache round trip (it made the whole file 'corrupt').
    snap = UsageSnapshot(
        provider_id="p",
        instance_id="p",
        display_name="P",
        source="api",
        metrics=[line, ProgressLine("y", 1.0, 2.0, MetricFormat("percent"))],
        fetched_at="2026-01-15T12:00:00Z",
    )
    cache = SnapshotCache(tmp_path / "snapshots.json")
    cache.update([snap])
    assert SnapshotCache(cache.path).load()["p"].metrics[0].resets_at == "0005-01-01T00:00:00Z"


def test_temp_files_of_a_killed_cache_writer_do_not_pile_up(tmp_path) -> None:
    from usagestat.core.cache import SnapshotCache
    from usagestat.core.models import TextLine, UsageSnapshot

    cache = SnapshotCache(tmp_path / "snapshots.json")
    orphans = [tmp_path / f".snapshots.json.abc{n}.tmp" for n in range(3)]
    for orphan in orphans:
        orphan.write_text('{"version": 1, "snap')  # what a writer killed mid-write leaves
    other = tmp_path / ".history.jsonl.x.tmp"
    other.write_text("not ours")
    snap = UsageSnapshot(
        provider_id="p",
        instance_id="p",
        display_name="P",
        source="api",
        metrics=[TextLine("a", "b")],
        fetched_at="2026-01-15T12:00:00Z",
    )
    cache.update([snap])
    assert not any(o.exists() for o in orphans) and other.exists()
    assert list(SnapshotCache(cache.path).load()) == ["p"]


def test_an_append_cut_short_by_a_full_disk_leaves_no_torn_line(tmp_path, monkeypatch) -> None:
    import errno
    import os

    from usagestat.core import atomicio

    path = tmp_path / "history.jsonl"
    atomicio.append_lines_locked(path, ['{"a": 1}'], tmp_path / "lock")
    real_write = os.write

    def full_disk(fd: int, data) -> int:
        real_write(fd, bytes(data[:5]))  # the disk takes five bytes, then it is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomicio.os, "write", full_disk)
    try:
        atomicio.append_lines_locked(path, ['{"b": 2}'], tmp_path / "lock")
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    else:
        raise AssertionError("the failed append did not raise")
    monkeypatch.undo()
    assert path.read_text() == '{"a": 1}\n'


def test_connections_over_the_cap_are_all_answered_busy_at_once() -> None:
    """The busy helper answered one idle client per 0.2 s: 40 of them waited 8 s."""
    import socket
    import time

    from usagestat.daemon.app import DaemonServer, Limits

    server = DaemonServer(("127.0.0.1", 0), socket.AF_INET, None, Limits(max_connections=2))
    port = server.server_address[1]
    thread = __import__("threading").Thread(target=server.serve_forever, daemon=True)
    thread.start()
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        extra = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
        answers = []
        for sock in extra:  # idle clients: they never close their side
            answers.append(sock.recv(4096))
        elapsed = time.monotonic() - started
        assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers)
        assert elapsed < 4.0, elapsed  # a queued client would wait for its 5 s timeout
        for sock in extra:
            sock.close()
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()


def test_plugin_data_dirs_are_private_all_the_way_down(tmp_path) -> None:
    import os
    import stat

    from usagestat.plugins.host.session import HostSession, ProbeDeadline
    from usagestat.plugins.permissions import PermissionPolicy

    data = tmp_path / "share" / "usagestat"  # nothing exists yet: a first run
    instance_dir = data / "plugin-data" / "claude"
    policy = PermissionPolicy("claude", None, str(tmp_path), str(instance_dir))
    session = HostSession("claude", "claude", policy, ProbeDeadline.after(5), str(data))
    old = os.umask(0o022)
    try:
        assert session.plugin_data_dir() == str(instance_dir)
    finally:
        os.umask(old)
    for path in (data, data / "plugin-data", instance_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_tokens_a_plugin_reads_are_redacted_even_before_it_sends_them(plugin_env, tmp_path):
    """Only secrets sent in auth headers were known: one logged first (or never sent) leaked."""
    from tmpplugins import NO_PERMISSIONS, make_plugin

    plugin_env.file(".tool/creds.json", {"auth": {"refreshToken": "plain-looking-value-1234"}})
    plugin_env.setenv("TOOL_API_KEY", "another-plain-value-5678")
    plugin_env.audit_secrets = False  # the point is what the host does on its own
    make_plugin(
        tmp_path / "p",
        "chatty",
        "var t = JSON.parse(ctx.host.fs.readText('~/.tool/creds.json')).auth.refreshToken;"
        " var k = ctx.host.env.get('TOOL_API_KEY');"
        " ctx.host.log.info('refreshing with ' + t + ' and ' + k);"
        " return {metrics: [ctx.line.text({label: 'token', value: t + ' ' + k})]};",
        permissions={**NO_PERMISSIONS, "fs": ["~/.tool"], "env": ["TOOL_API_KEY"]},
    )
    run = plugin_env.probe("chatty", plugin_dirs=[str(tmp_path / "p")])
    assert run.state == "ready"
    text = run.text()
    assert "plain-looking-value-1234" not in text and "another-plain-value-5678" not in text
    assert run.metric("token")["value"] == "[redacted] [redacted]"


def test_a_manifest_entry_with_control_characters_is_rejected() -> None:
    # found by the x10 fuzzing run: "plugin.js\x00.txt" passed as an entry
    from usagestat.plugins.manifest import parse_manifest

    base = {"id": "x", "name": "X", "entry": "plugin.js", "supportedModes": ["api"]}
    assert parse_manifest(base, "plugin.json")[0] is not None
    for entry in ("plugin.js\x00.txt", "plugin\n.js", "plug\x7fin.js"):
        manifest, problems = parse_manifest(dict(base, entry=entry), "plugin.json")
        assert manifest is None
        assert any("relative path inside the plugin folder" in p.message for p in problems)


def test_prelude_helpers_take_arrays_nested_thousands_deep(tmp_path, monkeypatch) -> None:
    """Regression: String()/Number() of such an array (an API value where text or a
    number was expected) joins it recursively and overflows the engine's stack.
    The shared helpers now treat it as the wrong type it is."""
    from tmpplugins import make_plugin

    from usagestat.core.config import Config, ProviderEntry
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import resolve_instances, select
    from usagestat.plugins.probe import probe_many

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    checks = {
        "ctx.fmt.planLabel(d)": "",
        "ctx.fmt.resetIn(d)": "<1m",
        "ctx.fmt.tokens(d)": "0",
        "ctx.util.clampPercent(d)": 0,
        "ctx.util.text(d, 'x')": "x",
        "ctx.util.toIso(d)": None,
        "ctx.num.of(d)": None,
        "ctx.num.grouped(d)": "",
        "ctx.amounts.code(d, 'EUR')": "EUR",
        "ctx.amounts.text(1, d)": "$1.00",
        "typeof ctx.amounts.text(d)": "string",  # what, is the plugin's business; no overflow
        "ctx.fmt.money(1, d)": "$1.00",
        "ctx.fmt.date(d)": "",
        "ctx.util.toNumber(d)": None,  # NaN, as JSON
        "ctx.calendar.monthlyPeriodEndingAt(d)": None,
        "ctx.cloudcode.usedPercent(d)": None,
        "ctx.oauth.expiresAtFrom({expires_in: d})": None,
        "ctx.calendar.monthlyProgress({label: 'q', resetMs: d}).resetsAt": None,
        "ctx.oauth.isExpiring({expiresAtMs: d})": False,
        # and what the helpers took before, they still take
        "ctx.oauth.isExpiring({expiresAtMs: new Date(0)})": True,
        "ctx.calendar.monthlyProgress({resetMs: new Date(Date.UTC(2026, 2, 1))}).resetsAt": (
            "2026-03-01T00:00:00.000Z"
        ),
        "ctx.num.grouped(null)": "0",
        "ctx.num.grouped('1234.5')": "1,234.50",
        "ctx.amounts.text('')": "$0.00",
        "ctx.fmt.money(2.5, 'CHF')": "2.50 CHF",
        "ctx.fmt.date(Date.UTC(2026, 0, 5))": "Jan 5",
    }
    body = "var d = 1; for (var i = 0; i < 5000; i++) d = [d];\nvar out = [];\n"
    body += "".join(
        f"try {{ out.push({expr}); }} catch (e) {{ out.push({json.dumps(expr)} + ': ' + e.message); }}\n"
        for expr in checks
    )
    body += "return {metrics: [ctx.line.text({label: 'out', value: JSON.stringify(out)})]};"
    make_plugin(tmp_path, "deep-input", body)
    config = Config(
        path=tmp_path / "none.toml", providers=[ProviderEntry("deep-input", "deep-input", 0)]
    )
    registry = discover([str(tmp_path)], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ["deep-input"])
    snapshot = probe_many(instances, config)[0].snapshot
    assert snapshot.error is None, snapshot.error
    assert json.loads(snapshot.metrics[0].value) == list(checks.values())


def test_check_response_wording_for_garbage_retry_after_and_a_404(tmp_path, monkeypatch) -> None:
    """Regression: ``Retry-After: 99999999999`` read "retry in ~1157407d 9h", and a 404
    from a sign-in server was called a "usage endpoint"."""
    from tmpplugins import make_plugin

    from usagestat.core.config import Config, ProviderEntry
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import resolve_instances, select
    from usagestat.plugins.probe import probe_many

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    body = """
    var out = [];
    var waits = ["99999999999", "2678400", "2678401", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"];
    for (var i = 0; i < waits.length; i++) out.push(ctx.util.retryAfterSec({"retry-after": waits[i]}));
    var answers = [{status: 429, headers: {"retry-after": "99999999999"}}, {status: 404, headers: {}}];
    for (var j = 0; j < answers.length; j++) {
      try { ctx.util.checkResponse(answers[j], {name: "Example sign-in server"}); }
      catch (e) { out.push([e.code, e.message, e.retryAfterSec || null]); }
    }
    return {metrics: [ctx.line.text({label: 'out', value: JSON.stringify(out)})]};
    """
    make_plugin(tmp_path, "waits", body)
    config = Config(path=tmp_path / "none.toml", providers=[ProviderEntry("waits", "waits", 0)])
    registry = discover([str(tmp_path)], [], include_cwd=False)
    instances = select(resolve_instances(config, registry), registry, ["waits"])
    snapshot = probe_many(instances, config)[0].snapshot
    assert snapshot.error is None, snapshot.error
    assert json.loads(snapshot.metrics[0].value) == [
        None,  # garbage: more than 31 days away
        2678400,
        None,
        120,
        1,  # a date in the past: retry now
        None,
        ["rate-limited", "Example sign-in server rate limit reached; retry in ~5m.", 300],
        [
            "failed",
            "Example sign-in server endpoint not found (HTTP 404): the API may have changed.",
            None,
        ],
    ]
