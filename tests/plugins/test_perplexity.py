"""Perplexity plugin: billing credits with a perplexity.ai cookie; the macOS app's cached bearer."""

from __future__ import annotations

import sqlite3

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready

fixture = fixtures("perplexity")
BASE = "https://www.perplexity.ai"
CREDITS = BASE + "/rest/billing/credits"
RATE = BASE + "/rest/rate-limit/all"
GROUPS = BASE + "/rest/pplx-api/v2/groups"
GROUP = GROUPS + "/org-1234"
ANALYTICS = GROUP + "/usage-analytics"
USER = BASE + "/api/user"
COOKIE = "__Secure-next-auth.session-token=pplx-session-secret-1; pplx.visitor-id=v-1"
HINT = "usagestat auth import-cookies --provider perplexity --save"
CACHE = "Library/Containers/ai.perplexity.mac/Data/Library/Caches/ai.perplexity.mac/Cache.db"
APP_TOKEN = "eyJhbGciOiJkaXIifQ.app-bearer-secret.zz"
DEVICE = "macos:0F8FAD5B-D9CB-469F-A165-70867728950E"


def everything(env, credits=None):
    env.web.add("GET", CREDITS, json=credits or fixture("billing-credits.json"))
    env.web.add("GET", RATE, json=fixture("rate-limit-all.json"))
    env.web.add("GET", GROUPS, json=fixture("groups.json"))
    env.web.add("GET", GROUP, json=fixture("group.json"))
    env.web.add("GET", ANALYTICS, json=fixture("usage-analytics.json"))


def test_normal_web_account(plugin_env):
    everything(plugin_env)
    run = ready(plugin_env.probe("perplexity", cookie_header=COOKIE), source="web", plan="Pro")
    credits = run.metric("Credits")
    assert (credits["used"], credits["limit"], credits["format"]) == (
        10.0,
        10.0,
        {"kind": "dollars"},
    )
    assert credits["resetsAt"] == "2030-01-16T00:00:00Z"
    assert credits["periodDurationMs"] == 31 * 86_400_000
    bonus = run.metric("Bonus credits")  # the expired promotional grant is left out
    assert (bonus["used"], bonus["limit"], bonus["resetsAt"]) == (0.0, 10.0, "2030-01-30T10:40:00Z")
    purchased = run.metric("Purchased")  # max(grants 400, period purchases 500); 175 spent
    assert (purchased["used"], purchased["limit"]) == (1.75, 5.0)
    assert "resetsAt" not in purchased
    assert run.metric("Balance")["value"] == "$17.25"
    assert run.metric("Queries")["value"] == "587 remaining"
    assert run.metric("Deep Research")["value"] == "18 remaining"
    assert run.metric("Labs")["value"] == "25 remaining"
    assert run.metric("Agentic Research")["value"] == "4 remaining"
    assert run.metric("API balance") == {
        "type": "text",
        "label": "API balance",
        "value": "$4.99",
        "detail": True,
    }
    assert run.metric("API spend")["value"] == "$0.26"
    (req,) = plugin_env.requests_to(CREDITS)
    assert req.query == {"version": "2.18", "source": "default"}
    assert req.headers["cookie"] == COOKIE
    assert req.headers["origin"] == BASE
    assert req.headers["referer"] == BASE + "/account/usage"
    for url in (RATE, GROUPS, GROUP, ANALYTICS):
        assert plugin_env.requests_to(url)[0].headers["cookie"] == COOKIE
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "pplx-session-secret-1")


def test_bare_token_env_and_optional_endpoints_failing(plugin_env):
    plugin_env.setenv("PERPLEXITY_COOKIE", "ignored=1")
    plugin_env.setenv("PERPLEXITY_SESSION_TOKEN", "bare-session-token-9")
    max_plan = {"balance_cents": 0, "credit_grants": [{"type": "recurring", "amount_cents": 5000}]}
    plugin_env.web.add("GET", CREDITS, json=max_plan)
    plugin_env.web.add("GET", RATE, status=500, body="oops")
    plugin_env.web.add("GET", GROUPS, json={"orgs": []})
    run = plugin_env.probe("perplexity")
    assert run.state == "ready", run.error
    assert run.json["plan"] == "Max"  # inferred: a $50 monthly grant
    assert run.metric("Credits")["used"] == 0.0 and "resetsAt" not in run.metric("Credits")
    assert not run.has_metric("Queries") and not run.has_metric("API balance")
    assert plugin_env.requests_to(CREDITS)[0].headers["cookie"] == (
        "__Secure-next-auth.session-token=bare-session-token-9"
    )
    # config wins
    assert plugin_env.probe("perplexity", cookie_header="a=b").state == "ready"
    assert plugin_env.requests_to(CREDITS)[-1].headers["cookie"] == "a=b"


def test_expired_session_cloudflare_rate_limit_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        CREDITS,
        lambda: plugin_env.probe("perplexity", cookie_header=COOKIE),
        answer(
            "credential-denied",
            f"Perplexity session expired — run `{HINT}` (HTTP 401).",
            status=401,
            json={"detail": "unauthorized"},
        ),
        answer(
            "credential-denied",
            "web page",
            body="<!DOCTYPE html><html><body>Log in</body></html>",
        ),
        answer(
            "rate-limited",
            "Blocked by Cloudflare",
            retry_after=900,
            status=403,
            body="<!DOCTYPE html><html><title>Just a moment...</title></html>",
            headers={"content-type": "text/html"},
        ),
        rate_limited(45),
        answer("failed", "not JSON", body="nope"),
        answer(
            "failed",
            "Unexpected response from Perplexity: missing balance_cents.",
            json={"credits": "moved"},
        ),
        secrets=("pplx-session-secret-1",),
    )


def test_missing_credential_and_local_off_macos(plugin_env):
    expect(plugin_env.probe("perplexity"), "missing-auth", HINT, "PERPLEXITY_SESSION_TOKEN")
    expect(plugin_env.probe("perplexity", source="local"), "unsupported", "macOS")
    assert plugin_env.web.requests == []


def make_cache(env) -> None:
    path = env.path(CACHE)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE cfurl_cache_response(entry_ID INTEGER PRIMARY KEY, version INTEGER,"
        " hash_value INTEGER, storage_policy INTEGER, request_key TEXT UNIQUE, time_stamp TEXT,"
        " partition TEXT);"
        "CREATE TABLE cfurl_cache_blob_data(entry_ID INTEGER PRIMARY KEY, response_object BLOB,"
        " request_object BLOB, proto_props BLOB, user_info BLOB);"
    )
    # a binary-plist-like request object with the headers as embedded strings
    blob = (
        b"bplist00\xd4\x01\x02\x03\x04_\x10\x0fAuthorization"
        + b"\x00Bearer "
        + APP_TOKEN.encode()
        + b"\x00Ask/2.51.0 (macOS 15.1; build 1234)\x00"
        + DEVICE.encode()
        + b"\x00\xff\xfe"
    )
    conn.execute(
        "INSERT INTO cfurl_cache_response VALUES (1, 0, 0, 0, ?, '2030-01-01 00:00:00', NULL)",
        ("https://www.perplexity.ai/api/user",),
    )
    conn.execute("INSERT INTO cfurl_cache_blob_data VALUES (1, x'00', ?, NULL, NULL)", (blob,))
    conn.commit()
    conn.close()


def test_local_app_session_on_macos(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "macos")
    make_cache(plugin_env)
    plugin_env.web.add("GET", USER, json=fixture("api-user.json"))
    plugin_env.web.add("GET", RATE, json=fixture("rate-limit-all.json"))
    plugin_env.web.add("GET", CREDITS, status=404, json={})
    plugin_env.web.add("GET", GROUPS, status=403, json={})
    run = plugin_env.probe("perplexity")  # auto: no cookie -> the app cache
    assert run.state == "ready", run.error
    assert run.json["source"] == "local" and run.json["plan"] == "Pro"
    assert run.metric("Queries")["value"] == "587 remaining"
    only_request(
        plugin_env,
        USER,
        authorization="Bearer " + APP_TOKEN,
        x_client_name="Perplexity-Mac",
        x_app_apiclient="macos",
        x_app_version="2.51.0",
        x_device_id=DEVICE,
        user_agent="Ask/2.51.0 (macOS 15.1; build 1234)",
    )
    plugin_env.assert_no_secrets(run, APP_TOKEN)
    plugin_env.web.add("GET", USER, status=401, json={})
    expect(plugin_env.probe("perplexity", source="local"), "credential-denied", "Perplexity app")
