"""Kiro plugin: cached usage (state.vscdb, q-client.log) and live getUsageLimits with token refresh."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpers import (
    answer,
    check_answers,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
    vscode_state_db,
)

fixture = fixtures("kiro")
TOKEN_FILE = ".aws/sso/cache/kiro-auth-token.json"
USAGE = "https://q.us-east-1.amazonaws.com/getUsageLimits"
REFRESH = "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken"
ARN = "arn:aws:codewhisperer:us-east-1:123456789012:profile/EXAMPLEPROFILE"
KIRO = ".config/Kiro"
JANUARY_MS = 31 * 86_400_000
ACCESS = "aoa-test-access-token-111111"
REFRESH_TOKEN = "aor-test-refresh-token-222222"


def iso(offset_sec: float) -> str:
    moment = datetime.fromtimestamp(time.time() + offset_sec, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sign_in(env, expires_in: float = 3600, **extra) -> Path:
    token = {
        "accessToken": ACCESS,
        "refreshToken": REFRESH_TOKEN,
        "expiresAt": iso(expires_in),
        "authMethod": "social",
        "provider": "Github",
        "profileArn": ARN,
        **extra,
    }
    return env.file(TOKEN_FILE, json.dumps(token, indent=2) + "\n", mode=0o600)


def cache_usage(env, age_sec: float = 60) -> None:
    state = fixture("state-kiro-agent.json")
    state["kiro.resourceNotifications.usageState"]["timestamp"] = int(
        (time.time() - age_sec) * 1000
    )
    vscode_state_db(
        env, KIRO + "/User/globalStorage/state.vscdb", {"kiro.kiroAgent": json.dumps(state)}
    )


def log_usage(env, age_sec: float = 120) -> None:
    stamp = datetime.fromtimestamp(time.time() - age_sec, timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.000"
    )
    entry = {"commandName": "GetUsageLimitsCommand", "output": fixture("get-usage-limits.json")}
    text = f"{stamp} [info] {json.dumps(entry, separators=(',', ':'))}\n"
    env.file(KIRO + "/logs/20300105T100000/window1/exthost/kiro.kiroAgent/q-client.log", text)


def check_live_lines(run) -> None:
    credits = run.metric("Credits")
    assert credits["format"] == {"kind": "count", "suffix": "credits"}
    assert (
        abs(credits["used"] - 1000.0) < 1e-9 and credits["limit"] == 1000.0
    )  # 1012.37 - 12.37 overage
    assert credits["resetsAt"] == "2030-02-01T00:00:00Z"
    assert credits["periodDurationMs"] == JANUARY_MS
    bonus = run.metric("Bonus Credits")
    assert (bonus["used"], bonus["limit"], bonus["resetsAt"]) == (
        106.11,
        500.0,
        "2030-01-20T00:00:00Z",
    )
    assert run.metric("Overages")["text"] == "Enabled"
    over = run.metric("Overage credits")
    assert (over["used"], over["limit"], over["detail"]) == (12.37, 10000.0, True)
    assert run.json["plan"] == "Kiro Pro"


def test_local_cache_is_used_without_network(plugin_env):
    token_file = sign_in(plugin_env)
    before = token_file.read_bytes()
    cache_usage(plugin_env)
    log_usage(plugin_env)
    run = ready(plugin_env.probe("kiro"), source="local")
    credits = run.metric("Credits")
    assert (credits["used"], credits["limit"]) == (250.5, 1000.0)
    assert (
        credits["resetsAt"] == "2030-02-01T00:00:00Z" and credits["periodDurationMs"] == JANUARY_MS
    )
    assert run.json["plan"] == "Kiro Pro"  # from the logged answer
    assert run.metric("Overages")["text"] == "Enabled"
    assert "Kiro's cache" in run.metric("Updated")["value"]
    assert plugin_env.web.requests == []
    assert token_file.read_bytes() == before


def test_logged_answer_when_newer_than_the_cache(plugin_env):
    sign_in(plugin_env)
    cache_usage(plugin_env, age_sec=600)
    log_usage(plugin_env, age_sec=30)
    run = plugin_env.probe("kiro")
    assert run.state == "ready", run.error
    check_live_lines(run)
    assert "Kiro's log" in run.metric("Updated")["value"]
    assert plugin_env.web.requests == []


def test_oauth_live_call_with_a_valid_token(plugin_env):
    token_file = sign_in(plugin_env)
    before = token_file.read_bytes()
    plugin_env.web.add("GET", USAGE, json=fixture("get-usage-limits.json"))
    run = ready(plugin_env.probe("kiro", source="oauth"), source="oauth")
    check_live_lines(run)
    assert not run.has_metric("Updated")
    req = only_request(plugin_env, USAGE, "GET", authorization="Bearer " + ACCESS)
    assert req.query == {
        "origin": "AI_EDITOR",
        "profileArn": ARN,
        "resourceType": "AGENTIC_REQUEST",
    }
    assert req.headers["user-agent"].startswith("usagestat/")
    assert plugin_env.requests_to(REFRESH) == []
    assert token_file.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH_TOKEN)


def test_expired_token_is_refreshed_and_written_back(plugin_env):
    token_file = sign_in(plugin_env, expires_in=-60, clientIdHash="keep-me")
    cache_usage(plugin_env, age_sec=3600)  # stale: the live call is needed
    plugin_env.web.add("POST", REFRESH, json=fixture("refresh-token.json"))
    plugin_env.web.add("GET", USAGE, json=fixture("get-usage-limits.json"))
    run = ready(plugin_env.probe("kiro"), source="oauth")
    check_live_lines(run)
    (refresh,) = plugin_env.requests_to(REFRESH, "POST")
    assert refresh.json() == {"refreshToken": REFRESH_TOKEN}
    assert (
        plugin_env.requests_to(USAGE)[0].headers["authorization"] == "Bearer aoa-EXAMPLE-new-access"
    )
    text = token_file.read_text()
    data = json.loads(text)
    assert data["accessToken"] == "aoa-EXAMPLE-new-access"
    assert data["refreshToken"] == "aor-EXAMPLE-new-refresh"
    assert list(data) == [
        "accessToken",
        "refreshToken",
        "expiresAt",
        "authMethod",
        "provider",
        "profileArn",
        "clientIdHash",
    ]
    assert data["clientIdHash"] == "keep-me"
    expires = datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00")).timestamp()
    assert time.time() + 3500 < expires < time.time() + 3700
    assert text.startswith('{\n  "accessToken"') and text.endswith("}\n")
    assert token_file.stat().st_mode & 0o777 == 0o600
    plugin_env.assert_no_secrets(
        run, ACCESS, REFRESH_TOKEN, "aoa-EXAMPLE-new-access", "aor-EXAMPLE-new-refresh"
    )


def test_rejected_token_refreshes_once(plugin_env):
    sign_in(plugin_env)
    plugin_env.web.add("GET", USAGE, json=fixture("get-usage-limits.json"))
    plugin_env.web.add("GET", USAGE, status=403, json={"message": "expired"}, times=1)
    plugin_env.web.add("POST", REFRESH, json=fixture("refresh-token.json"))
    run = plugin_env.probe("kiro", source="oauth")
    assert run.state == "ready", run.error
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(USAGE)]
    assert auths == ["Bearer " + ACCESS, "Bearer aoa-EXAMPLE-new-access"]

    plugin_env.web.reset()
    sign_in(plugin_env)
    plugin_env.web.add("GET", USAGE, status=401, json={"message": "nope"})
    plugin_env.web.add("POST", REFRESH, json=fixture("refresh-token.json"))
    expect(plugin_env.probe("kiro", source="oauth"), "credential-denied", "Open Kiro")
    assert len(plugin_env.requests_to(USAGE)) == 2 and len(plugin_env.requests_to(REFRESH)) == 1


def test_failed_refresh_leaves_the_file_alone(plugin_env):
    token_file = sign_in(plugin_env, expires_in=-60)
    before = token_file.read_bytes()
    plugin_env.web.add("POST", REFRESH, status=400, json={"error": "invalid_grant"})
    run = expect(plugin_env.probe("kiro", source="oauth"), "credential-denied", "Open Kiro")
    assert token_file.read_bytes() == before
    assert plugin_env.requests_to(USAGE) == []
    plugin_env.assert_no_secrets(run, REFRESH_TOKEN)


def test_builder_id_and_write_credentials_off_are_not_refreshed(plugin_env):
    sign_in(plugin_env, expires_in=-60, authMethod="IdC", provider="BuilderId")
    expect(plugin_env.probe("kiro", source="oauth"), "credential-denied", "BuilderId")
    sign_in(plugin_env, expires_in=-60)
    expect(
        plugin_env.probe("kiro", source="oauth", write_credentials=False),
        "credential-denied",
        "writeCredentials",
    )
    assert plugin_env.web.requests == []


def test_region_from_config(plugin_env):
    sign_in(plugin_env)
    url = "https://q.eu-central-1.amazonaws.com/getUsageLimits"
    plugin_env.web.add("GET", url, json=fixture("get-usage-limits.json"))
    run = plugin_env.probe("kiro", source="oauth", region="eu-central-1")
    assert run.state == "ready", run.error
    assert len(plugin_env.requests_to(url)) == 1


def test_rate_limited_and_malformed_answers(plugin_env):
    sign_in(plugin_env)
    check_answers(
        plugin_env,
        "GET",
        USAGE,
        lambda: plugin_env.probe("kiro", source="oauth"),
        rate_limited(300),
        answer("failed", "HTML", body="<html>error</html>"),
        answer("failed", "usageBreakdownList", json={"nextDateReset": "2030-02-01T00:00:00Z"}),
        answer("failed", "usageLimit", json={"usageBreakdownList": [{"resourceType": "CREDIT"}]}),
        secrets=(ACCESS, REFRESH_TOKEN),
    )


def test_rate_limited_live_call_falls_back_to_stale_cache(plugin_env):
    sign_in(plugin_env)
    cache_usage(plugin_env, age_sec=7200)
    plugin_env.web.add("GET", USAGE, status=429, headers={"Retry-After": "300"}, json={})
    run = ready(plugin_env.probe("kiro"), source="local")
    assert run.metric("Credits")["used"] == 250.5


def test_missing_sign_in(plugin_env):
    cache_usage(plugin_env)  # cached numbers alone are not shown to a logged-out user
    expect(plugin_env.probe("kiro"), "missing-auth", "Open Kiro and sign in")
    plugin_env.file(TOKEN_FILE, {"authMethod": "social"})
    assert plugin_env.probe("kiro").state == "missing-auth"
    assert plugin_env.web.requests == []


@pytest.mark.parametrize("odd", [1e308, 2**53 + 1, "9" * 40])
def test_refresh_answer_with_an_expires_in_beyond_any_date_still_saves_the_pair(plugin_env, odd):
    """Regression: such an expiresIn threw "RangeError: Date value is NaN" after the
    server had rotated the refresh token, so the new pair was never saved and Kiro was
    left with a spent refresh token. The pair is saved, with an hour's expiry in the
    file's own form (the spent one would make every later probe refresh again)."""
    token_file = sign_in(plugin_env, expires_in=-60)
    expires_before = json.loads(token_file.read_text())["expiresAt"]
    plugin_env.web.add("POST", REFRESH, json={**fixture("refresh-token.json"), "expiresIn": odd})
    plugin_env.web.add("GET", USAGE, json=fixture("get-usage-limits.json"))
    run = ready(plugin_env.probe("kiro", source="oauth"), source="oauth")
    data = json.loads(token_file.read_text())
    assert data["accessToken"] == "aoa-EXAMPLE-new-access"
    assert data["refreshToken"] == "aor-EXAMPLE-new-refresh"
    assert type(data["expiresAt"]) is type(expires_before)
    written = data["expiresAt"]
    if isinstance(written, str):
        seconds = datetime.fromisoformat(written.replace("Z", "+00:00")).timestamp()
    else:
        seconds = written / 1000
    assert abs(seconds - time.time() - 3600) < 120
    plugin_env.assert_no_secrets(run, "aoa-EXAMPLE-new-access", "aor-EXAMPLE-new-refresh")
