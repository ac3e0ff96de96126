"""codebuff: credits and weekly limit from www.codebuff.com, API key or CLI session."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready

fixture = fixtures("codebuff")
USAGE = fixture("usage.json")
SUBSCRIPTION = fixture("subscription.json")
CREDS = fixture("credentials.json")
USAGE_URL = "https://www.codebuff.com/api/v1/usage"
SUB_URL = "https://www.codebuff.com/api/user/subscription"
CRED_PATH = ".config/manicode/credentials.json"


def test_cli_session_normal_account(plugin_env):
    plugin_env.file(CRED_PATH, CREDS)
    plugin_env.web.add("POST", USAGE_URL, json=USAGE)
    plugin_env.web.add("GET", SUB_URL, json=SUBSCRIPTION)
    run = ready(plugin_env.probe("codebuff"), source="local", plan="Pro")
    credits = run.metric("Credits")
    assert credits["used"] == 1234.0 and credits["limit"] == 5000.0
    assert credits["format"] == {"kind": "count", "suffix": "credits"}
    assert credits["resetsAt"] == "2030-02-01T00:00:00Z"
    assert credits["periodDurationMs"] == 30 * 24 * 3600 * 1000
    weekly = run.metric("Weekly")
    assert weekly["used"] == 420.0 and weekly["limit"] == 1000.0
    assert weekly["format"] == {"kind": "percent"}
    assert weekly["resetsAt"] == "2030-01-07T00:00:00Z"
    assert weekly["periodDurationMs"] == 7 * 24 * 3600 * 1000
    assert run.metric("Balance")["value"] == "3,766 credits remaining"
    assert run.metric("Auto top-up") == {
        "type": "badge",
        "label": "Auto top-up",
        "text": "Off",
        "color": "grey",
        "detail": True,
    }
    (usage_req,) = plugin_env.requests_to(USAGE_URL)
    assert usage_req.method == "POST"
    assert usage_req.headers["authorization"] == "Bearer cb-session-token-example"
    assert usage_req.headers["content-type"] == "application/json"
    assert usage_req.json() == {"fingerprintId": "usagestat-usage"}
    only_request(plugin_env, SUB_URL, authorization="Bearer cb-session-token-example")
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "cb-session-token-example", "hash-example")


def test_api_key_reads_credits_only_and_alternative_fields(plugin_env):
    plugin_env.setenv("CODEBUFF_API_KEY", "cb-env-key-222")
    wrapped = {
        "data": {
            "used": 10,
            "remaining": 90,
            "nextQuotaReset": "2030-03-01T00:00:00Z",
            "auto_topup_enabled": True,
        }
    }
    plugin_env.web.add("POST", USAGE_URL, json=wrapped)
    run = ready(plugin_env.probe("codebuff"), source="api", plan="Credits")
    credits = run.metric("Credits")
    assert credits["used"] == 10.0 and credits["limit"] == 100.0
    assert credits["resetsAt"] == "2030-03-01T00:00:00Z"
    assert run.metric("Auto top-up")["text"] == "On"
    assert not run.has_metric("Weekly")
    assert plugin_env.requests_to(SUB_URL) == []  # API keys cannot read the subscription
    plugin_env.assert_no_secrets(run, "cb-env-key-222")


def test_config_key_wins_over_env_and_file(plugin_env):
    plugin_env.file(CRED_PATH, {"authToken": "cb-top-level-token"})
    plugin_env.setenv("CODEBUFF_API_KEY", "cb-env-key-222")
    plugin_env.web.add("POST", USAGE_URL, json=USAGE)
    plugin_env.web.add("GET", SUB_URL, status=500, body="oops")
    assert plugin_env.probe("codebuff", api_key="cb-config-key-111").state == "ready"
    run = plugin_env.probe("codebuff", source="local")
    assert run.state == "ready", run.error
    assert "plan" not in run.json and not run.has_metric(
        "Weekly"
    )  # subscription failed: lines dropped
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(USAGE_URL)]
    assert auths == ["Bearer cb-config-key-111", "Bearer cb-top-level-token"]


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    plugin_env.file(CRED_PATH, CREDS)
    plugin_env.web.add("POST", USAGE_URL, status=401, json={"error": "Unauthorized"})
    run = expect(plugin_env.probe("codebuff"), "credential-denied", "codebuff login")
    plugin_env.assert_no_secrets(run, "cb-session-token-example")
    plugin_env.web.add("POST", USAGE_URL, status=403, json={"error": "Forbidden"})
    run = expect(plugin_env.probe("codebuff"), "credential-denied", "codebuff login")
    plugin_env.assert_no_secrets(run, "cb-session-token-example")
    check_answers(
        plugin_env,
        "POST",
        USAGE_URL,
        lambda: plugin_env.probe("codebuff", api_key="cb-key-333"),
        rate_limited(75),
        answer("failed", "HTML", body="<html>vercel</html>"),
        answer("failed", "not JSON", body="nope"),
        answer("failed", "missing usage", json={"message": "ok"}),
        secrets=("cb-key-333",),
    )


def test_missing_credentials(plugin_env):
    run = plugin_env.probe("codebuff")
    assert run.state == "missing-auth"
    assert "CODEBUFF_API_KEY" in run.error and "codebuff login" in run.error
    run = plugin_env.probe("codebuff", source="api")
    assert run.state == "missing-auth"
    plugin_env.file(CRED_PATH, {"default": {"email": "x@example.com"}})
    assert plugin_env.probe("codebuff", source="local").state == "missing-auth"
    assert plugin_env.web.requests == []
