"""Ollama Cloud plugin: the ollama.com settings page scraped with a session cookie."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready

fixture = fixtures("ollama")
URL = "https://ollama.com/settings"
PAGE = fixture("settings.html")
SIGNIN = fixture("signin.html")
HTML = {"content-type": "text/html; charset=utf-8"}
HINT = "usagestat auth import-cookies --provider ollama --save"
COOKIE = "__Secure-session=ollama-session-secret-1; aid=abc"


def page(env, body: str = PAGE, status: int = 200, headers: dict | None = None, times=None):
    env.web.add(
        "GET",
        URL,
        status=status,
        body=body,
        headers={"content-type": "text/html; charset=utf-8", **(headers or {})},
        times=times,
    )


def test_normal_account(plugin_env):
    page(plugin_env)
    run = ready(plugin_env.probe("ollama", cookie_header=COOKIE), source="web", plan="Pro")
    session = run.metric("Session")
    assert (session["used"], session["limit"], session["format"]) == (
        12.5,
        100.0,
        {"kind": "percent"},
    )
    assert session["resetsAt"] == "2030-01-01T05:00:00Z"
    assert session["periodDurationMs"] == 5 * 3600 * 1000
    weekly = run.metric("Weekly")
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        40.0,
        "2030-01-06T00:00:00Z",
        7 * 86_400_000,
    )
    req = only_request(plugin_env, URL, "GET", cookie=COOKIE)
    assert req.headers["accept"].startswith("text/html")
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "ollama-session-secret-1")


def test_bare_value_falls_back_to_the_workos_cookie(plugin_env):
    older = (
        '<div><h2>Cloud Usage</h2><span class="badge">free</span>'
        '<p>Hourly usage</p><div style="width: 3%"></div>'
        '<span data-time="2030-01-01T01:00:00.000Z">soon</span>'
        "<p>Weekly usage</p><div>7.5 % used</div>"
        '<span data-time="2030-01-03T00:00:00&#43;00:00">later</span></div>'
    )

    def handler(req):
        if req.headers["cookie"].startswith("wos-session="):
            return (200, {"content-type": "text/html"}, older)
        return (303, {"location": "https://ollama.com/signin"}, "")

    plugin_env.web.add_handler("GET", URL, handler)
    plugin_env.setenv("OLLAMA_COOKIE", "ignored-because-the-first-env-wins")
    plugin_env.setenv("OLLAMA_SESSION_COOKIE", "bare-session-value-77")
    run = ready(plugin_env.probe("ollama"), plan="Free")
    assert run.metric("Session")["used"] == 3.0
    assert run.metric("Session")["resetsAt"] == "2030-01-01T01:00:00Z"
    assert run.metric("Weekly")["used"] == 7.5
    assert run.metric("Weekly")["resetsAt"] == "2030-01-03T00:00:00Z"
    assert [r.headers["cookie"] for r in plugin_env.requests_to(URL)] == [
        "__Secure-session=bare-session-value-77",
        "wos-session=bare-session-value-77",
    ]
    plugin_env.assert_no_secrets(run, "bare-session-value-77")


def test_config_wins_over_env(plugin_env):
    plugin_env.setenv("OLLAMA_SESSION_COOKIE", "env-value")
    page(plugin_env)
    assert plugin_env.probe("ollama", cookie_header="wos-session=cfg").state == "ready"
    assert plugin_env.requests_to(URL)[0].headers["cookie"] == "wos-session=cfg"


def test_expired_session_challenge_rate_limit_and_changed_page(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("ollama", cookie_header=COOKIE),
        answer(
            "credential-denied",
            f"Ollama session expired — run `{HINT}` (the site redirected to its sign-in page).",
            status=302,
            headers={"location": "https://ollama.com/signin", **HTML},
        ),
        answer("credential-denied", "sign-in page", body=SIGNIN, headers=HTML),
        answer("credential-denied", "(HTTP 401)", status=401, headers=HTML),
        rate_limited(60, body="slow down", headers={"retry-after": "60", **HTML}),
        answer(
            "rate-limited",
            "bot-protection challenge",
            retry_after=900,
            status=403,
            body="<html><title>Just a moment...</title></html>",
            headers={"cf-mitigated": "challenge", **HTML},
        ),
        answer(
            "failed",
            "Could not parse Ollama usage (page changed): no Cloud Usage section.",
            body="<html><body><h1>Settings</h1><p>Welcome back</p></body></html>",
            headers=HTML,
        ),
        answer(
            "failed",
            "no session percentage",
            body="<h2>Cloud Usage</h2><p>Session usage</p><p>soon</p>",
            headers=HTML,
        ),
        secrets=("ollama-session-secret-1",),
    )


def test_bare_value_rejected_with_both_cookie_names(plugin_env):
    page(plugin_env, status=303, body="", headers={"location": "/signin"})
    run = plugin_env.probe("ollama", cookie_header="bare-value-9")
    expect(run, "credential-denied")
    assert len(plugin_env.requests_to(URL)) == 2
    plugin_env.assert_no_secrets(run, "bare-value-9")


def test_missing_credential(plugin_env):
    expect(plugin_env.probe("ollama"), "missing-auth", HINT, "OLLAMA_SESSION_COOKIE")
    assert plugin_env.web.requests == []
