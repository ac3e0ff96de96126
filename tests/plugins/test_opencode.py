"""opencode: opencode.ai web session (hashed server functions), through the real host."""

from __future__ import annotations

import json
import time
from datetime import datetime

from helpers import expect, fixtures, ready

FIX = fixtures("opencode")("server-functions.json")
SERVER = "https://opencode.ai/_server"
FN_WORKSPACES = "def39973159c7f0483d8793a822b8dbb10d067e12c65455fcb4608459ba0234f"
FN_SUBSCRIPTION = "7abeebee372f304e050aaaf92be863f4a86490e382f8c79db68fd94040d691b4"
FN_BILLING = "c83b78a614689c38ebee981f9b39a8b377716db85c1fd7dbab604adc02d3313d"
WRK = "wrk_01JEXAMPLEWORKSPACE"
COOKIE = "auth=oc-session-cookie-secret-1234"
JS = {"Content-Type": "text/javascript"}


def serve(web, name, body, method="GET", status=200, fn=None, headers=None):
    fn = (
        fn
        or {"workspaces": FN_WORKSPACES, "subscription": FN_SUBSCRIPTION, "billing": FN_BILLING}[
            name
        ]
    )
    query = {"id": fn} if method == "GET" else None
    if method == "POST":
        return web.add_handler(
            "POST",
            SERVER,
            lambda req: (
                (status, {**JS, **(headers or {})}, body)
                if req.headers.get("x-server-id") == fn
                else (599, {}, "wrong function")
            ),
        )
    return web.add(
        method, SERVER, body=body, status=status, headers={**JS, **(headers or {})}, query=query
    )


def iso_epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_normal_subscription_workspace(plugin_env):
    web = plugin_env.web
    serve(web, "workspaces", FIX["workspaces"])
    serve(web, "subscription", FIX["subscription"])
    serve(web, "billing", FIX["billing"])
    run = ready(plugin_env.probe("opencode", cookie_header=COOKIE), source="web", plan="Black")
    session = run.metric("Session")
    assert session["used"] == 42.5 and session["limit"] == 100.0
    assert session["format"] == {"kind": "percent"}
    assert session["periodDurationMs"] == 5 * 3600 * 1000
    assert abs(iso_epoch(session["resetsAt"]) - (time.time() + 8123)) < 60
    weekly = run.metric("Weekly")
    assert weekly["used"] == 17.0 and weekly["periodDurationMs"] == 7 * 86400 * 1000
    assert abs(iso_epoch(weekly["resetsAt"]) - (time.time() + 302400)) < 60
    assert not run.has_metric("Monthly")
    assert run.metric("Balance") == {
        "type": "text",
        "label": "Balance",
        "value": "$12.34",
        "detail": True,
    }
    reqs = plugin_env.requests_to(SERVER)
    assert [r.query["id"] for r in reqs] == [FN_WORKSPACES, FN_SUBSCRIPTION, FN_BILLING]
    assert all(r.method == "GET" and r.headers["cookie"] == COOKIE for r in reqs)
    assert all(r.headers["x-server-id"] == r.query["id"] for r in reqs)
    assert all(r.headers["x-server-instance"].startswith("server-fn:") for r in reqs)
    assert reqs[1].query["args"] == json.dumps([WRK], separators=(",", ":"))
    assert reqs[1].headers["referer"] == f"https://opencode.ai/workspace/{WRK}/billing"
    assert reqs[1].headers["origin"] == "https://opencode.ai"
    assert web.unmatched == []
    plugin_env.assert_no_secrets(run, "oc-session-cookie-secret-1234")


def test_configured_workspace_url_and_bare_env_cookie(plugin_env):
    plugin_env.setenv("OPENCODE_COOKIE", "bare-cookie-value-5678")
    serve(plugin_env.web, "subscription", FIX["subscriptionGo"])
    serve(plugin_env.web, "billing", "null")
    run = plugin_env.probe(
        "opencode", workspace_id=f"https://opencode.ai/workspace/{WRK}/go", source="web"
    )
    assert run.state == "ready", run.error
    assert "plan" not in run.json
    monthly = run.metric("Monthly")
    assert monthly["used"] == 100.0 and monthly["periodDurationMs"] == 30 * 86400 * 1000
    assert run.metric("Session")["used"] == 10.0 and run.metric("Weekly")["used"] == 20.0
    assert not run.has_metric("Balance")
    reqs = plugin_env.requests_to(SERVER)
    assert [r.query["id"] for r in reqs] == [FN_SUBSCRIPTION, FN_BILLING]  # no workspace lookup
    assert reqs[0].headers["cookie"] == "auth=bare-cookie-value-5678"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "bare-cookie-value-5678")


def test_config_cookie_wins_over_env_and_foreign_cookies_are_dropped(plugin_env):
    plugin_env.setenv("OPENCODE_COOKIE", "env-cookie-should-not-be-used")
    plugin_env.setenv("OPENCODE_WORKSPACE_ID", "wrk_FromEnvironment")
    serve(plugin_env.web, "subscription", FIX["subscription"])
    serve(plugin_env.web, "billing", FIX["billing"])
    run = plugin_env.probe(
        "opencode",
        cookie_header="Cookie: _ga=tracker; auth=config-cookie-999; theme=dark",
        workspace_id=WRK,
    )
    assert run.state == "ready", run.error
    req = plugin_env.requests_to(SERVER)[0]
    assert req.headers["cookie"] == "auth=config-cookie-999"
    assert req.query["args"] == json.dumps([WRK], separators=(",", ":"))


def test_pay_as_you_go_workspace_uses_billing(plugin_env):
    serve(plugin_env.web, "subscription", FIX["subscriptionNull"])
    serve(plugin_env.web, "billing", FIX["billing"])
    run = ready(plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK), plan="Zen")
    spend = run.metric("Monthly spend")
    assert (
        spend["used"] == 5.67 and spend["limit"] == 50.0 and spend["format"] == {"kind": "dollars"}
    )
    assert run.metric("Balance")["value"] == "$12.34"
    assert not run.has_metric("Session")
    assert [r.method for r in plugin_env.requests_to(SERVER)] == [
        "GET",
        "GET",
    ]  # null: no POST retry


def test_rejected_and_redirected_session(plugin_env):
    serve(plugin_env.web, "subscription", "", status=401)
    expect(
        plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK),
        "credential-denied",
        "auth",
    )
    plugin_env.web.reset()
    serve(plugin_env.web, "subscription", "", status=403)
    expect(
        plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK),
        "credential-denied",
        "auth",
    )
    plugin_env.web.reset()
    serve(plugin_env.web, "workspaces", "", status=302, headers={"Location": "/auth"})
    expect(plugin_env.probe("opencode", cookie_header=COOKIE), "credential-denied", "expired")
    plugin_env.web.reset()
    serve(plugin_env.web, "subscription", "<html><body>Please sign in</body></html>")
    run = plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK)
    assert run.state == "credential-denied"
    plugin_env.assert_no_secrets(run, "oc-session-cookie-secret-1234")


def test_rate_limited(plugin_env):
    serve(plugin_env.web, "subscription", "", status=429, headers={"Retry-After": "600"})
    run = plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK)
    assert run.state == "rate-limited" and run.retry_after_sec == 600


def test_changed_web_api_fails_clearly(plugin_env):
    # Function id no longer known: 404.
    serve(plugin_env.web, "subscription", '{"error":"not found"}', status=404)
    expect(
        plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK),
        "failed",
        "web API changed",
    )
    # A payload without the usage fields, GET and POST alike, and no billing customer.
    plugin_env.web.reset()
    odd = 'self.$R=[];($R=>$R[0]={mine:!0,somethingNew:$R[1]={x:1}})($R["server-fn:1"])'
    serve(plugin_env.web, "subscription", odd)
    serve(plugin_env.web, "subscription", odd, method="POST")
    serve(plugin_env.web, "billing", '{"unexpected":true}')
    expect(
        plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK),
        "failed",
        "rollingUsage",
    )
    assert [r.method for r in plugin_env.requests_to(SERVER)] == ["GET", "POST", "GET"]
    # An HTML page that is not a login page.
    plugin_env.web.reset()
    serve(plugin_env.web, "subscription", "<html><body>Maintenance</body></html>")
    expect(plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id=WRK), "failed", "HTML")
    # No workspace in the workspaces payload.
    plugin_env.web.reset()
    serve(plugin_env.web, "workspaces", "self.$R=[];($R=>$R[0]=[])()")
    serve(plugin_env.web, "workspaces", "[]", method="POST")
    expect(plugin_env.probe("opencode", cookie_header=COOKIE), "failed", "workspaceId")


def test_missing_cookie_and_bad_workspace(plugin_env):
    run = plugin_env.probe("opencode")
    assert run.state == "missing-auth"
    assert "usagestat auth import-cookies --provider opencode --save" in run.error
    expect(
        plugin_env.probe("opencode", cookie_header="_ga=only-tracking"), "missing-auth", "`auth`"
    )
    expect(
        plugin_env.probe("opencode", cookie_header=COOKIE, workspace_id="not-a-workspace"),
        "failed",
        "wrk_",
    )
    assert plugin_env.web.requests == []
