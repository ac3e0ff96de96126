"""minimax through the real host against the fake internet."""

from __future__ import annotations

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

fixture = fixtures("minimax")
TP = "/v1/token_plan/remains"
LEGACY = "/v1/api/openplatform/coding_plan/remains"
GLOBAL = "https://api.minimax.io"
CN = "https://api.minimaxi.com"
WEB = "https://platform.minimax.io" + LEGACY
KEY = "sk-cp-config-key-0123456789"
ENV_KEY = "sk-api-env-key-abcdefghij"
CN_KEY = "sk-cp-china-key-5555555555"
COOKIE_VALUE = "minimax-session-cookie-987654"


def test_token_plan_session_and_weekly(plugin_env):
    plugin_env.setenv("MINIMAX_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", GLOBAL + TP, json=fixture("remains.json"))
    run = ready(plugin_env.probe("minimax", api_key=KEY), source="api", plan="Plus")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Session",
            "used": 45.0,
            "limit": 300.0,
            "format": {"kind": "count", "suffix": "prompts"},
            "resetsAt": "2030-01-01T05:00:00Z",
            "periodDurationMs": 18000000.0,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 600.0,
            "limit": 3000.0,
            "format": {"kind": "count", "suffix": "prompts"},
            "resetsAt": "2030-01-07T00:00:00Z",
            "periodDurationMs": 604800000.0,
        },
        {"type": "text", "label": "Model", "value": "MiniMax-M2", "detail": True},
    ]
    (req,) = plugin_env.requests_to(GLOBAL + TP)
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_china_key_falls_back_to_the_legacy_endpoint(plugin_env):
    plugin_env.setenv("MINIMAX_CN_API_KEY", CN_KEY)
    plugin_env.web.add("GET", CN + TP, status=404, json={})
    plugin_env.web.add("GET", CN + LEGACY, json=fixture("remains-cn-legacy.json"))
    run = ready(plugin_env.probe("minimax"), plan="Plus (China)")
    assert run.metrics[0] == {
        "type": "progress",
        "label": "Session",
        "used": 180.0,
        "limit": 1500.0,
        "format": {"kind": "count", "suffix": "calls"},
        "resetsAt": "2030-01-01T05:00:00Z",
        "periodDurationMs": 18000000.0,
    }
    assert plugin_env.requests_to(CN + LEGACY)[0].headers["authorization"] == f"Bearer {CN_KEY}"
    assert plugin_env.requests_to(GLOBAL + TP) == []
    plugin_env.assert_no_secrets(run, CN_KEY)


def test_region_fallback_only_when_not_configured(plugin_env):
    web = plugin_env.web
    web.add("GET", GLOBAL + TP, status=401, json={})
    web.add("GET", GLOBAL + LEGACY, json=fixture("invalid-key.json"))
    web.add("GET", CN + TP, json=fixture("remains.json"))
    run = plugin_env.probe("minimax", api_key=KEY)
    assert run.state == "ready", run.error
    assert "plan" not in run.json  # 300 is no China plan size
    assert run.metrics[0]["format"] == {"kind": "count", "suffix": "calls"}
    assert [r.url.split("?")[0] for r in web.requests] == [
        GLOBAL + TP,
        GLOBAL + LEGACY,
        CN + TP,
    ]
    run = plugin_env.probe("minimax", api_key=KEY, region="global")
    assert run.state == "credential-denied"
    assert "sk-cp-" in run.error and 'region = "cn"' in run.error
    assert len(plugin_env.requests_to(CN + TP)) == 1
    plugin_env.assert_no_secrets(run, KEY)


def test_web_mode_with_a_pasted_curl_command(plugin_env):
    curl = f"curl 'https://platform.minimax.io/x' -H 'cookie: _token={COOKIE_VALUE}; lang=en'"
    plugin_env.web.add("GET", WEB, json=fixture("remains.json"))
    run = plugin_env.probe(
        "minimax", source="web", cookie_header=curl, settings={"groupId": "1900000000"}
    )
    assert run.state == "ready", run.error
    assert run.json["source"] == "web" and run.metrics[0]["used"] == 45.0
    req = only_request(plugin_env, WEB, cookie=f"_token={COOKIE_VALUE}; lang=en")
    assert req.query == {"GroupId": "1900000000"}
    assert req.headers["referer"] == "https://platform.minimax.io/user-center/payment/coding-plan"
    plugin_env.web.add("GET", WEB, status=302, headers={"Location": "/login"})
    run = plugin_env.probe("minimax", source="web", cookie_header=f"_token={COOKIE_VALUE}")
    assert run.state == "credential-denied" and "import-cookies" in run.error
    plugin_env.assert_no_secrets(run, COOKIE_VALUE)


def test_errors(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        GLOBAL + TP,
        lambda: plugin_env.probe("minimax", api_key=KEY),
        rate_limited(30),
        answer("failed", "HTML", body="<html>error</html>"),
        answer("failed", "missing model_remains", json={"base_resp": {"status_code": 0}}),
        answer("failed", "bad", json={"base_resp": {"status_code": 2013, "status_msg": "bad"}}),
        secrets=(KEY,),
    )
    expect(plugin_env.probe("minimax", source="api"), "missing-auth", "MINIMAX_CODING_API_KEY")
    expect(plugin_env.probe("minimax", source="web"), "missing-auth", "MINIMAX_COOKIE")
    assert plugin_env.web.unmatched == []


@pytest.mark.parametrize(
    "path",
    [("base_resp", "status_code"), ("base_resp", "status_msg"), ("model_remains", 0, "model_name")],
    ids=["status_code", "status_msg", "model_name"],
)
def test_a_field_nested_thousands_deep_is_ignored(plugin_env, path):
    """Regression: String()/Number() of such an array overflowed the engine's stack."""
    plugin_env.web.add("GET", GLOBAL + TP, body=deeply_nested(fixture("remains.json"), *path))
    run = ready(plugin_env.probe("minimax", api_key=KEY), plan="Plus")
    assert run.metric("Session")["used"] == 45.0
    assert run.has_metric("Model") is (path[-1] != "model_name")
