"""T3 Chat plugin: getCustomerData (tRPC JSONL) with a t3.chat session cookie or cURL capture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "plugins" / "t3chat" / "fixtures"
URL = "https://t3.chat/api/trpc/getCustomerData"
INPUT = {"0": {"json": {"sessionId": None}, "meta": {"values": {"sessionId": ["undefined"]}}}}
COOKIE = "__session=t3-session-secret-1234; convex-session-id=cvx-secret-5678"
JSONL = (FIXTURES / "getCustomerData.jsonl").read_text()
HINT = "usagestat auth import-cookies --provider t3chat --save"


def customer(**changes: object) -> str:
    lines = [json.loads(line) for line in JSONL.splitlines()]
    data = lines[1]["json"][2][0][0]["result"]["data"]["json"]
    data.update(changes)
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def answer(env, body: str = JSONL, status: int = 200, headers: dict | None = None) -> None:
    env.web.add(
        "GET",
        URL,
        status=status,
        body=body,
        headers={"content-type": "application/jsonl", **(headers or {})},
    )


def test_normal_account(plugin_env):
    answer(plugin_env)
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "ready", run.error
    assert run.json["source"] == "web" and run.json["plan"] == "Pro"
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
    answer(plugin_env, customer(usageFourHourNextResetAt=1893470400, subTier=None))
    run = plugin_env.probe("t3chat", cookie_header=curl)
    assert run.state == "ready", run.error
    assert run.metric("Base")["resetsAt"] == "2030-01-01T04:00:00Z"
    assert run.json["plan"] == "Pro"  # subscription.productName
    (req,) = plugin_env.requests_to(URL)
    assert req.headers["cookie"] == "__session=curl-session-secret; cf_clearance=clearance-value"
    assert req.headers["user-agent"] == "Mozilla/5.0 CapturedBrowser/1.0"
    assert req.headers["x-deployment-id"] == "dpl_Example123"
    assert req.headers["x-client-context"] == "web"
    assert "authorization" not in req.headers and "origin" not in req.headers
    plugin_env.assert_no_secrets(
        run, "curl-session-secret", "not-forwarded-token", "clearance-value"
    )


def test_env_fallbacks_and_config_wins(plugin_env):
    plugin_env.setenv("T3_CHAT_COOKIE", "__session=from-second-env")
    answer(plugin_env)
    assert plugin_env.probe("t3chat").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=from-second-env"
    plugin_env.setenv("T3CHAT_COOKIE", "Cookie: __session=from-first-env")
    assert plugin_env.probe("t3chat").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=from-first-env"
    assert plugin_env.probe("t3chat", cookie_header="__session=cfg").state == "ready"
    assert plugin_env.requests_to(URL)[-1].headers["cookie"] == "__session=cfg"


def test_expired_session(plugin_env):
    answer(plugin_env, status=401, body='{"error":"unauthorized"}')
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "credential-denied"
    assert run.error == f"T3 Chat session expired — run `{HINT}` (HTTP 401)."
    plugin_env.web.add(
        "GET", URL, status=307, headers={"location": "https://t3.chat/auth/login"}, body=""
    )
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "credential-denied" and HINT in run.error and "redirected" in run.error
    answer(plugin_env, body=(FIXTURES / "getCustomerData-unauthorized.json").read_text())
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "credential-denied" and "UNAUTHORIZED" in run.error
    answer(plugin_env, body="<!DOCTYPE html><html><body>Sign in</body></html>")
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "credential-denied" and "web page" in run.error
    plugin_env.assert_no_secrets(run, "t3-session-secret-1234")


def test_rate_limit_and_vercel_challenge(plugin_env):
    answer(plugin_env, status=429, body="{}", headers={"retry-after": "120"})
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "rate-limited" and run.retry_after_sec == 120
    answer(
        plugin_env,
        status=403,
        body="<html>Vercel Security Checkpoint</html>",
        headers={"x-vercel-mitigated": "challenge", "content-type": "text/html"},
    )
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "rate-limited" and run.retry_after_sec == 900
    assert "Vercel security challenge" in run.error and "cURL" in run.error


def test_malformed_answers(plugin_env):
    answer(plugin_env, body="definitely not json")
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "failed" and run.error == "Could not parse T3 Chat usage (not JSON)."
    answer(plugin_env, body='{"json":{"something":"else"}}\n')
    run = plugin_env.probe("t3chat", cookie_header=COOKIE)
    assert run.state == "failed"
    assert run.error == "Could not parse T3 Chat usage: missing usageFourHourPercentage."


def test_missing_credential(plugin_env):
    run = plugin_env.probe("t3chat")
    assert run.state == "missing-auth"
    assert HINT in run.error and "T3CHAT_COOKIE" in run.error
    run = plugin_env.probe("t3chat", cookie_header="curl 'https://t3.chat/' -H 'accept: */*'")
    assert run.state == "missing-auth" and "holds no cookie" in run.error
    assert plugin_env.web.requests == []


def test_manifest_validates_without_warnings():
    out = subprocess.run(
        [sys.executable, "-m", "usagestat", "plugin", "validate", "--json", "plugins/t3chat"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    (entry,) = json.loads(out.stdout)
    assert entry["valid"] is True and entry["problems"] == [], entry
