"""Contract test: schemathesis drives the live daemon from its own ``/openapi.json``.

Every check is on (status codes, content types, headers, response schemas,
405 with ``Allow`` for undeclared methods, rejection of invalid input, and,
with a token, that unauthenticated requests are refused). The number of
examples is kept small so the run stays well under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import MakeDaemon
from .harness import FAST_JS

CONFIG = """
[[providers]]
id = "mock"
enabled = false

[[providers]]
id = "alpha"

[[providers]]
id = "beta"
"""


def run_schemathesis(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "12",
        "--workers",
        "1",
        "--seed",
        "20261125",
        "--no-shrink",
        "--request-timeout",
        "20",
        *extra,
    ]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )


@pytest.mark.slow
def test_schemathesis_finds_no_failures(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    daemon = make_daemon(
        CONFIG, plugins=[("alpha", FAST_JS, {}), ("beta", FAST_JS, {})], args=["--verbose"]
    )
    daemon.wait_for(lambda: set(daemon.usage()) == {"alpha", "beta"})
    done = run_schemathesis(f"http://{daemon.host}:{daemon.port}", tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:] + daemon.log[-5000:]
    assert "No issues found" in done.stdout, done.stdout[-3000:]


@pytest.mark.slow
def test_schemathesis_with_bearer_token(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    token = "contract-test-token-0123456789"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    config = f'[daemon]\napiTokenFile = "{token_file}"\n' + CONFIG
    daemon = make_daemon(config, plugins=[("alpha", FAST_JS, {}), ("beta", FAST_JS, {})])
    auth = {"Authorization": f"Bearer {token}"}
    daemon.wait_for(lambda: len(daemon.get("/v1/usage", headers=auth).json()) == 2)
    done = run_schemathesis(
        f"http://{daemon.host}:{daemon.port}",
        tmp_path,
        "--header",
        f"Authorization: Bearer {token}",
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
