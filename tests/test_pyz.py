"""The single-file build: ``python zipapp.py`` → ``usagestat.pyz`` run alone in a clean venv.

The archive is built once per session. Every end-to-end run copies it alone into
an empty directory and runs it with ``python -I`` from a venv whose
site-packages has no ``quickjs-ng``, ``HOME`` and ``TMPDIR`` pointing at empty
temp dirs, and no ``USAGESTAT_*``/``XDG_*`` variables, so the engine can only
come from the wheels inside the archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PINS = json.loads((ROOT / "packaging" / "quickjs-ng-wheels.json").read_text(encoding="utf-8"))
POSIX = os.name == "posix"
IS_ROOT = POSIX and os.geteuid() == 0

# A wrapper that fakes the machine name (and optionally a musl libc) before running the .pyz.
FAKE_PLATFORM = """\
import os, runpy, sys
machine, libc, pyz = sys.argv[1], sys.argv[2], sys.argv[3]
real = os.uname()
class Uname:
    sysname, nodename, release, version = real.sysname, real.nodename, real.release, real.version
Uname.machine = machine
os.uname = lambda: Uname
if libc == "musl":
    def confstr(name):
        raise ValueError("unrecognized configuration name")
    os.confstr = confstr
sys.argv = [pyz] + sys.argv[4:]
sys.path.insert(0, pyz)
runpy.run_path(pyz, run_name="__main__")
"""


# -- fixtures -------------------------------------------------------------------------


def build(
    output: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "zipapp.py"), "-o", str(output), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("dist") / "usagestat.pyz"
    result = build(output)
    assert result.returncode == 0, result.stderr
    assert "engine wheel linux-x86_64" in result.stdout  # the size table
    return output


@pytest.fixture(scope="session")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv with nothing installed (no quickjs-ng), used with ``-I``."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = subprocess.run(
        [str(python), "-I", "-c", "import _quickjs"], capture_output=True, check=False
    )
    assert probe.returncode != 0, "the clean venv must not see quickjs-ng"
    return str(python)


@pytest.fixture
def app(pyz: Path, tmp_path: Path) -> Path:
    """The .pyz copied alone into an empty directory."""
    folder = tmp_path / "app"
    folder.mkdir()
    target = folder / "usagestat.pyz"
    shutil.copyfile(pyz, target)
    return target


@pytest.fixture(scope="session")
def can_mount(tmp_path_factory: pytest.TempPathFactory) -> bool:
    """Root with ``unshare``: read-only and noexec tmpfs mounts in a private namespace."""
    if not IS_ROOT or shutil.which("unshare") is None:
        return False
    where = tmp_path_factory.mktemp("mnt")
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs -o ro tmpfs "$0"',
            str(where),
        ],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return result.returncode == 0


def clean_env(home: Path, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
    }
    for name in ("SYSTEMROOT", "USERPROFILE", "LOCALAPPDATA", "APPDATA"):
        if name in os.environ and os.name == "nt":
            env[name] = os.environ[name]
    env.update(extra)
    return env


class Runner:
    """Runs the .pyz from its own directory with a clean environment."""

    def __init__(
        self, python: str, app: Path, home: Path, tmp: Path, wrap: list[str] | None = None
    ) -> None:
        self.python, self.app, self.home, self.tmp, self.wrap = python, app, home, tmp, wrap or []

    def command(self, *args: str) -> list[str]:
        return [*self.wrap, self.python, "-I", str(self.app), *args]

    def __call__(
        self, *args: str, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=self.app.parent,
            env=clean_env(self.home, self.tmp, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def mounted(where: Path, options: str) -> list[str]:
    """A command prefix that mounts an empty tmpfs on ``where`` in a private namespace."""
    script = f'mount -t tmpfs -o {options},size=32m tmpfs "$0" && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(where)]


@pytest.fixture(params=["writable-home", "readonly-home"])
def runner(
    request: pytest.FixtureRequest, clean_python: str, app: Path, tmp_path: Path, can_mount: bool
) -> Runner:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    wrap: list[str] = []
    if request.param == "readonly-home":
        if IS_ROOT:
            if not can_mount:
                pytest.skip("running as root without unshare/mount: cannot make HOME read-only")
            wrap = mounted(home, "ro")
        elif POSIX:
            home.chmod(0o555)
            request.addfinalizer(lambda: home.chmod(0o755))
        else:  # pragma: no cover - Windows
            pytest.skip("read-only HOME is simulated on POSIX only")
    return Runner(clean_python, app, home, tmp, wrap)


def write_plugin(folder: Path, url: str, host: str = "127.0.0.1") -> Path:
    """A tiny plugin whose probe reads usage JSON from ``url`` (plain http to loopback)."""
    plugin = folder / "fakeprov"
    plugin.mkdir(parents=True)
    manifest = {
        "id": "fakeprov",
        "name": "Fake provider",
        "entry": "plugin.js",
        "version": "1.0.0",
        "enabledByDefault": True,
        "supportedModes": ["api"],
        "permissions": {
            "http": [host],
            "env": [],
            "fs": [],
            "fsWrite": [],
            "commands": [],
            "keychain": [],
        },
    }
    (plugin / "plugin.json").write_text(json.dumps(manifest), encoding="utf-8")
    script = f"""
        globalThis.__usagestat_plugin = {{
          id: "fakeprov",
          probe: function (ctx) {{
            var resp = ctx.host.http.request({{ method: "GET", url: {json.dumps(url)}, timeoutMs: 10000 }});
            if (resp.status !== 200) ctx.util.fail("failed", "HTTP " + resp.status);
            var data = JSON.parse(resp.bodyText);
            return {{
              source: "api",
              plan: data.plan,
              metrics: [ctx.line.progress({{ label: "Session", used: data.used, limit: data.limit,
                                             format: {{ kind: "percent" }} }})],
            }};
          }},
        }};
    """
    (plugin / "plugin.js").write_text(textwrap.dedent(script), encoding="utf-8")
    (plugin / "icon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" '
        'fill="currentColor"/></svg>',
        encoding="utf-8",
    )
    return folder


def bundled_folders(pyz: Path | None = None) -> dict[str, str]:
    """Folder name -> manifest id of each bundled plugin, in the tree or the archive ("?" if unreadable)."""
    manifests: dict[str, bytes] = {}
    if pyz is None:
        for folder in sorted((ROOT / "plugins").iterdir()):
            if (folder / "plugin.json").is_file():
                manifests[folder.name] = (folder / "plugin.json").read_bytes()
    else:
        with zipfile.ZipFile(pyz) as archive:
            for name in archive.namelist():
                parts = name.split("/")
                if parts[:2] == ["usagestat", "bundled_plugins"] and parts[3:] == ["plugin.json"]:
                    manifests[parts[2]] = archive.read(name)
    found = {}
    for folder, data in manifests.items():
        try:
            found[folder] = json.loads(data)["id"]
        except (ValueError, KeyError, TypeError):
            found[folder] = "?"
    return found


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def native_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "native").iterdir()) if (root / "native").is_dir() else []


# -- the build ------------------------------------------------------------------------


def test_archive_layout(pyz: Path) -> None:
    with zipfile.ZipFile(pyz) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names), "entries are in sorted order"
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert names[0] == "__main__.py"
        assert "usagestat/entry.py" in names and "usagestat/vendor.py" in names
        assert "usagestat/_build_manifest.py" in names
        assert "usagestat/core/_vendor/tomli/_parser.py" in names  # the TOML reader for 3.10
        assert any(n.startswith("usagestat/plugins/prelude/") and n.endswith(".js") for n in names)
        for name in ("quickjs-ng-engine.txt", "quickjs-ng-python.txt", "tomli.txt"):
            assert f"usagestat/licenses/{name}" in names
        assert "usagestat/templates/provider-plugin/plugin.json" in names
        assert not any(
            "dev-providers" in n or "/fixtures/" in n or "__pycache__" in n for n in names
        )
        bundled = {
            n.split("/")[2]
            for n in names
            if n.startswith("usagestat/bundled_plugins/") and n.count("/") > 2
        }
        assert bundled == set(bundled_folders())
        for tag, pin in PINS["wheels"].items():
            info = archive.getinfo("usagestat/_wheels/" + pin["file"])
            assert info.compress_type == zipfile.ZIP_STORED, tag
            assert hashlib.sha256(archive.read(info)).hexdigest() == pin["sha256"]
        manifest: dict[str, Any] = {}
        exec(archive.read("usagestat/_build_manifest.py").decode(), manifest)
        assert set(manifest["WHEELS"]) == set(PINS["wheels"])
        for tag, (member, sha, native, size, _native_sha) in manifest["WHEELS"].items():
            assert member == "usagestat/_wheels/" + PINS["wheels"][tag]["file"]
            assert (
                sha == PINS["wheels"][tag]["sha256"]
                and native == PINS["wheels"][tag]["native"]
                and size > 0
            )
        icons = [
            n for n in names if n.startswith("usagestat/bundled_plugins/") and n.endswith(".svg")
        ]
        assert icons and set(icons) <= set(manifest["RESOURCES"])
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert pyz.stat().st_size < 8 * 1024 * 1024


@pytest.mark.slow
def test_build_is_byte_identical(pyz: Path, tmp_path: Path) -> None:
    """Two builds from the same tree (back to back, separate processes) are the same bytes."""
    first, second = tmp_path / "first.pyz", tmp_path / "second.pyz"
    for output in (first, second):
        result = build(output, "--offline", "-q")
        assert result.returncode == 0, result.stderr
    if first.read_bytes() != second.read_bytes():
        with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
            differ = sorted(
                {i.filename for i in one.infolist()} ^ {i.filename for i in two.infolist()}
                | {
                    i.filename
                    for i in one.infolist()
                    if i.filename in two.namelist() and one.read(i) != two.read(i.filename)
                }
            )
        pytest.fail(f"rebuilt archive differs in: {differ[:20]}")


def test_build_refuses_a_wheel_with_the_wrong_hash(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for pin in PINS["wheels"].values():
        (wheels / pin["file"]).write_bytes(b"not the pinned wheel")
    result = build(
        tmp_path / "x.pyz",
        "--wheel-dir",
        str(wheels),
        "--cache-dir",
        str(tmp_path / "c"),
        "--offline",
    )
    assert result.returncode == 1
    assert "sha256 mismatch" in one_line(result.stderr)
    assert not (tmp_path / "x.pyz").exists()


def test_build_offline_without_wheels_fails_loudly(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = build(
        tmp_path / "x.pyz", "--wheel-dir", str(empty), "--cache-dir", str(empty), "--offline"
    )
    assert result.returncode == 1
    assert "--offline" in one_line(result.stderr)


# -- running the archive alone ----------------------------------------------------------


@pytest.mark.slow
def test_pyz_runs_alone(runner: Runner, tmp_path: Path, httpserver: Any) -> None:
    httpserver.expect_request("/usage").respond_with_json({"plan": "Pro", "used": 37, "limit": 100})
    host = (
        httpserver.host
    )  # session-wide server: "localhost" unless a test suite binds it elsewhere
    plugins = write_plugin(tmp_path / "plugins", f"http://{host}:{httpserver.port}/usage", host)

    version = runner("--version", "--verbose")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("usagestat ")
    for needle in ("QuickJS-ng", "Fabrice Bellard", "quickjs-ng Python binding", "tomli"):
        assert needle in version.stdout

    usage = runner("--json", "usage", "fakeprov", "--plugin-dir", str(plugins))
    assert usage.returncode == 0, usage.stderr
    assert "Traceback" not in usage.stderr
    [snapshot] = json.loads(usage.stdout)
    assert snapshot["providerId"] == "fakeprov" and snapshot["state"] == "ready", snapshot
    assert snapshot["plan"] == "Pro"
    [metric] = snapshot["metrics"]
    assert (metric["label"], metric["used"], metric["limit"]) == ("Session", 37, 100)

    listing = runner("list", "--json", "--plugin-dir", str(plugins))
    assert listing.returncode == 0, listing.stderr
    providers = {p["id"]: p for p in json.loads(listing.stdout)}
    with zipfile.ZipFile(runner.app) as archive:
        names = set(archive.namelist())
    with_icons = {"fakeprov"} | {
        i
        for f, i in bundled_folders(runner.app).items()
        if f"usagestat/bundled_plugins/{f}/icon.svg" in names
    }
    assert with_icons <= set(providers)
    for plugin_id in with_icons:
        if "error" in providers[plugin_id] and plugin_id != "fakeprov":
            continue  # an invalid plugin has no icon info (checked by plugin validate below)
        icon = providers[plugin_id]["icon"]
        for key in ("path", "monochromePath"):
            path = icon.get(key)
            if key == "path" or path:
                assert path and os.path.isabs(path) and os.path.isfile(path), (plugin_id, icon)
                assert "<svg" in Path(path).read_text(encoding="utf-8")

    validate = runner("plugin", "validate", str(plugins))
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "fakeprov" in validate.stdout

    # The engine was extracted once, into HOME's cache or (read-only HOME) the temp dir.
    if POSIX:
        roots = [runner.home / ".cache" / "usagestat", runner.tmp / f"usagestat-{os.getuid()}"]
        used = [root for root in roots if native_dirs(root)]
        assert len(used) == 1, used
        if runner.wrap or not os.access(runner.home, os.W_OK):
            assert used[0] == roots[1]
        [folder] = native_dirs(used[0])
        assert folder.name.startswith(f"quickjs-ng-{PINS['version']}-")
        assert (folder / ".complete").is_file()


@pytest.mark.slow
def test_bundled_plugins_validate_like_the_source_tree(runner: Runner) -> None:
    packed = runner("plugin", "validate")
    assert "Traceback" not in packed.stderr
    source = subprocess.run(
        [sys.executable, "-m", "usagestat", "plugin", "validate"],
        cwd=runner.tmp,
        env={**clean_env(runner.home, runner.tmp), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    def verdicts(text: str) -> dict[str, str]:
        found = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("ok", "INVALID"):
                found[parts[1].rstrip("/").rsplit("/", 1)[-1]] = parts[0]
        return found

    packed_verdicts, source_verdicts = verdicts(packed.stdout), verdicts(source.stdout)
    folders = bundled_folders(runner.app)
    for folder, plugin_id in folders.items():
        key = plugin_id if plugin_id in packed_verdicts else folder
        assert key in packed_verdicts, (folder, packed.stdout)
        assert packed_verdicts.get(key) == source_verdicts.get(key), (
            key,
            packed.stdout,
            source.stdout,
        )
    assert packed.returncode == (1 if "INVALID" in packed_verdicts.values() else 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(
    not (ROOT / "usagestat" / "daemon" / "__init__.py").is_file()
    and not (ROOT / "usagestat" / "daemon.py").is_file(),
    reason="usagestat.daemon is not written yet",
)
def test_pyz_daemon_answers_health_and_probes(
    runner: Runner, tmp_path: Path, httpserver: Any
) -> None:
    httpserver.expect_request("/usage").respond_with_json({"plan": "Max", "used": 5, "limit": 50})
    host = httpserver.host
    plugins = write_plugin(tmp_path / "plugins", f"http://{host}:{httpserver.port}/usage", host)
    port = free_port()
    process = subprocess.Popen(
        runner.command(
            "daemon", "--refresh-sec", "30", "--port", str(port), "--plugin-dir", str(plugins)
        ),
        cwd=runner.app.parent,
        env=clean_env(runner.home, runner.tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/health", timeout=2
                ) as response:
                    health = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.1)
        assert health is not None, (
            process.communicate(timeout=5) if process.poll() is not None else "no answer"
        )
        assert health["status"] == "ok"
        # The first cycle probes the fake provider in a worker that re-enters the archive.
        snapshot = None
        while time.monotonic() < deadline + 20 and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/v1/usage/fakeprov", timeout=5
                ) as response:
                    snapshot = json.loads(response.read())
                    break
            except OSError:  # 503 while the first probe is pending
                time.sleep(0.2)
        assert snapshot is not None and snapshot["state"] == "ready", snapshot
        assert (snapshot["plan"], snapshot["metrics"][0]["used"]) == ("Max", 5)
    finally:
        process.terminate()
        try:
            _out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
    assert "Traceback" not in err, err


# -- the engine cache -------------------------------------------------------------------


@pytest.fixture
def plain(clean_python: str, app: Path, tmp_path: Path) -> Runner:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    return Runner(clean_python, app, home, tmp)


@pytest.fixture
def tiny_plugin(tmp_path: Path) -> Path:
    return write_plugin(tmp_path / "plugins", "http://127.0.0.1:9/unused")


@pytest.mark.slow
def test_warm_start_extracts_nothing_and_damage_is_repaired(
    plain: Runner, tiny_plugin: Path
) -> None:
    assert plain("plugin", "validate", str(tiny_plugin)).returncode == 0
    cache = plain.home / ".cache" / "usagestat"
    [folder] = native_dirs(cache)
    native = next(p for p in folder.iterdir() if p.name.startswith("_quickjs"))
    before = native.stat()
    if POSIX:
        assert stat.S_IMODE(cache.stat().st_mode) == 0o700
        assert stat.S_IMODE(native.stat().st_mode) == 0o600

    again = plain("plugin", "validate", str(tiny_plugin))
    assert again.returncode == 0, again.stderr
    after = native.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    # No temp dirs left behind.
    assert [p.name for p in (cache / "native").iterdir()] == [folder.name]

    # The warm path imports no json/zipfile/tempfile (nor typing).
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); from usagestat import vendor; vendor.load_quickjs(); "
        "print(sorted({'json', 'zipfile', 'tempfile', 'typing', 'hashlib'} & set(sys.modules)))"
    )
    light = subprocess.run(
        [plain.python, "-I", "-S", "-c", check, str(plain.app)],
        env=clean_env(plain.home, plain.tmp),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert light.returncode == 0, light.stderr
    assert light.stdout.strip() == "[]"

    # A truncated copy (marker present, wrong size) is set aside and extracted again.
    with native.open("r+b") as handle:
        handle.truncate(4096)
    repaired = plain("plugin", "validate", str(tiny_plugin))
    assert repaired.returncode == 0, repaired.stderr
    assert native.stat().st_size == before.st_size
    assert [p.name for p in (cache / "native").iterdir()] == [folder.name]


@pytest.mark.slow
@pytest.mark.skipif(not POSIX, reason="POSIX ownership and mode checks")
def test_an_untrusted_cache_dir_is_skipped(plain: Runner, tiny_plugin: Path) -> None:
    shared = plain.tmp / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # group/world-writable: never trusted
    result = plain("plugin", "validate", str(tiny_plugin), USAGESTAT_CACHE_DIR=str(shared))
    assert result.returncode == 0, result.stderr
    assert not (shared / "native").exists()
    assert native_dirs(plain.home / ".cache" / "usagestat")


@pytest.mark.slow
def test_unsupported_platform_gets_one_line(
    plain: Runner, tiny_plugin: Path, tmp_path: Path
) -> None:
    wrapper = tmp_path / "fakeplatform.py"
    wrapper.write_text(FAKE_PLATFORM, encoding="utf-8")

    def run(machine: str, libc: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [plain.python, "-I", str(wrapper), machine, libc, str(plain.app), *args],
            cwd=plain.app.parent,
            env=clean_env(plain.home, plain.tmp),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    result = run("riscv64", "glibc", "plugin", "validate", str(tiny_plugin))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert (
        "riscv64" in line
        and "supported: Linux x86_64 and aarch64" in line
        and "macOS arm64" in line
    )
    assert "Windows amd64" in line

    for args in (
        ("--json", "usage", "fakeprov", "--plugin-dir", str(tiny_plugin)),
        ("daemon", "--port", "0"),
    ):
        refused = run("riscv64", "glibc", *args)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "riscv64" in one_line(refused.stderr)

    musl = run(
        os.uname().machine if POSIX else "x86_64", "musl", "plugin", "validate", str(tiny_plugin)
    )
    assert musl.returncode == 1
    assert "musl" in one_line(musl.stderr)

    # Commands that need no JavaScript still work.
    listing = run("riscv64", "glibc", "list", "--plugin-dir", str(tiny_plugin))
    assert listing.returncode == 0, listing.stderr
    assert "fakeprov" in listing.stdout
    assert not (plain.home / ".cache" / "usagestat" / "native").exists()


@pytest.mark.slow
def test_noexec_cache_falls_back_or_fails_clearly(
    clean_python: str, app: Path, tmp_path: Path, tiny_plugin: Path, can_mount: bool
) -> None:
    if not can_mount:
        pytest.skip("needs root and unshare to mount a noexec tmpfs")
    home, tmp, noexec = tmp_path / "home", tmp_path / "tmp", tmp_path / "noexec"
    for folder in (home, tmp, noexec):
        folder.mkdir()
    # Only USAGESTAT_CACHE_DIR is noexec: the next root (HOME's cache) is used.
    runner = Runner(clean_python, app, home, tmp, mounted(noexec, "noexec"))
    result = runner(
        "plugin", "validate", str(tiny_plugin), USAGESTAT_CACHE_DIR=str(noexec / "cache")
    )
    assert result.returncode == 0, result.stderr
    assert native_dirs(home / ".cache" / "usagestat")

    # HOME and TMPDIR both noexec: one clear line, exit 1.
    script = 'mount -t tmpfs -o noexec tmpfs "$0" && mount -t tmpfs -o noexec tmpfs "$1" && shift && exec "$@"'
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(home), str(tmp)]
    runner = Runner(clean_python, app, home, tmp, wrap)
    result = runner("plugin", "validate", str(tiny_plugin))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "noexec" in line and "USAGESTAT_CACHE_DIR" in line


def find_python310() -> str | None:
    """A working CPython 3.10 ($USAGESTAT_TEST_PY310, python3.10 on PATH, or a pyenv install)."""
    candidates = [os.environ.get("USAGESTAT_TEST_PY310", ""), shutil.which("python3.10") or ""]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.mark.slow
def test_python310_runs_the_pyz_with_the_vendored_toml_reader(
    app: Path, tmp_path: Path, tiny_plugin: Path
) -> None:
    python310 = find_python310()
    if python310 is None:
        pytest.skip("no Python 3.10 on this machine")
    venv = tmp_path / "venv310"
    subprocess.run([python310, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    (home / ".config" / "usagestat").mkdir(parents=True)
    tmp.mkdir()
    config = f'pluginDirs = [{json.dumps(str(tiny_plugin))}]\n\n[[providers]]\nid = "fakeprov"\n'
    (home / ".config" / "usagestat" / "config.toml").write_text(config, encoding="utf-8")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    runner = Runner(str(python), app, home, tmp)
    checked = runner("config", "validate")  # no tomllib on 3.10: usagestat/core/_vendor/tomli
    assert checked.returncode == 0, checked.stdout + checked.stderr
    validated = runner("plugin", "validate", str(tiny_plugin))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert native_dirs(home / ".cache" / "usagestat")


# -- the loader in-process ---------------------------------------------------------------


@pytest.fixture
def vendor() -> Iterator[Any]:
    from usagestat import vendor as module

    yield module


class FakeUname:
    sysname = nodename = release = version = ""

    def __init__(self, machine: str) -> None:
        self.machine = machine


@pytest.mark.parametrize(
    ("platform", "machine", "libc", "tag", "words"),
    [
        ("linux", "x86_64", "glibc 2.36", "linux-x86_64", "Linux x86_64"),
        ("linux", "aarch64", "glibc 2.17", "linux-aarch64", "Linux aarch64"),
        ("linux", "x86_64", None, None, "musl"),
        ("linux", "x86_64", "glibc 2.12", None, "glibc 2.12"),
        ("linux", "armv7l", "glibc 2.31", None, "armv7l"),
        ("darwin", "arm64", None, "macos-arm64", "macOS arm64"),
        ("darwin", "x86_64", None, None, "macOS x86_64"),
    ],
)
def test_platform_tag(
    vendor: Any,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    machine: str,
    libc: str | None,
    tag: str | None,
    words: str,
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(os, "uname", lambda: FakeUname(machine), raising=False)

    def confstr(name: str) -> str:
        if libc is None:
            raise ValueError(name)
        return libc

    monkeypatch.setattr(os, "confstr", confstr, raising=False)
    found, described = vendor.platform_tag()
    assert found == tag
    assert words in described


def test_32_bit_python_is_unsupported(vendor: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "maxsize", 2**31 - 1)
    tag, described = vendor.platform_tag()
    assert tag is None and "32-bit" in described


@pytest.mark.skipif(not POSIX, reason="POSIX ownership and mode checks")
def test_trusted_dir_rules(vendor: Any, tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir(mode=0o700)
    assert vendor.trusted_dir(str(good))
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o775)
    assert not vendor.trusted_dir(str(loose))
    link = tmp_path / "link"
    link.symlink_to(good)
    assert vendor.trusted_dir(str(link))  # the user's own cache dir may be a symlink
    assert not vendor.trusted_dir(str(link), shared=True)  # never in the shared temp dir
    assert not vendor.trusted_dir(str(tmp_path / "missing"))
    if IS_ROOT:
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 65534, 65534)
        assert not vendor.trusted_dir(str(other))


def test_cache_roots_order(vendor: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("USAGESTAT_CACHE_DIR", str(tmp_path / "override"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    roots = list(vendor.cache_roots())
    assert [r[0] for r in roots[:2]] == [
        str(tmp_path / "override"),
        str(tmp_path / "xdg" / "usagestat"),
    ]
    assert roots[2][0].startswith(str(tmp_path / "usagestat-")) and roots[2][1] is True


def test_not_available_outside_the_pyz(vendor: Any) -> None:
    assert vendor.available() is False


@pytest.fixture
def packed(vendor: Any, pyz: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``usagestat.vendor`` pointed at the built archive and its manifest (in-process)."""
    import types

    manifest = types.ModuleType("_build_manifest")
    with zipfile.ZipFile(pyz) as archive:
        exec(archive.read("usagestat/_build_manifest.py").decode(), manifest.__dict__)
    monkeypatch.setattr(vendor, "archive_path", lambda: str(pyz))
    monkeypatch.setattr(vendor, "_manifest", lambda: manifest)
    return vendor


def test_concurrent_extractions_publish_one_copy(
    packed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    (root / "native").mkdir(mode=0o700)
    stale = root / "native" / ".tmp-crashed"
    stale.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    tag = "linux-x86_64"
    entry = packed._manifest().WHEELS[tag]
    key = packed._key(tag, entry)
    results: list[str] = []
    errors: list[BaseException] = []

    def extract() -> None:
        try:
            results.append(packed._extract(str(root), key, entry))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=extract) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert os.path.getsize(results[0]) == entry[3]
    assert sorted(p.name for p in (root / "native").iterdir()) == [
        key
    ]  # no temp dirs, stale one swept

    def no_read(*_args: Any) -> bytes:
        raise AssertionError("a published copy must not be extracted again")

    monkeypatch.setattr(packed, "_read_wheel_member", no_read)
    assert packed._extract(str(root), key, entry) == results[0]


def test_icons_are_extracted_once_by_build_hash(
    packed: Any, pyz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USAGESTAT_CACHE_DIR", str(tmp_path / "cache"))
    manifest = packed._manifest()
    name, (digest, size) = next(iter(sorted(manifest.RESOURCES.items())))
    icon = zipfile.Path(str(pyz), name)
    path = packed.extract_resource(icon)
    assert path == str(tmp_path / "cache" / "resources" / f"{digest}{Path(name).suffix}")
    assert os.path.getsize(path) == size
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest().startswith(digest)

    class Unreadable:
        at = name

        def read_bytes(self) -> bytes:
            raise AssertionError("warm runs must not read the archive")

        def is_file(self) -> bool:
            raise AssertionError("warm runs must not read the archive")

    assert packed.extract_resource(Unreadable()) == path
    missing = zipfile.Path(str(pyz), name.rsplit("/", 1)[0] + "/no-such-icon.svg")
    assert packed.extract_resource(missing) is None
