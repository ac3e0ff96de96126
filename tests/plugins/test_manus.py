"""Manus plugin: GetAvailableCredits (Connect-RPC) with the manus.im session_id cookie."""

from __future__ import annotations

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

fixture = fixtures("manus")
URL = "https://api.manus.im/user.v1.UserService/GetAvailableCredits"
CREDITS = fixture("GetAvailableCredits.json")
TOKEN = "eyJhbGciOiJIUzI1NiJ9.manus-session-secret.sig"
HINT = "usagestat auth import-cookies --provider manus --save"


def test_normal_account(plugin_env):
    plugin_env.web.add("POST", URL, json=CREDITS)
    cookie = f"_ga=GA1.1.123; session_id={TOKEN}; theme=dark"
    run = ready(plugin_env.probe("manus", cookie_header=cookie), source="web", plan="Pro")
    monthly = run.metric("Monthly credits")
    assert (monthly["used"], monthly["limit"], monthly["format"]) == (
        600.0,
        4000.0,
        {"kind": "count", "suffix": "credits"},
    )
    assert "resetsAt" not in monthly  # the payload has no monthly reset time
    daily = run.metric("Daily refresh")
    assert (daily["used"], daily["limit"]) == (200.0, 300.0)
    assert daily["resetsAt"] == "2030-01-02T00:00:00Z"
    assert daily["periodDurationMs"] == 86_400_000
    assert run.metric("Balance")["value"] == "4,200 credits"
    assert run.metric("Free credits") == {
        "type": "text",
        "label": "Free credits",
        "value": "300 credits",
        "detail": True,
    }
    assert run.metric("Event credits")["value"] == "500 credits"
    assert not run.has_metric("Add-on credits")  # zero
    req = only_request(
        plugin_env,
        URL,
        "POST",
        authorization="Bearer " + TOKEN,
        cookie=cookie,
        connect_protocol_version="1",
        origin="https://manus.im",
        content_type="application/json",
    )
    assert req.json() == {}
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, TOKEN)


def test_wrapped_answer_env_token_and_free_account(plugin_env):
    plugin_env.setenv("MANUS_COOKIE", "session_id=ignored-because-token-env-wins")
    plugin_env.setenv("MANUS_SESSION_TOKEN", "raw-session-token-42")
    free = {
        "totalCredits": "1,000",
        "refreshCredits": 300,
        "maxRefreshCredits": 300,
        "nextRefreshTime": 1893542400,
        "refreshInterval": "REFRESH_INTERVAL_WEEKLY",
    }
    plugin_env.web.add("POST", URL, json={"data": {"availableCredits": free}})
    run = ready(plugin_env.probe("manus"), plan="Free")
    assert not run.has_metric("Monthly credits")
    daily = run.metric("Daily refresh")
    assert (daily["used"], daily["resetsAt"], daily["periodDurationMs"]) == (
        0.0,
        "2030-01-02T00:00:00Z",
        7 * 86_400_000,
    )
    assert run.metric("Balance")["value"] == "1,000 credits"
    req = plugin_env.requests_to(URL)[0]
    assert req.headers["authorization"] == "Bearer raw-session-token-42"
    assert req.headers["cookie"] == "session_id=raw-session-token-42"
    # config wins over env
    plugin_env.web.add("POST", URL, json=CREDITS)
    assert plugin_env.probe("manus", cookie_header="cfg-token-7").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["authorization"] == "Bearer cfg-token-7"


def test_expired_session_rate_limit_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "POST",
        URL,
        lambda: plugin_env.probe("manus", cookie_header=TOKEN),
        answer(
            "credential-denied",
            f"Manus session expired — run `{HINT}` (HTTP 401).",
            status=401,
            json=fixture("unauthenticated.json"),
        ),
        answer(
            "credential-denied", HINT, status=302, headers={"location": "https://manus.im/login"}
        ),
        answer("credential-denied", "web page", body="<html><body>Log in to Manus</body></html>"),
        rate_limited(90),
        answer("failed", "not JSON", body="{not json"),
        answer(
            "failed",
            "Unexpected response from Manus: missing totalCredits.",
            json={"code": "internal", "message": "boom"},
        ),
        secrets=(TOKEN,),
    )


def test_missing_credential(plugin_env):
    expect(plugin_env.probe("manus"), "missing-auth", HINT, "MANUS_SESSION_TOKEN")
    run = plugin_env.probe("manus", cookie_header="theme=dark; _ga=1")
    expect(run, "missing-auth", "no session_id")
    assert plugin_env.web.requests == []


def test_a_refresh_interval_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.web.add("POST", URL, body=deeply_nested(CREDITS, "refreshInterval"))
    run = ready(plugin_env.probe("manus", cookie_header=f"session_id={TOKEN}"), plan="Pro")
    daily = run.metric("Daily refresh")
    assert (daily["used"], daily["limit"]) == (200.0, 300.0)
    assert "periodDurationMs" not in daily
