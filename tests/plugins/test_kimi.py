"""kimi: Kimi Code CLI sign-in (rotating refresh tokens written back), local and API-key modes."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
)

fixture = fixtures("kimi")
USAGES = fixture("usages.json")
CREDS = fixture("credentials.json")
TOKEN = fixture("token.json")
USAGES_URL = "https://api.kimi.com/coding/v1/usages"
TOKEN_URL = "https://auth.kimi.com/api/oauth/token"
NEW_CLI = ".kimi-code/credentials/kimi-code.json"
OLD_CLI = ".kimi/credentials/kimi-code.json"
CLIENT_ID = "17e5f671-d194-4dfb-9706-5516cb48c098"


def creds(expires_in_sec: float, **extra) -> dict:
    return {**CREDS, "expires_at": time.time() + expires_in_sec, **extra}


def test_valid_token_normal_account_without_refresh(plugin_env):
    path = plugin_env.file(NEW_CLI, json.dumps(creds(3600), indent=2))
    before = path.read_bytes()
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = ready(plugin_env.probe("kimi"), source="oauth", plan="Intermediate")
    # percent lines, so pace (SPEC §2.3) works for both windows; the counts are details
    assert run.metric("Session") == {
        "type": "progress",
        "label": "Session",
        "used": 69.5,
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": "2030-01-05T12:00:00Z",
        "periodDurationMs": 300 * 60 * 1000,
    }
    assert run.metric("Session requests") == {
        "type": "text",
        "label": "Session requests",
        "value": "139 / 200 requests",
        "detail": True,
    }
    weekly = run.metric("Weekly")
    assert weekly["used"] == 10.45 and weekly["limit"] == 100.0
    assert weekly["format"] == {"kind": "percent"}
    assert weekly["resetsAt"] == "2030-01-09T15:23:13.716Z"
    assert weekly["periodDurationMs"] == 7 * 24 * 3600 * 1000
    assert run.metric("Weekly requests")["value"] == "214 / 2,048 requests"
    (req,) = plugin_env.requests_to(USAGES_URL)
    assert req.method == "GET" and req.headers["authorization"] == "Bearer kimi-access-example"
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "kimi-access-example", "kimi-refresh-example")


def test_expired_token_refreshes_and_rotated_pair_is_written_back(plugin_env):
    original = {
        "access_token": "kimi-access-old",
        "refresh_token": "kimi-refresh-old",
        "keep": "me",
    }
    original.update({"expires_at": time.time() - 100, "scope": "kimi-code", "token_type": "Bearer"})
    path = plugin_env.file(OLD_CLI, json.dumps(original, indent=2) + "\n", mode=0o640)
    plugin_env.web.add("POST", TOKEN_URL, json=TOKEN)
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", source="oauth")
    assert run.state == "ready", run.error
    token_req = only_request(
        plugin_env, TOKEN_URL, content_type="application/x-www-form-urlencoded"
    )
    form = parse_qs(token_req.text())
    assert form == {
        "client_id": [CLIENT_ID],
        "grant_type": ["refresh_token"],
        "refresh_token": ["kimi-refresh-old"],
    }
    assert (
        plugin_env.requests_to(USAGES_URL)[0].headers["authorization"] == "Bearer kimi-access-new"
    )
    written = path.read_text()
    data = json.loads(written)
    assert data["access_token"] == "kimi-access-new" and data["refresh_token"] == "kimi-refresh-new"
    assert time.time() + 800 < data["expires_at"] < time.time() + 1000  # seconds, not ms
    assert data["keep"] == "me"
    assert list(data) == [
        "access_token",
        "refresh_token",
        "keep",
        "expires_at",
        "scope",
        "token_type",
    ]
    assert written.startswith('{\n  "access_token"') and written.endswith("}\n")
    assert path.stat().st_mode & 0o777 == 0o640
    plugin_env.assert_no_secrets(run, "kimi-access-new", "kimi-refresh-new", "kimi-refresh-old")


def test_rejected_token_is_refreshed_once(plugin_env):
    path = plugin_env.file(NEW_CLI, creds(3600))
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    plugin_env.web.add("GET", USAGES_URL, status=401, json={"error": "unauthorized"}, times=1)
    plugin_env.web.add("POST", TOKEN_URL, json=TOKEN)
    run = plugin_env.probe("kimi")
    assert run.state == "ready", run.error
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(USAGES_URL)]
    assert auths == ["Bearer kimi-access-example", "Bearer kimi-access-new"]
    assert json.loads(path.read_text())["refresh_token"] == "kimi-refresh-new"


def test_failed_refresh_and_refusals_leave_the_store_alone(plugin_env):
    path = plugin_env.file(NEW_CLI, creds(-60))
    before = path.read_bytes()
    plugin_env.web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_grant"})
    expect(plugin_env.probe("kimi"), "credential-denied", "kimi login")
    assert path.read_bytes() == before
    # writeCredentials off: no refresh attempted at all.
    expect(
        plugin_env.probe("kimi", write_credentials=False), "credential-denied", "writeCredentials"
    )
    # local source: never refreshes.
    run = expect(plugin_env.probe("kimi", source="local"), "credential-denied", "never refreshes")
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1
    assert path.read_bytes() == before
    plugin_env.assert_no_secrets(run, "kimi-refresh-example")


def test_local_source_reads_the_same_file(plugin_env):
    plugin_env.file(NEW_CLI, creds(3600))
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", source="local")
    assert run.state == "ready" and run.json["source"] == "local"


def test_fresher_cli_generation_wins(plugin_env):
    plugin_env.file(OLD_CLI, creds(600, access_token="kimi-old-gen-token"))
    plugin_env.file(NEW_CLI, creds(7200, access_token="kimi-new-gen-token"))
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    assert plugin_env.probe("kimi").state == "ready"
    assert (
        plugin_env.requests_to(USAGES_URL)[0].headers["authorization"]
        == "Bearer kimi-new-gen-token"
    )


def test_api_key_modes_and_precedence(plugin_env):
    plugin_env.file(NEW_CLI, creds(3600))
    plugin_env.setenv("KIMI_CODE_API_KEY", "sk-kimi-env-222")
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", api_key="sk-kimi-config-111")
    assert run.state == "ready" and run.json["source"] == "api"
    run = plugin_env.probe("kimi")
    assert run.state == "ready" and run.json["source"] == "api"
    # only config baseUrl moves the host; KIMI_CODE_BASE_URL is not read
    plugin_env.setenv("KIMI_CODE_BASE_URL", "https://kimi-proxy.example.test/coding/v1")
    assert plugin_env.probe("kimi", source="api").state == "ready"
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(USAGES_URL)]
    assert auths == [
        "Bearer sk-kimi-config-111",
        "Bearer sk-kimi-env-222",
        "Bearer sk-kimi-env-222",
    ]
    plugin_env.web.add("GET", "https://gw.example.test/kimi/usages", json=USAGES)
    run = plugin_env.probe("kimi", source="api", base_url="https://gw.example.test/kimi/")
    ready(run, source="api")
    plugin_env.web.add("GET", USAGES_URL, status=403, json={})
    run = plugin_env.probe("kimi", source="api")
    assert run.state == "credential-denied" and "KIMI_CODE_API_KEY" in run.error
    plugin_env.assert_no_secrets(run, "sk-kimi-env-222")


def test_rate_limited_and_malformed_answers(plugin_env):
    plugin_env.file(NEW_CLI, creds(3600))
    check_answers(
        plugin_env,
        "GET",
        USAGES_URL,
        lambda: plugin_env.probe("kimi"),
        rate_limited(30),
        answer("failed", "HTML", body="<html>gateway</html>"),
        answer("failed", "missing usage", json={"user": {}}),
        secrets=("kimi-access-example", "kimi-refresh-example"),
    )


def test_partial_answers(plugin_env):
    plugin_env.web.add("GET", USAGES_URL, json={"usage": {}, "limits": []})
    run = plugin_env.probe("kimi", api_key="sk-kimi-1")
    assert run.state == "ready" and run.metric("Status")["text"] == "No usage data"
    partial = {
        "usage": {"limit": "1024", "remaining": "1000", "resetTime": "2030-01-09T00:00:00Z"},
        "limits": [
            {
                "window": {"duration": 1, "timeUnit": "TIME_UNIT_DAY"},
                "detail": {"limit": "900", "remaining": "900"},
            },
            {
                "window": {"duration": 5, "timeUnit": "TIME_UNIT_HOUR"},
                "detail": {"limit": "200", "remaining": "150"},
            },
        ],
    }
    plugin_env.web.add("GET", USAGES_URL, json=partial)
    run = plugin_env.probe("kimi", api_key="sk-kimi-1")
    assert run.state == "ready", run.error
    assert "plan" not in run.json
    assert run.metric("Weekly")["used"] == 2.34  # 24 of 1024
    assert run.metric("Weekly requests")["value"] == "24 / 1,024 requests"
    assert run.metric("Session")["used"] == 25.0  # 50 of 200
    assert run.metric("Session")["periodDurationMs"] == 5 * 3600 * 1000
    day = run.metric("Limit (1d)")
    assert day["used"] == 0.0 and day["detail"] is True


def test_pace_from_the_session_window(plugin_env):
    reset = datetime.now(timezone.utc) + timedelta(hours=2)  # 3 of 5 hours elapsed
    usages = json.loads(json.dumps(USAGES))
    usages["limits"][0]["detail"]["resetTime"] = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
    plugin_env.web.add("GET", USAGES_URL, json=usages)
    run = ready(plugin_env.probe("kimi", api_key="sk-kimi-1"))
    pace = run.json["pace"]
    assert pace is not None and pace["actualUsedPercent"] == 69.5
    assert 59 < pace["expectedUsedPercent"] < 61


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("kimi"), "missing-auth", "kimi login")
    expect(plugin_env.probe("kimi", source="api"), "missing-auth", "KIMI_CODE_API_KEY")
    assert plugin_env.web.requests == []


@pytest.mark.parametrize("field", ["duration", "timeUnit"])
def test_a_window_field_nested_thousands_deep_is_ignored(plugin_env, field):
    """Regression: Number() of such an array (or using it as a key) overflowed the
    engine's stack. The window's length is then unknown; its counts still show."""
    body = deeply_nested(USAGES, "limits", 0, "window", field)
    plugin_env.web.add("GET", USAGES_URL, body=body)
    run = ready(plugin_env.probe("kimi", api_key="sk-kimi-1"))
    session = run.metric("Session")
    assert session["used"] == 69.5 and "periodDurationMs" not in session
    assert run.metric("Weekly")["limit"] == 100.0


def test_refresh_answer_with_a_nested_refresh_token_keeps_the_old_one(plugin_env):
    """Regression: a refresh_token nested thousands deep was written into the CLI's file."""
    original = {**CREDS, "refresh_token": "kimi-refresh-old", "expires_at": time.time() - 100}
    path = plugin_env.file(OLD_CLI, json.dumps(original, indent=2) + "\n")
    plugin_env.web.add("POST", TOKEN_URL, body=deeply_nested(TOKEN, "refresh_token"))
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", source="oauth")
    assert run.state == "ready", run.error
    data = json.loads(path.read_text())
    assert data["access_token"] == "kimi-access-new"
    assert data["refresh_token"] == "kimi-refresh-old"


@pytest.mark.parametrize("odd", [1e308, 2**53 + 1, "9" * 40])
def test_refresh_answer_with_an_expires_in_beyond_any_date_writes_an_hour(plugin_env, odd):
    """Regression: such an expires_in was written into the CLI's file as it came
    (expires_at 1e308 s); the pair is saved with an hour's expiry (the spent one would
    make every later probe refresh again)."""
    original = {**CREDS, "expires_at": time.time() - 100, "expires_in": 900}
    path = plugin_env.file(NEW_CLI, json.dumps(original, indent=2) + "\n")
    plugin_env.web.add("POST", TOKEN_URL, json={**TOKEN, "expires_in": odd})
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", source="oauth")
    assert run.state == "ready", run.error
    data = json.loads(path.read_text())
    assert data["access_token"] == "kimi-access-new" and data["refresh_token"] == "kimi-refresh-new"
    assert abs(data["expires_at"] - time.time() - 3600) < 120 and data["expires_in"] == 3600


@pytest.mark.parametrize("name", ["scope", "token_type"])
@pytest.mark.parametrize("odd", [True, 7, ["kimi-code"], {"a": 1}, "", "deep"])
def test_refresh_answer_with_a_scope_or_token_type_that_is_not_text_keeps_the_old_one(
    plugin_env, name, odd
):
    """Regression: a scope or token_type of any type was copied into the CLI's file;
    one nested thousands deep left a file Python's json module cannot read back."""
    original = {**CREDS, "expires_at": time.time() - 100}
    path = plugin_env.file(NEW_CLI, json.dumps(original, indent=2) + "\n")
    if odd == "deep":
        plugin_env.web.add("POST", TOKEN_URL, body=deeply_nested(TOKEN, name))
    else:
        plugin_env.web.add("POST", TOKEN_URL, json={**TOKEN, name: odd})
    plugin_env.web.add("GET", USAGES_URL, json=USAGES)
    run = plugin_env.probe("kimi", source="oauth")
    assert run.state == "ready", run.error
    data = json.loads(path.read_text())
    assert data["access_token"] == "kimi-access-new" and data["refresh_token"] == "kimi-refresh-new"
    assert data[name] == original[name]
