"""Random and hostile plugin manifests: reported per plugin, never a crash (SPEC §3.1, §3.2).

A plugin folder is third-party input. Whatever its ``plugin.json`` holds, the
manifest is either usable (and every value it yields is sane) or the plugin is
listed as invalid with a clear first problem, while the other plugins work.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tmpplugins import OK_PROBE, make_plugin

from usagestat.core.config import Config
from usagestat.core.serialize import to_json
from usagestat.plugins.discovery import discover
from usagestat.plugins.instances import resolve_instances, select
from usagestat.plugins.manifest import parse_manifest, read_manifest
from usagestat.plugins.probe import probe_many
from usagestat.plugins.summary import summaries

from .conftest import fuzz
from .oracle import check_snapshot, clear_message

BASE = {
    "id": "fuzzed",
    "name": "Fuzzed",
    "entry": "plugin.js",
    "version": "1.0",
    "supportedModes": ["api", "oauth"],
    "autoMode": "api",
    "webUrl": "https://example.com",
    "statusPageUrl": "https://status.example.com",
    "brandColor": "#112233",
    "links": [{"label": "Docs", "url": "https://example.com/docs"}],
    "minIntervalSec": 60,
    "probeTimeoutSec": 10,
    "detect": {"files": ["~/.fuzzed/auth.json"], "env": ["FUZZED_KEY"]},
    "permissions": {"http": ["api.example.com"], "env": ["FUZZED_KEY"], "fs": ["~/.fuzzed"]},
}
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**308, max_value=10**400),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "../../etc/passwd",
            "/etc/passwd",
            "C:\\evil.js",
            "plugin.js\x00.txt",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "*",
            "*.com",
            "example.com:99999",
            "~/.ssh",
            "$HOME",
            "\ud800",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def manifests(draw) -> object:
    data = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*BASE, "unknown", "permissions.http", "permissions.fs"]))
        if key.startswith("permissions."):
            if not isinstance(data.get("permissions"), dict):
                data["permissions"] = {}  # an earlier step dropped or replaced the table
            data["permissions"][key.split(".", 1)[1]] = draw(values)
        elif draw(st.booleans()):
            data[key] = draw(values)
        else:
            data.pop(key, None)
    return data if draw(st.integers(0, 9)) else draw(values)


def _sane(manifest) -> None:
    assert manifest.id == manifest.id.strip() and manifest.name.strip()
    assert not manifest.entry.startswith(("/", "..")) and "\x00" not in manifest.entry
    for url in (manifest.web_url, manifest.status_page_url, manifest.usage_dashboard_url):
        assert url is None or url.startswith(("http://", "https://"))
    for number in (manifest.min_interval_sec, manifest.probe_timeout_sec):
        assert number is None or 0 < number <= 86400
    json.dumps(manifest.name, ensure_ascii=False).encode("utf-8")


@fuzz(400)
@given(data=manifests())
def test_manifest_is_usable_or_rejected_with_problems(data) -> None:
    manifest, problems = parse_manifest(data, "plugin.json")
    for problem in problems:
        assert problem.level in ("error", "warning") and problem.message
    if manifest is None:
        assert any(p.level == "error" for p in problems)
    else:
        _sane(manifest)


raw_files = st.one_of(
    st.binary(max_size=200),
    st.integers(1, 100_000).map(lambda n: b"[" * n),
    st.just(json.dumps(BASE).replace('"Fuzzed"', '"F\\ud800"').encode()),
    st.just(json.dumps(BASE).replace("60", "1" + "0" * 400).encode()),
    st.just(b"\xef\xbb\xbf" + json.dumps(BASE).encode()),
)


@fuzz(100)
@given(raw=raw_files)
def test_unreadable_manifest_files(tmp_path_factory, raw: bytes) -> None:
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "plugin.json").write_bytes(raw)
    manifest, problems = read_manifest(folder)
    if manifest is None:
        assert any(p.level == "error" and p.message for p in problems)
    else:
        _sane(manifest)


def test_broken_manifests_never_break_the_other_plugins(tmp_path: Path, home: Path) -> None:
    """Discovery, listing and probing with a folder of hostile manifests next to a good plugin."""
    plugins = tmp_path / "plugins"
    make_plugin(plugins, "good", OK_PROBE)
    hostile = {
        "deep": b"[" * 100_000,
        "surrogate": json.dumps({**BASE, "id": "surrogate", "name": "S\ud800"}).encode(
            "utf-8", "surrogatepass"
        ),
        "escaped": json.dumps({**BASE, "id": "escaped"}).replace("Fuzzed", "\\udc00").encode(),
        "huge": json.dumps({**BASE, "id": "huge"}).replace("60", "1" + "0" * 400).encode(),
        "binary": b"\x00\xff\xfe",
        "escape-entry": json.dumps(
            {**BASE, "id": "escape-entry", "entry": "../good/plugin.js"}
        ).encode(),
        "not-object": b"[1, 2, 3]",
    }
    for folder, raw in hostile.items():
        (plugins / folder).mkdir()
        (plugins / folder / "plugin.json").write_bytes(raw)
        (plugins / folder / "plugin.js").write_text(
            "globalThis.__usagestat_plugin = {id: 'x', probe: function () {}};"
        )
    registry = discover([str(plugins)], [], include_cwd=False)
    config = Config(path=tmp_path / "none.toml")
    resolution = resolve_instances(config, registry)
    listed = to_json(summaries(resolution, registry))
    json.dumps(listed, ensure_ascii=False).encode("utf-8")
    by_id = {item["id"]: item for item in listed}
    assert by_id["good"].get("error") is None
    for folder in hostile:
        assert by_id[folder]["error"], folder
    # Named on the command line, each broken plugin is a failed snapshot of its own.
    ids = ["good", *hostile]
    outcomes = probe_many(select(resolution, registry, ids), config)
    results = {o.snapshot.instance_id: to_json(o.snapshot) for o in outcomes}
    assert sorted(results) == sorted(ids)
    assert results["good"]["state"] == "ready"
    assert all(results[folder]["state"] == "failed" for folder in hostile)
    for snap in results.values():
        check_snapshot(snap)
        if snap["error"]:
            clear_message(snap["error"]["message"])
