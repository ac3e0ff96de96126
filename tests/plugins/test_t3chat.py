"""T3 Chat plugin: getCustomerData (tRPC JSONL) with a t3.chat session cookie or cURL capture."""

from __future__ import annotations

import json

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

fixture = fixtures("t3chat")
URL = "https://t3.chat/api/trpc/getCustomerData"
INPUT = {"0": {"json": {"sessionId": None}, "meta": {"values": {"sessionId": ["undefined"]}}}}
COOKIE = "__session=t3-session-secret-1234; convex-session-id=cvx-secret-5678"
JSONL = fixture("getCustomerData.jsonl")
HINT = "usagestat auth import-cookies --provider t3chat --save"


def customer(**changes: object) -> str:
    lines = [json.loads(line) for line in JSONL.splitlines()]
    data = lines[1]["json"][2][0][0]["result"]["data"]["json"]
    data.update(changes)
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def serve(env, body: str = JSONL, status: int = 200, headers: dict | None = None) -> None:
    env.web.add(
        "GET",
        URL,
        status=status,
        body=body,
        headers={"content-type": "application/jsonl", **(headers or {})},
    )


def test_normal_account(plugin_env):
    serve(plugin_env)
    run = ready(plugin_env.probe("t3chat", cookie_header=COOKIE), source="web", plan="Pro")
    base = run.metric("Base")
    assert (base["used"], base["limit"], base["format"]) == (37.5, 100.0, {"kind": "percent"})
    assert base["resetsAt"] == "2030-01-01T04:00:00Z"
    assert base["periodDurationMs"] == 4 * 3600 * 1000
    overage = run.metric("Overage")
    assert (overage["used"], overage["resetsAt"]) == (12.0, "2030-01-15T00:00:00Z")
    assert overage["periodDurationMs"] == 31 * 86_400_000  # Dec 15 -> Jan 15
    assert run.metric("Usage band") == {
        "type": "text",
        "label": "Usage band",
        "value": "Standard",
        "detail": True,
    }
    assert run.metric("Balance")["value"] == "1,500"
    (req,) = plugin_env.requests_to(URL, "GET")
    assert req.query["batch"] == "1"
    assert json.loads(req.query["input"]) == INPUT
    assert req.headers["cookie"] == COOKIE
    assert req.headers["trpc-accept"] == "application/jsonl"
    assert req.headers["x-trpc-source"] == "web-client"
    assert req.headers["referer"] == "https://t3.chat/settings/customization"
    assert "Chrome/" in req.headers["user-agent"]
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "t3-session-secret-1234", "cvx-secret-5678")


def test_curl_capture_replays_only_safe_headers(plugin_env):
    curl = (
        "curl 'https://t3.chat/api/trpc/getCustomerData?batch=1' \\\n"
        "  -H 'accept: */*' \\\n"
        "  -H 'authorization: Bearer not-forwarded-token' \\\n"
        "  -b '__session=curl-session-secret; cf_clearance=clearance-value' \\\n"
        "  -H 'user-agent: Mozilla/5.0 CapturedBrowser/1.0' \\\n"
        "  -H 'x-deployment-id: dpl_Example123' \\\n"
        "  -H 'x-client-context: web' \\\n"
        "  -H 'origin: https://evil.example'"
    )
    # reset times in seconds work too
    serve(plugin_env, customer(usageFourHourNextResetAt=1893470400, subTier=None))
    run = plugin_env.probe("t3chat", cookie_header=curl)
    assert run.state == "ready", run.error
    assert run.metric("Base")["resetsAt"] == "2030-01-01T04:00:00Z"
    assert run.json["plan"] == "Pro"  # subscription.productName
    req = only_request(
        plugin_env,
        URL,
        cookie="__session=curl-session-secret; cf_clearance=clearance-value",
        user_agent="Mozilla/5.0 CapturedBrowser/1.0",
        x_deployment_id="dpl_Example123",
        x_client_context="web",
    )
    assert "authorization" not in req.headers and "origin" not in req.headers
    plugin_env.assert_no_secrets(
        run, "curl-session-secret", "not-forwarded-token", "clearance-value"
    )


def test_env_fallbacks_and_config_wins(plugin_env):
    plugin_env.setenv("T3_CHAT_COOKIE", "__session=from-second-env")
    serve(plugin_env)
    assert plugin_env.probe("t3chat").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=from-second-env"
    plugin_env.setenv("T3CHAT_COOKIE", "Cookie: __session=from-first-env")
    assert plugin_env.probe("t3chat").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=from-first-env"
    assert plugin_env.probe("t3chat", cookie_header="__session=cfg").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=cfg"


def test_expired_session_rate_limit_and_malformed_answers(plugin_env):
    jsonl = {"content-type": "application/jsonl"}
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("t3chat", cookie_header=COOKIE),
        answer(
            "credential-denied",
            f"T3 Chat session expired — run `{HINT}` (HTTP 401).",
            status=401,
            body='{"error":"unauthorized"}',
            headers=jsonl,
        ),
        answer(
            "credential-denied",
            HINT,
            "redirected",
            status=307,
            headers={"location": "https://t3.chat/auth/login"},
        ),
        answer(
            "credential-denied",
            "UNAUTHORIZED",
            body=json.dumps(fixture("getCustomerData-unauthorized.json")),
            headers=jsonl,
        ),
        answer(
            "credential-denied",
            "web page",
            body="<!DOCTYPE html><html><body>Sign in</body></html>",
            headers=jsonl,
        ),
        rate_limited(120, body="{}", headers={"retry-after": "120", **jsonl}),
        answer(
            "rate-limited",
            "Vercel security challenge",
            "cURL",
            retry_after=900,
            status=403,
            body="<html>Vercel Security Checkpoint</html>",
            headers={"x-vercel-mitigated": "challenge", "content-type": "text/html"},
        ),
        answer(
            "failed",
            "Could not parse T3 Chat usage (not JSON).",
            body="definitely not json",
            headers=jsonl,
        ),
        answer(
            "failed",
            "Could not parse T3 Chat usage: missing usageFourHourPercentage.",
            body='{"json":{"something":"else"}}\n',
            headers=jsonl,
        ),
        secrets=("t3-session-secret-1234", "cvx-secret-5678"),
    )


def test_missing_credential(plugin_env):
    expect(plugin_env.probe("t3chat"), "missing-auth", HINT, "T3CHAT_COOKIE")
    run = plugin_env.probe("t3chat", cookie_header="curl 'https://t3.chat/' -H 'accept: */*'")
    expect(run, "missing-auth", "holds no cookie")
    assert plugin_env.web.requests == []


@pytest.mark.parametrize("field", ["code", "httpStatus"])
def test_an_error_field_nested_thousands_deep_is_ignored(plugin_env, field):
    """Regression: String()/Number() of such an array overflowed the engine's stack;
    the error's other fields still say the session expired."""
    error = fixture("getCustomerData-unauthorized.json")
    body = deeply_nested(error, 0, "error", "json", "data", field)
    plugin_env.web.add("GET", URL, body=body, headers={"content-type": "application/jsonl"})
    expect(plugin_env.probe("t3chat", cookie_header=COOKIE), "credential-denied", HINT)
