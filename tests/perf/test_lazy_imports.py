"""Start-up stays lean: what the fast paths must not import (SPEC §10; not timing-based).

The CLI's start-up budget is a few times a bare ``python -c pass``; ``ssl``
alone costs more than that, and the probe worker starts once per CLI probe.
Each check runs a fresh interpreter with ``-X importtime`` and reads the list
of modules it imported. ``-S`` keeps site-packages hooks of the test machine
out of the list (the engine's folder is then named on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from usagestat.plugins import isolation
from usagestat.plugins.probe import build_request

REPO = Path(__file__).resolve().parents[2]

# Never needed to print a version or list providers, nor by the CLI process to run a probe.
HEAVY = (
    "ssl",
    "urllib.request",
    "http.client",
    "sqlite3",
    "_quickjs",
    "quickjs",
    "concurrent.futures",
    "asyncio",
    "email",
)
# The probe worker before any host call: only json/re and the engine.
WORKER_NEVER = (
    *HEAVY[:4],
    "concurrent.futures",
    "asyncio",
    "subprocess",
    "threading",
    "typing",
    "dataclasses",
    "importlib.util",
    "pathlib",
    "datetime",
    "hashlib",
    "zipfile",
)


def imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names


def cli_imports(home: Path, *args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("USAGESTAT_", "PYTHON"))}
    # -S: no site-packages, so name the engine's folder (for `usage`) explicitly
    engine = isolation.engine_file()
    roots = [str(REPO)] + ([os.path.dirname(engine)] if engine else [])
    env.update(PYTHONPATH=os.pathsep.join(roots), NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-m", "usagestat", *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return imported(done.stderr)


@pytest.mark.parametrize("args", [("--version",), ("list",), ("--json", "usage", "mock")])
def test_cli_does_not_import_heavy_modules(home: Path, args: tuple[str, ...]) -> None:
    modules = cli_imports(home, *args)
    assert "usagestat.cli" in modules  # the check saw the real run
    assert sorted(modules & set(HEAVY)) == []


def test_list_from_a_source_checkout_does_not_import_zipfile(home: Path) -> None:
    # zipfile (with shutil, bz2, lzma) is only for reading plugins inside the .pyz
    assert "zipfile" not in cli_imports(home, "list")


@pytest.mark.parametrize("args", [("list",), ("--json", "usage", "mock"), ("config", "--help")])
def test_no_shutil_for_the_terminal_width(home: Path, args: tuple[str, ...]) -> None:
    # argparse's help formatter imports shutil unless it is given the width
    assert "shutil" not in cli_imports(home, *args)


def test_version_imports_no_parser_json_or_plugins(home: Path) -> None:
    modules = cli_imports(home, "--version")
    unexpected = {"argparse", "json", "usagestat.plugins", "dataclasses", "typing"} & modules
    assert sorted(unexpected) == []


def _plugin(root: Path, probe_body: str, http: list[str]) -> Path:
    folder = root / "lean"
    folder.mkdir(parents=True)
    manifest = {
        "id": "lean",
        "name": "Lean",
        "entry": "plugin.js",
        "permissions": {"http": http, "env": [], "fs": [], "fsWrite": [], "commands": []},
    }
    (folder / "plugin.json").write_text(json.dumps(manifest))
    (folder / "plugin.js").write_text(
        'globalThis.__usagestat_plugin = {id: "lean", probe: function (ctx) {' + probe_body + "}};"
    )
    return root


def worker_imports(plugins: Path, settings: dict | None = None) -> tuple[dict, set[str]]:
    """Run one probe in a worker started with ``-X importtime``; its reply and imports."""
    from usagestat.core.config import Config, ProviderEntry
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import resolve_instances

    config = Config(
        path=plugins / "none.toml",
        providers=[ProviderEntry(id="lean", instance_id="lean", index=0, settings=settings or {})],
    )
    registry = discover([str(plugins)], [], include_cwd=False)
    instance = next(
        i for i in resolve_instances(config, registry).instances if i.instance_id == "lean"
    )
    request = build_request(instance, config, "auto", None, 20.0)
    command = isolation.worker_command()
    env = dict(os.environ)
    env["USAGESTAT_ENGINE_FILE"] = isolation.engine_file() or ""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        input=json.dumps(request) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    replies = [json.loads(line) for line in done.stdout.splitlines() if '"reply"' in line]
    assert replies, done.stderr[-2000:]
    return replies[0]["reply"], imported(done.stderr)


def test_worker_imports_only_json_re_and_the_engine(home: Path, tmp_path: Path) -> None:
    plugins = _plugin(tmp_path / "plugins", "return {metrics: []};", [])
    reply, modules = worker_imports(plugins)
    assert reply["ok"] is True
    assert {"json", "usagestat.plugins.runtime", "usagestat.plugins.host.session"} <= modules
    assert sorted(modules & set(WORKER_NEVER)) == []


def test_worker_imports_the_http_stack_only_for_an_http_call(home: Path, tmp_path: Path) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x"
        plugins = _plugin(
            tmp_path / "plugins",
            "var r = ctx.host.http.request({url: ctx.provider.settings.url, method: 'GET'});"
            "return {metrics: [ctx.line.text({label: 'Status', value: String(r.status)})]};",
            ["127.0.0.1"],
        )
        reply, modules = worker_imports(plugins, {"url": url})
    finally:
        server.shutdown()
        server.server_close()
    assert reply["ok"] is True, reply
    assert reply["value"]["metrics"][0]["value"] == "200"
    assert "http.client" in modules  # (which imports ssl itself, even for plain http)
    assert sorted(modules & {"sqlite3", "subprocess"}) == []
