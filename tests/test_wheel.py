"""A wheel (what ``pip install usagestat`` gets) carries the bundled plugins and the template.

The wheel is built from a copy of the checkout (so the build leaves nothing in
it), unpacked into a temp folder and run with ``python -I`` from there, so only
what the wheel holds can be found: no ``plugins/`` folder of a checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from homes import private_home

ROOT = Path(__file__).resolve().parents[1]
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation")
PIP_WHEEL += ("--no-index",)  # offline: setuptools and wheel come from the dev extra
SOURCES = ("usagestat", "plugins", "packaging", "zipapp.py", "setup.py", "pyproject.toml")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("wheel") is None or importlib.util.find_spec("setuptools") is None:
        pytest.skip("building a wheel needs setuptools and wheel (the dev extra)")
    tree = tmp_path_factory.mktemp("wheel-src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in (*SOURCES, "README.md", "MANIFEST.in"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    shutil.copytree(
        ROOT / "templates" / "provider-plugin",
        tree / "templates" / "provider-plugin",
        ignore=ignore,
    )
    out = tmp_path_factory.mktemp("wheel-out")
    done = subprocess.run(
        [*PIP_WHEEL, "-w", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (built,) = out.glob("usagestat-*.whl")
    return built


def test_the_wheel_holds_the_plugins_and_the_template_without_tests(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    bundled = {n.split("/")[2] for n in names if n.startswith("usagestat/bundled_plugins/")}
    expected = {p.name for p in (ROOT / "plugins").iterdir() if (p / "plugin.json").is_file()}
    assert bundled == expected
    assert "usagestat/templates/provider-plugin/plugin.json" in names
    assert "usagestat/templates/provider-plugin/README.md" in names  # `plugin new` copies it
    assert not [n for n in names if "/fixtures/" in n or "/tests/" in n]
    assert not [
        n for n in names if n.startswith("usagestat/bundled_plugins/") and n.endswith(".md")
    ]


def test_an_installed_wheel_lists_and_runs_its_plugins(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    from usagestat.plugins.isolation import engine_file

    engine = engine_file()
    if engine is None:
        pytest.skip("the QuickJS engine is not installed")
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    shutil.copy2(engine, engine_dir / os.path.basename(engine))
    env = {"PATH": os.environ.get("PATH", ""), **private_home(tmp_path), "NO_COLOR": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(engine_dir)])

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "usagestat", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = run("--json", "list")
    assert listed.returncode == 0, listed.stderr
    plugins = {p["id"]: p for p in json.loads(listed.stdout)}
    assert {"claude", "codex", "openrouter"} <= set(plugins)
    icon = plugins["claude"]["icon"]["path"]
    assert Path(icon).is_file() and icon.startswith(str(site))

    created = run("plugin", "new", "acme", "--mode", "api", "--dir", str(tmp_path / "mine"))
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "mine" / "acme" / "plugin.json").is_file()
