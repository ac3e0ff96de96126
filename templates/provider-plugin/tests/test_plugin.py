"""Tests for the provider plugin in the folder above, through usagestat's real host.

This is the pattern to copy (``usagestat plugin new`` copies it with your
plugin): recorded response shapes, the fake internet (``plugin_env.web``)
answering the plugin's real URLs, and assertions on values, the requests sent
and secrets. Each test is skipped when the manifest does not list its mode.
Run from a usagestat checkout::

    python -m pytest path/to/your-plugin/tests -p fakeweb -p pluginharness

(with ``tests/`` of the checkout on ``PYTHONPATH``, see the template README).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((PLUGIN_DIR / "plugin.json").read_text(encoding="utf-8"))
PLUGIN_ID = MANIFEST["id"]
USAGE = json.loads((PLUGIN_DIR / "example-data/usage.json").read_text(encoding="utf-8"))
API = "https://api.example.com/v1/usage"


def mode(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        name not in MANIFEST.get("supportedModes", []), reason=f"{PLUGIN_ID} has no {name} mode"
    )


def probe(env, **kwargs):
    return env.probe(PLUGIN_ID, plugin_dirs=[str(PLUGIN_DIR)], **kwargs)


@mode("local")
def test_local_mode_reads_the_example_file(plugin_env):
    plugin_env.file(".example-provider/usage.json", USAGE)
    run = probe(plugin_env, source="local")
    assert run.state == "ready", run.error
    assert run.json["source"] == "local"
    assert run.json["plan"] == "Pro"
    session = run.metric("Session")
    assert session["used"] == 37.0 and session["limit"] == 100.0
    assert session["resetsAt"] == "2030-01-01T05:00:00Z"
    assert session["periodDurationMs"] == 5 * 3600 * 1000
    assert run.metric("Credits")["format"] == {"kind": "count", "suffix": "credits"}
    assert plugin_env.web.requests == []


@mode("local")
def test_local_mode_without_the_file_is_missing_auth(plugin_env):
    run = probe(plugin_env, source="local")
    assert run.state == "missing-auth"
    assert "example-cli login" in run.error


@mode("api")
def test_api_mode_sends_the_configured_key(plugin_env):
    plugin_env.web.add("GET", API, json=USAGE)
    run = probe(plugin_env, source="api", api_key="sk-test-template-key-123456")
    assert run.state == "ready", run.error
    (request,) = plugin_env.requests_to(API)
    assert request.headers["authorization"] == "Bearer sk-test-template-key-123456"
    plugin_env.assert_no_secrets(run, "sk-test-template-key-123456")


@mode("api")
def test_api_mode_falls_back_to_the_env_var(plugin_env):
    plugin_env.setenv("EXAMPLE_PROVIDER_API_KEY", "env-key-abcdef123456")
    plugin_env.web.add("GET", API, json=USAGE)
    run = probe(plugin_env, source="api")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(API)[0].headers["authorization"] == "Bearer env-key-abcdef123456"


@mode("api")
def test_api_mode_errors(plugin_env):
    plugin_env.web.add("GET", API, status=401, json={"error": "bad key"})
    assert probe(plugin_env, source="api", api_key="k-123456789").state == "credential-denied"
    plugin_env.web.add("GET", API, status=429, headers={"Retry-After": "120"}, json={})
    run = probe(plugin_env, source="api", api_key="k-123456789")
    assert run.state == "rate-limited" and run.retry_after_sec == 120
    plugin_env.web.add("GET", API, body="<html>maintenance</html>")
    run = probe(plugin_env, source="api", api_key="k-123456789")
    assert run.state == "failed" and "HTML" in run.error
    plugin_env.web.add("GET", API, json={"unexpected": True})
    run = probe(plugin_env, source="api", api_key="k-123456789")
    assert run.state == "failed" and "missing session" in run.error
    assert probe(plugin_env, source="api").state == "missing-auth"


@mode("oauth")
def test_oauth_mode_refreshes_an_expired_token_and_keeps_the_file_format(plugin_env):
    expired = {
        "accessToken": "old-access-token-1",
        "refreshToken": "refresh-token-1",
        "expiresAt": 1000,
        "keep": "me",
    }
    path = plugin_env.file(
        ".example-provider/credentials.json", json.dumps(expired, indent=2), mode=0o640
    )
    plugin_env.web.add(
        "POST",
        "https://api.example.com/oauth/token",
        json={
            "access_token": "new-access-token-2",
            "refresh_token": "refresh-token-2",
            "expires_in": 3600,
        },
    )
    plugin_env.web.add("GET", API, json=USAGE)
    run = probe(plugin_env, source="oauth")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(API)[0].headers["authorization"] == "Bearer new-access-token-2"
    written = path.read_text()
    data = json.loads(written)
    assert data["accessToken"] == "new-access-token-2" and data["refreshToken"] == "refresh-token-2"
    assert data["keep"] == "me" and list(data) == [
        "accessToken",
        "refreshToken",
        "expiresAt",
        "keep",
    ]
    assert data["expiresAt"] > time.time() * 1000
    assert written.startswith('{\n  "accessToken"')  # indentation kept
    assert path.stat().st_mode & 0o777 == 0o640  # mode kept
    plugin_env.assert_no_secrets(run, "new-access-token-2", "refresh-token-2", "old-access-token-1")


@mode("oauth")
def test_oauth_mode_does_not_refresh_a_valid_token(plugin_env):
    valid = {
        "accessToken": "valid-token-123",
        "refreshToken": "r-1234567",
        "expiresAt": (time.time() + 3600) * 1000,
    }
    path = plugin_env.file(".example-provider/credentials.json", valid)
    before = path.read_bytes()
    plugin_env.web.add("GET", API, json=USAGE)
    assert probe(plugin_env, source="oauth").state == "ready"
    assert plugin_env.requests_to("https://api.example.com/oauth/token") == []
    assert path.read_bytes() == before


@mode("oauth")
def test_oauth_mode_with_write_credentials_off_does_not_refresh(plugin_env):
    plugin_env.file(
        ".example-provider/credentials.json",
        {"accessToken": "a-12345678", "refreshToken": "r-12345678", "expiresAt": 1},
    )
    run = probe(plugin_env, source="oauth", write_credentials=False)
    assert run.state == "credential-denied"
    assert plugin_env.requests_to("https://api.example.com/oauth/token") == []


@mode("cli")
def test_cli_mode_runs_the_declared_program(plugin_env):
    plugin_env.fake_command("example-cli", "echo '" + json.dumps(USAGE) + "'")
    run = probe(plugin_env, source="cli")
    assert run.state == "ready", run.error
    assert run.metric("Session")["used"] == 37.0


@mode("web")
def test_web_mode_sends_the_cookie(plugin_env):
    plugin_env.web.add("GET", "https://example.com/api/usage", json=USAGE)
    run = probe(plugin_env, source="web", cookie_header="session=cookie-value-987654")
    assert run.state == "ready", run.error
    assert (
        plugin_env.requests_to("https://example.com/api/usage")[0].headers["cookie"]
        == "session=cookie-value-987654"
    )
    plugin_env.web.add(
        "GET", "https://example.com/api/usage", status=302, headers={"Location": "/login"}
    )
    run = probe(plugin_env, source="web", cookie_header="session=cookie-value-987654")
    assert run.state == "credential-denied" and "import-cookies" in run.error
    plugin_env.assert_no_secrets(run, "cookie-value-987654")
