"""elevenlabs through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("elevenlabs")
SUB = fixture("subscription.json")
PAST_DUE = fixture("subscription-past-due.json")
URL = "https://api.elevenlabs.io/v1/user/subscription"
KEY = "sk_eleven_test_1234567890abcdef"


def test_creator_subscription(plugin_env):
    plugin_env.web.add("GET", URL, json=SUB)
    run = ready(plugin_env.probe("elevenlabs", api_key=KEY), plan="Creator", source="api")
    assert run.metric("Credits") == {
        "type": "progress",
        "label": "Credits",
        "used": 12345.0,
        "limit": 100000.0,
        "format": {"kind": "count", "suffix": "credits"},
        "resetsAt": "2030-01-01T00:00:00Z",
        # 2029-12-01 -> 2030-01-01
        "periodDurationMs": 31 * 86_400_000,
    }
    assert run.metric("Voice slots")["value"] == "3 / 30"
    assert run.metric("Pro voices") == {
        "type": "text",
        "label": "Pro voices",
        "value": "0 / 1",
        "detail": True,
    }
    assert not run.has_metric("Status")
    (req,) = plugin_env.requests_to(URL)
    assert req.headers["xi-api-key"] == KEY and "authorization" not in req.headers
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_past_due_free_tier_from_xi_env(plugin_env):
    plugin_env.setenv("XI_API_KEY", "xi-env-key-000111222333")
    plugin_env.web.add("GET", URL, json=PAST_DUE)
    run = ready(plugin_env.probe("elevenlabs"), plan="Free")
    assert run.metric("Status") == {
        "type": "badge",
        "label": "Status",
        "text": "Past Due",
        "color": "amber",
    }
    assert run.metric("Credits")["used"] == 10000.0 and run.metric("Credits")["limit"] == 10000.0
    assert run.metric("Voice slots")["value"] == "2 / 3"
    assert not run.has_metric("Pro voices")
    assert plugin_env.requests_to(URL)[0].headers["xi-api-key"] == "xi-env-key-000111222333"
    plugin_env.assert_no_secrets(run, "xi-env-key-000111222333")


def test_config_key_wins_over_env(plugin_env):
    plugin_env.setenv("ELEVENLABS_API_KEY", "env-eleven-key-99999999")
    plugin_env.web.add("GET", URL, json=SUB)
    assert plugin_env.probe("elevenlabs", api_key=KEY).state == "ready"
    assert plugin_env.requests_to(URL)[0].headers["xi-api-key"] == KEY


def test_rejected_missing_permission_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        URL,
        lambda: plugin_env.probe("elevenlabs", api_key=KEY),
        answer(
            "credential-denied",
            "invalid or expired",
            status=401,
            json={"detail": {"status": "invalid_api_key"}},
        ),
        answer(
            "credential-denied",
            "user_read",
            status=401,
            json={"detail": {"status": "missing_permissions", "message": "missing user_read"}},
        ),
        rate_limited(15),
        answer("failed", "HTML", body="<!doctype html><p>oops</p>"),
        answer("failed", "missing character_limit", json={"tier": "pro", "character_count": 5}),
        secrets=(KEY,),
    )


def test_missing_key(plugin_env):
    expect(plugin_env.probe("elevenlabs"), "missing-auth", "ELEVENLABS_API_KEY")
    assert plugin_env.web.requests == []


def test_a_status_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.web.add("GET", URL, body=deeply_nested(SUB, "status"))
    run = ready(plugin_env.probe("elevenlabs", api_key=KEY), plan="Creator")
    assert run.metric("Credits")["used"] == 12345.0 and not run.has_metric("Status")
