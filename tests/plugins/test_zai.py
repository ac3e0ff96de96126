"""zai through the real host against the fake internet."""

from __future__ import annotations

from helpers import answer, check_answers, expect, fixtures, only_request, rate_limited, ready

fixture = fixtures("zai")
GLOBAL = "https://api.z.ai/api/monitor/usage/quota/limit"
GLOBAL_SUBS = "https://api.z.ai/api/biz/subscription/list"
CN = "https://open.bigmodel.cn/api/monitor/usage/quota/limit"
CN_SUBS = "https://open.bigmodel.cn/api/biz/subscription/list"
KEY = "zai-config-key-0123456789.abcdef"
ENV_KEY = "zai-env-key-abcdefghij.123456"
FILE_KEY = "zhipu-file-key-7777777.888888"


def test_session_weekly_and_web_searches(plugin_env):
    plugin_env.setenv("ZAI_API_KEY", ENV_KEY)
    plugin_env.web.add("GET", GLOBAL, json=fixture("quota-limit.json"))
    plugin_env.web.add("GET", GLOBAL_SUBS, json=fixture("subscription-list.json"))
    run = ready(plugin_env.probe("zai", api_key=KEY), plan="GLM Coding Pro")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Session",
            "used": 42.5,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T04:00:00Z",
            "periodDurationMs": 18000000.0,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 18.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 604800000.0,
        },
        {
            "type": "progress",
            "label": "Web searches",
            "used": 37.0,
            "limit": 1000.0,
            "format": {"kind": "count", "suffix": "calls"},
            "resetsAt": "2030-02-01T00:00:00Z",
            "periodDurationMs": 31 * 86400000.0,
            "detail": True,
        },
    ]
    for url in (GLOBAL, GLOBAL_SUBS):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
        assert req.query == {}
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_china_from_key_file_and_team_scope(plugin_env):
    plugin_env.file(".config/zhipu/api_key", FILE_KEY + "\n")
    plugin_env.web.add("GET", CN, json=fixture("quota-limit-credit.json"))
    run = ready(plugin_env.probe("zai"), plan="Lite (China)")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Session",
            "used": 7.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T04:00:00Z",
            "periodDurationMs": 18000000.0,
        }
    ]
    only_request(plugin_env, CN, authorization=f"Bearer {FILE_KEY}")
    assert plugin_env.requests_to(GLOBAL) == [] and plugin_env.requests_to(CN_SUBS) == []
    plugin_env.assert_no_secrets(run, FILE_KEY)
    # Team usage: both headers and type=2; an empty limit list is not an error.
    plugin_env.web.add("GET", CN, json={"code": 200, "success": True, "data": {"limits": []}})
    plugin_env.web.add("GET", CN_SUBS, status=404, body="")
    run = plugin_env.probe(
        "zai",
        api_key=KEY,
        region="cn",
        workspace_id="proj-42",
        settings={"organizationId": "org-7"},
    )
    assert run.state == "ready", run.error
    assert run.metrics == [
        {"type": "badge", "label": "Session", "text": "No usage data", "color": "grey"}
    ]
    team = plugin_env.requests_to(CN)[-1]
    assert team.query == {"type": "2"} and team.headers["authorization"] == f"Bearer {KEY}"
    assert team.headers["bigmodel-organization"] == "org-7"
    assert team.headers["bigmodel-project"] == "proj-42"


def test_errors(plugin_env):
    web = plugin_env.web
    check_answers(
        plugin_env,
        "GET",
        GLOBAL,
        lambda: plugin_env.probe("zai", api_key=KEY),
        answer(
            "credential-denied",
            'region = "cn"',
            status=401,
            json={"code": 401, "msg": "token expired"},
        ),
        answer("credential-denied", "api.z.ai", json=fixture("auth-error.json")),
        rate_limited(120),
        answer("failed", "HTML", body="<html>busy</html>"),
        answer("failed", "missing data.limits", json={"code": 200, "success": True, "data": {}}),
        secrets=(KEY,),
    )
    expect(
        plugin_env.probe("zai", api_key=KEY, workspace_id="proj-only"), "failed", "organizationId"
    )
    expect(plugin_env.probe("zai", region="global"), "missing-auth", "ZAI_API_KEY")
    assert web.unmatched == []
