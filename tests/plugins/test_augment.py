"""augment: `auggie account status` (cli) and app.augmentcode.com (web), through the real host."""

from __future__ import annotations

from helpers import expect, fixtures, ready

fixture = fixtures("augment")
STATUS = fixture("account-status.json")
CREDITS = fixture("credits.json")
SUBSCRIPTION = fixture("subscription.json")
CREDITS_URL = "https://app.augmentcode.com/api/credits"
SUB_URL = "https://app.augmentcode.com/api/subscription"
COOKIE = "_session=aug-session-secret-123; auth0.is.authenticated=true"
MONTH_MS = 30 * 24 * 3600 * 1000


def fake_auggie(env, text: str, status: int = 0, stderr: str = "") -> None:
    out = env.tmp / "auggie-out.txt"
    out.write_text(text, encoding="utf-8")
    err = env.tmp / "auggie-err.txt"
    err.write_text(stderr, encoding="utf-8")
    env.fake_command(
        "auggie",
        f'[ "$1 $2" = "account status" ] || exit 64\ncat "{out}"\ncat "{err}" >&2\nexit {status}',
    )


def test_cli_current_output(plugin_env):
    fake_auggie(plugin_env, STATUS["current"])
    run = ready(plugin_env.probe("augment"), source="cli", plan="Max Plan")
    credits = run.metric("Credits")
    assert credits["used"] == 450000 - 319054 and credits["limit"] == 450000.0
    assert credits["format"] == {"kind": "count", "suffix": "credits"}
    assert credits["resetsAt"] == "2030-06-09T00:00:00Z"
    assert credits["periodDurationMs"] == MONTH_MS
    assert run.metric("Remaining") == {
        "type": "text",
        "label": "Remaining",
        "value": "319,054 credits",
        "detail": True,
    }
    assert plugin_env.web.requests == []


def test_cli_legacy_output(plugin_env):
    fake_auggie(plugin_env, STATUS["legacy"])
    run = plugin_env.probe("augment", source="cli")
    assert run.state == "ready", run.error
    credits = run.metric("Credits")
    assert credits["used"] == 953170.0 and credits["limit"] == 964827.0
    assert credits["resetsAt"] == "2030-01-08T00:00:00Z"
    assert run.metric("Remaining")["value"] == "11,657 credits"
    assert run.json["plan"] == "Max Plan"


def test_cli_not_logged_in_broken_or_missing(plugin_env):
    fake_auggie(plugin_env, STATUS["notLoggedIn"], status=1)
    expect(plugin_env.probe("augment", source="cli"), "missing-auth", "auggie login")
    fake_auggie(plugin_env, "Something unexpected\n", status=3)
    expect(plugin_env.probe("augment", source="cli"), "failed", "status 3")
    fake_auggie(plugin_env, "Credits: lots\n")
    expect(plugin_env.probe("augment", source="cli"), "failed", "format may have changed")
    (plugin_env.tmp / "bin" / "auggie").unlink()
    expect(plugin_env.probe("augment"), "missing-auth", "auggie login")
    plugin_env.file(
        ".augment/session.json", {"accessToken": "aug-cli-token-xyz", "tenantURL": "https://x/"}
    )
    run = plugin_env.probe("augment")
    assert run.state == "missing-auth" and "not on PATH" in run.error
    plugin_env.assert_no_secrets(run, "aug-cli-token-xyz")


def test_web_normal_account(plugin_env):
    plugin_env.web.add("GET", CREDITS_URL, json=CREDITS)
    plugin_env.web.add("GET", SUB_URL, json=SUBSCRIPTION)
    run = ready(
        plugin_env.probe("augment", source="web", cookie_header=COOKIE),
        source="web",
        plan="Developer",
    )
    credits = run.metric("Credits")
    assert credits["used"] == 953170.0 and credits["limit"] == 964827.0
    assert credits["resetsAt"] == "2030-02-01T00:00:00Z" and credits["periodDurationMs"] == MONTH_MS
    assert run.metric("Remaining")["value"] == "11,657 credits"
    assert run.metric("Account") == {
        "type": "text",
        "label": "Account",
        "value": "dev@example.com",
        "detail": True,
    }
    for url in (CREDITS_URL, SUB_URL):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "GET" and req.headers["cookie"] == COOKIE
        assert req.headers["accept"] == "application/json"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "aug-session-secret-123")


def test_auto_falls_back_to_the_cookie_when_the_cli_is_missing(plugin_env):
    plugin_env.setenv("AUGMENT_COOKIE", "_session=env-cookie-456")
    plugin_env.web.add("GET", CREDITS_URL, json={**CREDITS, "usageUnitsAvailable": 0})
    plugin_env.web.add("GET", SUB_URL, status=500, body="boom")
    run = plugin_env.probe("augment")
    assert run.state == "ready", run.error
    assert run.json["source"] == "web" and "plan" not in run.json
    credits = run.metric("Credits")
    assert credits["limit"] == 11657.0 + 953170.0  # remaining + consumed when available is 0
    assert "resetsAt" not in credits
    assert plugin_env.requests_to(CREDITS_URL)[0].headers["cookie"] == "_session=env-cookie-456"


def test_config_cookie_wins_over_env(plugin_env):
    plugin_env.setenv("AUGMENT_COOKIE", "_session=env-cookie-456")
    plugin_env.web.add("GET", CREDITS_URL, json=CREDITS)
    plugin_env.web.add("GET", SUB_URL, json=SUBSCRIPTION)
    assert plugin_env.probe("augment", source="web", cookie_header=COOKIE).state == "ready"
    assert plugin_env.requests_to(CREDITS_URL)[0].headers["cookie"] == COOKIE


def test_auto_config_cookie_wins_over_the_cli(plugin_env):
    fake_auggie(plugin_env, STATUS["current"])
    plugin_env.web.add("GET", CREDITS_URL, json=CREDITS)
    plugin_env.web.add("GET", SUB_URL, json=SUBSCRIPTION)
    ready(plugin_env.probe("augment", cookie_header=COOKIE), source="web", plan="Developer")
    assert plugin_env.requests_to(CREDITS_URL)[0].headers["cookie"] == COOKIE
    # without the config cookie the CLI still comes first
    ready(plugin_env.probe("augment"), source="cli")


def test_web_errors(plugin_env):
    web = plugin_env.web
    web.add("GET", CREDITS_URL, status=401, json={"error": "unauthorized"})
    expect(
        plugin_env.probe("augment", source="web", cookie_header=COOKIE),
        "credential-denied",
        "app.augmentcode.com",
    )
    web.add("GET", CREDITS_URL, status=403, json={"error": "forbidden"})
    expect(
        plugin_env.probe("augment", source="web", cookie_header=COOKIE),
        "credential-denied",
        "app.augmentcode.com",
    )
    web.add("GET", CREDITS_URL, status=302, headers={"Location": "/login"})
    expect(
        plugin_env.probe("augment", source="web", cookie_header=COOKIE),
        "credential-denied",
        "expired",
    )
    web.add("GET", CREDITS_URL, status=429, headers={"Retry-After": "900"}, json={})
    run = plugin_env.probe("augment", source="web", cookie_header=COOKIE)
    assert run.state == "rate-limited" and run.retry_after_sec == 900
    web.add("GET", CREDITS_URL, body="<!doctype html><title>Log in</title>")
    expect(
        plugin_env.probe("augment", source="web", cookie_header=COOKIE),
        "credential-denied",
        "web page",
    )
    web.add("GET", CREDITS_URL, body="not json")
    expect(plugin_env.probe("augment", source="web", cookie_header=COOKIE), "failed", "not JSON")
    web.add("GET", CREDITS_URL, json={"usageUnitsRemaining": 5})
    run = plugin_env.probe("augment", source="web", cookie_header=COOKIE)
    assert run.state == "failed" and "usageUnitsConsumedThisBillingCycle" in run.error
    plugin_env.assert_no_secrets(run, "aug-session-secret-123")


def test_web_missing_cookie(plugin_env):
    run = plugin_env.probe("augment", source="web")
    assert run.state == "missing-auth"
    assert "usagestat auth import-cookies --provider augment --save" in run.error
    expect(
        plugin_env.probe("augment", source="web", cookie_header="justavalue"),
        "missing-auth",
        "Cookie header",
    )
