"""Discovery order of SPEC §3.2, shadowing and broken-plugin isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from tmpplugins import make_plugin

from usagestat.plugins.discovery import discover


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    out = {name: tmp_path / name for name in ("cli", "config", "env1", "env2")}
    out["user"] = home / ".config" / "usagestat" / "plugins"
    out["cwd"] = cwd / "plugins"
    for path in out.values():
        path.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("USAGESTAT_PLUGIN_DIR", f"{out['env1']}:{out['env2']}")
    monkeypatch.chdir(cwd)
    return out


def origin_of(registry, plugin_id: str) -> str:
    return registry.get(plugin_id).origin


def test_precedence_first_directory_wins(dirs: dict[str, Path]) -> None:
    order = ["cli", "config", "env1", "env2", "user", "cwd"]
    for index, _name in enumerate(order):
        # plugin "p<i>" exists in this dir and every later one
        for later in order[index:]:
            make_plugin(dirs[later], f"p{index}", manifest={"name": f"from {later}"})
    registry = discover([str(dirs["cli"])], [str(dirs["config"])])
    for index, name in enumerate(order):
        plugin = registry.get(f"p{index}")
        assert plugin.manifest.name == f"from {name}"
    assert origin_of(registry, "p0") == "cli" and origin_of(registry, "p5") == "cwd"


def test_user_plugin_shadows_bundled_with_a_warning(dirs: dict[str, Path]) -> None:
    make_plugin(dirs["user"], "mock", manifest={"name": "My mock"})
    registry = discover([], [])
    assert registry.get("mock").manifest.name == "My mock"
    assert [s.id for s in registry.shadowed] == ["mock"]


def test_plugin_dir_may_be_a_plugin_folder_itself(dirs: dict[str, Path], tmp_path: Path) -> None:
    single = make_plugin(tmp_path / "single", "solo")
    registry = discover([str(single)], [])
    assert registry.get("solo").origin == "cli"


def test_broken_plugins_do_not_break_the_others(dirs: dict[str, Path]) -> None:
    make_plugin(dirs["cli"], "good")
    bad_json = dirs["cli"] / "bad-json"
    bad_json.mkdir()
    (bad_json / "plugin.json").write_text("{not json")
    make_plugin(dirs["cli"], "no-entry").joinpath("plugin.js").unlink()
    make_plugin(dirs["cli"], "Bad_Id", folder="bad-id")
    registry = discover([str(dirs["cli"])], [])
    assert registry.get("good") is not None
    broken = {b.key: b.first_problem for b in registry.broken}
    assert "invalid JSON" in broken["bad-json"]
    assert "not found" in broken["no-entry"]
    assert "id is required" in broken["bad-id"]
    assert registry.broken_named("bad-json") is not None


def test_a_broken_plugin_with_a_readable_id_is_keyed_by_that_id(dirs: dict[str, Path]) -> None:
    make_plugin(dirs["cli"], "acme", folder="acme-plugin", manifest={"webUrl": "ftp://acme.test"})
    make_plugin(dirs["cli"], "Not An Id", folder="odd-plugin", manifest={"webUrl": "ftp://x"})
    registry = discover([str(dirs["cli"])], [])
    by_folder = {b.folder.name: b for b in registry.broken}
    acme = by_folder["acme-plugin"]
    assert (acme.key, acme.id) == ("acme", "acme")
    assert "webUrl must be an http(s) URL" in acme.first_problem
    assert registry.broken_named("acme") is acme
    assert registry.broken_named("acme-plugin") is acme  # the folder name still finds it
    odd = by_folder["odd-plugin"]
    assert (odd.key, odd.id) == ("odd-plugin", None)


def test_dev_providers_are_marked(dirs: dict[str, Path]) -> None:
    registry = discover([], [])
    assert registry.get("mock").dev is True
