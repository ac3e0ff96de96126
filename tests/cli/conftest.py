"""Run the real ``usagestat`` command line in a private home, with a pinned clock.

Every test gets a fresh HOME (and XDG dirs inside it), ``TZ=UTC`` and
``USAGESTAT_NOW``, so output is reproducible; provider credentials from the
developer's environment are not passed through; and any accidental request to
a real host goes to a dead proxy (loopback, which tests use, bypasses it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-01-15T12:00:00Z"
GOLDEN = Path(__file__).resolve().parent / "golden"
PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "PYTHONHASHSEED")
NO_PERMISSIONS: dict[str, list[str]] = {
    "http": [],
    "env": [],
    "fs": [],
    "fsWrite": [],
    "commands": [],
    "keychain": [],
}


@dataclass
class Result:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return (
            f"Result(args={self.args!r}, code={self.code},\n"
            f"stdout={self.stdout[:2000]!r},\nstderr={self.stderr[:2000]!r})"
        )


class Cli:
    """``cli.run("list", "--json")``: the CLI as a subprocess in this test's home."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.config_dir = self.home / ".config" / "usagestat"
        self.data_dir = self.home / ".local" / "share" / "usagestat"
        self.plugin_dir = tmp_path / "plugins"
        self.env: dict[str, str] = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
        self.env.update(
            {
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_DATA_HOME": str(self.home / ".local" / "share"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "TZ": "UTC",
                "USAGESTAT_NOW": NOW,
                "HTTPS_PROXY": "http://127.0.0.1:9",
                "HTTP_PROXY": "http://127.0.0.1:9",
                "PYTHONUTF8": "1",
            }
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "usagestat", *args]

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        input: str | None = None,
    ) -> Result:
        full_env = dict(self.env)
        full_env.update(env or {})
        done = subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            input=input,
            check=False,
        )
        return Result(list(args), done.returncode, done.stdout, done.stderr)

    def call(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """The same as :meth:`run`, in this process (much faster; for non-probing commands).

        The environment, working directory and standard streams are swapped for
        the call and restored afterwards.
        """
        import contextlib
        import io
        import time

        from usagestat.entry import main

        full_env = dict(self.env)
        full_env.update(env or {})
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        try:
            os.environ.clear()
            os.environ.update(full_env)
            if hasattr(time, "tzset"):
                time.tzset()
            os.chdir(ROOT)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(list(args))
                except SystemExit as exc:  # argparse: --help, usage errors
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            if hasattr(time, "tzset"):
                time.tzset()
            os.chdir(saved_cwd)
        texts = []
        for stream in (out, err):
            stream.flush()
            texts.append(stream.buffer.getvalue().decode("utf-8"))  # type: ignore[attr-defined]
        return Result(list(args), int(code or 0), texts[0], texts[1])

    # -- fixtures on disk ------------------------------------------------------------
    def write_config(self, text: str) -> Path:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / "config.toml"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    def plugin(
        self,
        plugin_id: str,
        probe_body: str = "return {metrics: [ctx.line.progress({label: 'Session', used: 25, limit: 100, format: {kind: 'percent'}})]};",
        *,
        root: Path | None = None,
        **manifest: Any,
    ) -> Path:
        """A plugin folder (``root``/``plugin_id``, default the test plugin dir)."""
        folder = (root or self.plugin_dir) / plugin_id
        folder.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "id": plugin_id,
            "name": plugin_id.replace("-", " ").title(),
            "entry": "plugin.js",
            "supportedModes": ["api"],
            "permissions": dict(NO_PERMISSIONS),
        }
        data.update(manifest)
        (folder / "plugin.json").write_text(json.dumps(data), encoding="utf-8")
        script = (
            f"globalThis.__usagestat_plugin = {{id: {json.dumps(plugin_id)}, "
            f"probe: function (ctx) {{\n{probe_body}\n}}}};\n"
        )
        (folder / "plugin.js").write_text(script, encoding="utf-8")
        (folder / "icon.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
            '<path d="M0 0h8v8H0z" fill="currentColor"/></svg>',
            encoding="utf-8",
        )
        return folder


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden("name.txt", text)``: compare with tests/cli/golden/name.txt.

    Run pytest with ``USAGESTAT_UPDATE_GOLDEN=1`` to (re)write the files after
    an intended change, then review the diff.
    """

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("USAGESTAT_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}; run with USAGESTAT_UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check
