"""warp: AI credits from app.warp.dev GraphQL with a Warp API key."""

from __future__ import annotations

import json

from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

INFO = fixtures("warp")("request-limit-info.json")
URL = "https://app.warp.dev/graphql/v2"


def limit_info(**fields):
    data = json.loads(json.dumps(INFO))
    data["data"]["user"]["user"]["requestLimitInfo"].update(fields)
    return data


def test_normal_account(plugin_env):
    plugin_env.setenv("WARP_API_KEY", "wk-1.example-secret-key")
    plugin_env.web.add("POST", URL, json=INFO, query={"op": "GetRequestLimitInfo"})
    run = plugin_env.probe("warp")
    assert run.state == "ready", run.error
    assert run.json["source"] == "api" and "plan" not in run.json
    credits = run.metric("Credits")
    assert credits["used"] == 312.0 and credits["limit"] == 2500.0
    assert credits["format"] == {"kind": "count", "suffix": "credits"}
    assert credits["resetsAt"] == "2030-02-01T00:00:00Z"
    assert credits["periodDurationMs"] == 30 * 24 * 3600 * 1000
    # The expired grant is left out: 400 + 150 of 1000 + 200.
    assert run.metric("Bonus") == {
        "type": "text",
        "label": "Bonus",
        "value": "550 / 1,200 add-on credits",
        "subtitle": "Earliest expiry Feb 15",
    }
    (req,) = plugin_env.requests_to(URL)
    assert req.method == "POST" and req.query == {"op": "GetRequestLimitInfo"}
    assert req.headers["authorization"] == "Bearer wk-1.example-secret-key"
    assert req.headers["x-warp-client-id"] == "warp-app"
    assert req.headers["x-warp-os-category"] == "Linux"
    body = req.json()
    assert body["operationName"] == "GetRequestLimitInfo"
    assert "requestsUsedSinceLastRefresh" in body["query"]
    assert body["variables"]["requestContext"]["osContext"]["category"] == "Linux"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "wk-1.example-secret-key")


def test_key_sources_in_order(plugin_env):
    plugin_env.web.add("POST", URL, json=INFO)
    key_file = plugin_env.home / ".local/share/usagestat/plugin-data/warp/api-key.txt"
    key_file.parent.mkdir(parents=True)
    key_file.write_text("wk-from-plugin-data\n")
    assert plugin_env.probe("warp").state == "ready"
    plugin_env.setenv("WARP_TOKEN", "wk-from-warp-token")
    assert plugin_env.probe("warp").state == "ready"
    plugin_env.setenv("WARP_API_KEY", "wk-from-warp-api-key")
    assert plugin_env.probe("warp").state == "ready"
    assert plugin_env.probe("warp", api_key="wk-from-config").state == "ready"
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(URL)]
    assert auths == [
        "Bearer wk-from-plugin-data",
        "Bearer wk-from-warp-token",
        "Bearer wk-from-warp-api-key",
        "Bearer wk-from-config",
    ]


def test_unlimited_plan(plugin_env):
    data = limit_info(isUnlimited=True, requestLimit=0)
    data["data"]["user"]["user"]["bonusGrants"] = []
    data["data"]["user"]["user"]["workspaces"] = []
    plugin_env.web.add("POST", URL, json=data)
    run = ready(plugin_env.probe("warp", api_key="wk-key-1"), plan="Unlimited")
    assert run.metric("Plan") == {
        "type": "badge",
        "label": "Plan",
        "text": "Unlimited",
        "color": "#22c55e",
    }
    assert run.metric("Credits used")["value"] == "312 since the last refresh"
    assert not run.has_metric("Credits") and not run.has_metric("Bonus")


def test_rejected_rate_limited_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "POST",
        URL,
        lambda: plugin_env.probe("warp", api_key="wk-bad-key-9"),
        answer(
            "credential-denied",
            "Settings → Platform → API Keys",
            status=401,
            json={"error": "unauthorized"},
        ),
        answer(
            "credential-denied",
            "Settings → Platform → API Keys",
            status=403,
            json={"error": "forbidden"},
        ),
        answer(
            "credential-denied",
            "Unauthenticated",
            json={"errors": [{"message": "Unauthenticated"}], "data": None},
        ),
        answer(
            "credential-denied",
            "UserFacingError",
            json={"data": {"user": {"__typename": "UserFacingError"}}},
        ),
        rate_limited(60),
        answer("failed", "HTML", body="<html>down</html>"),
        answer("failed", "missing data.user", json={"data": {}}),
        answer(
            "failed", "Cannot query field", json={"errors": [{"message": "Cannot query field"}]}
        ),
        answer(
            "failed",
            "requestsUsedSinceLastRefresh",
            json=limit_info(requestsUsedSinceLastRefresh=None),
        ),
        secrets=("wk-bad-key-9",),
    )


def test_missing_key(plugin_env):
    expect(plugin_env.probe("warp"), "missing-auth", "WARP_API_KEY")
    assert plugin_env.web.requests == []


def test_a_typename_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: "Warp answered " + such an array overflowed the engine's stack."""
    plugin_env.setenv("WARP_API_KEY", "wk-1.example-secret-key")
    body = deeply_nested(INFO, "data", "user", "__typename")
    plugin_env.web.add("POST", URL, body=body, query={"op": "GetRequestLimitInfo"})
    run = ready(plugin_env.probe("warp"), source="api")
    assert run.metric("Credits")["used"] == 312.0
