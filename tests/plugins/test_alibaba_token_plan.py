"""alibaba-token-plan through the real host against the fake internet."""

from __future__ import annotations

import json

import pytest
from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    form,
    rate_limited,
    ready,
)

fixture = fixtures("alibaba-token-plan")
INTL_PAGE = "https://modelstudio.console.alibabacloud.com/ap-southeast-1/"
INTL_API = "https://modelstudio.console.alibabacloud.com/data/api.json"
INTL_INFO = "https://modelstudio.console.alibabacloud.com/tool/user/info.json"
CN_PAGE = "https://bailian.console.aliyun.com/cn-beijing"
CN_API = "https://bailian.console.aliyun.com/data/api.json"
QWEN_INFO = "https://home.qwencloud.com/tool/user/info.json"
QWEN_API = "https://cs-data.qwencloud.com/data/api.json"
USAGE_API = "zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/usage"
SUB_API = "zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/subscription"
COOKIE = "login_aliyunid_ticket=tp-ticket-secret-99; login_aliyunid_csrf=csrf-tp"
QWEN_COOKIE = "login_qwencloud_ticket=qwen-ticket-secret-55"


def test_team_credits_international(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_API, json=fixture("subscription-summary.json"))
    run = ready(
        plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE),
        source="web",
        plan="Token Plan Teams",
    )
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Credits",
            "used": 18749.5,
            "limit": 50000.0,
            "format": {"kind": "count", "suffix": "credits"},
            "resetsAt": "2030-02-01T00:00:00Z",
        },
        {"type": "text", "label": "Remaining", "value": "31.3K credits", "detail": True},
        {"type": "text", "label": "Expires", "value": "Feb 1", "detail": True},
    ]
    (req,) = plugin_env.requests_to(INTL_API)
    assert req.query == {"action": "GetSubscriptionSummary", "product": "BssOpenAPI-V3", "_tag": ""}
    assert form(req) == {
        "product": "BssOpenAPI-V3",
        "action": "GetSubscriptionSummary",
        "params": '{"ProductCode":"sfm_tokenplanteams_dp_intl"}',
        "region": "ap-southeast-1",
        "sec_token": "team-sec-token-7",
    }
    assert req.headers["cookie"] == COOKIE and req.headers["x-csrf-token"] == "csrf-tp"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "tp-ticket-secret-99")


def test_team_china_without_sec_token_and_env_cookie(plugin_env):
    plugin_env.setenv("ALIBABA_TOKEN_PLAN_COOKIE", "login_aliyunid_ticket=env-tp-ticket-11")
    plugin_env.web.add("GET", CN_PAGE, status=302, headers={"Location": "https://signin"})
    plugin_env.web.add(
        "GET", "https://bailian.console.aliyun.com/tool/user/info.json", status=404, json={}
    )
    plugin_env.web.add("POST", CN_API, json=fixture("subscription-summary.json"))
    run = plugin_env.probe("alibaba-token-plan", region="cn")
    assert run.state == "ready", run.error
    (req,) = plugin_env.requests_to(CN_API)
    body = form(req)
    assert "sec_token" not in body and body["region"] == "cn-beijing"
    assert body["params"] == '{"ProductCode":"sfm_tokenplanteams_dp_cn"}'
    assert req.headers["cookie"] == "login_aliyunid_ticket=env-tp-ticket-11"


def test_no_active_subscription(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_API, json=fixture("subscription-none.json"))
    run = plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE)
    assert run.state == "ready", run.error
    assert run.metrics == [
        {"type": "badge", "label": "Plan", "text": "No active Token Plan", "color": "grey"}
    ]


def test_personal_plan_on_qwen_cloud(plugin_env):
    plugin_env.web.add("GET", QWEN_INFO, json={"data": {"secToken": "qwen-sec-1"}})
    plugin_env.web.add(
        "POST", QWEN_API, json=fixture("personal-usage.json"), query={"api": USAGE_API}
    )
    plugin_env.web.add(
        "POST", QWEN_API, json=fixture("personal-subscription.json"), query={"api": SUB_API}
    )
    run = ready(
        plugin_env.probe("alibaba-token-plan", cookie_header=QWEN_COOKIE, region="qwen"),
        plan="Token Plan Standard",
    )
    assert run.metrics == [
        {
            "type": "progress",
            "label": "5-hour",
            "used": 1.05,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2029-12-31T16:00:00Z",
            "periodDurationMs": 18_000_000,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 40.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 604_800_000,
        },
    ]
    usage, sub = plugin_env.requests_to(QWEN_API)
    assert usage.query == {
        "product": "sfm_bailian",
        "action": "IntlBroadScopeAspnGateway",
        "api": USAGE_API,
    }
    body = form(usage)
    assert body["sec_token"] == "qwen-sec-1" and body["region"] == "ap-southeast-1"
    params = json.loads(body["params"])
    assert params["Api"] == USAGE_API and params["Data"]["cornerstoneParam"]["consoleSite"] == (
        "QWENCLOUD"
    )
    assert usage.headers["origin"] == "https://home.qwencloud.com"
    assert json.loads(form(sub)["params"])["Api"] == SUB_API
    plugin_env.assert_no_secrets(run, "qwen-ticket-secret-55")


def test_expired_sessions(plugin_env):
    plugin_env.web.add("GET", QWEN_INFO, json={"data": {"secToken": "qwen-sec-1"}})
    plugin_env.web.add("POST", QWEN_API, json=fixture("personal-token-error.json"))
    expect(
        plugin_env.probe("alibaba-token-plan", cookie_header=QWEN_COOKIE, region="personal"),
        "credential-denied",
        "home.qwencloud.com",
    )
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add(
        "POST", INTL_API, json={"code": "ConsoleNeedLogin", "successResponse": False}, times=1
    )
    expect(
        plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE),
        "credential-denied",
        "Token Plan console session expired",
    )
    plugin_env.web.add("POST", INTL_API, status=403, body="denied")
    run = plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE)
    assert run.state == "credential-denied"
    plugin_env.assert_no_secrets(run, "tp-ticket-secret-99", "qwen-ticket-secret-55")


def test_workspace_not_authorised(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body="<html></html>")
    plugin_env.web.add("GET", INTL_INFO, status=500, body="")
    plugin_env.web.add(
        "POST",
        INTL_API,
        json={
            "code": "200",
            "data": {
                "Success": False,
                "Code": "BailianGateway.Workspace.NotAuthorised",
                "Message": "BailianGateway.Workspace.NotAuthorised",
            },
        },
    )
    expect(
        plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE),
        "credential-denied",
        "sec_token is missing",
    )


def test_rate_limited_and_malformed_bodies(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    check_answers(
        plugin_env,
        "POST",
        INTL_API,
        lambda: plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE),
        rate_limited(400),
        answer("credential-denied", "web page", body="<html><a>Sign in</a></html>"),
        answer("failed", "missing TotalValue", json={"code": "200", "data": {"Data": {}}}),
        secrets=("tp-ticket-secret-99",),
    )
    plugin_env.web.add("GET", QWEN_INFO, json={"data": {"secToken": "s"}})
    check_answers(
        plugin_env,
        "POST",
        QWEN_API,
        lambda: plugin_env.probe("alibaba-token-plan", cookie_header=QWEN_COOKIE, region="qwen"),
        answer(
            "failed",
            "missing data.DataV2.data.data",
            json={"code": 200, "data": {"success": True}},
        ),
    )


def test_missing_cookie_and_regions(plugin_env):
    expect(plugin_env.probe("alibaba-token-plan"), "missing-auth", "import-cookies")
    run = plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE, region="cn-personal")
    assert run.state == "unsupported" and 'region "qwen"' in run.error
    expect(
        plugin_env.probe("alibaba-token-plan", cookie_header=COOKIE, region="moon"),
        "failed",
        "Unknown region",
    )
    assert plugin_env.web.requests == []


@pytest.mark.parametrize(
    ("field", "plan"),
    [("specCode", "Token Plan"), ("status", "Token Plan Standard")],
)
def test_a_subscription_value_nested_thousands_deep_is_ignored(plugin_env, field, plan):
    """Regression: String() of such an array overflowed the engine's stack."""
    path = ("data", "DataV2", "data", "data", field)
    sub = deeply_nested(fixture("personal-subscription.json"), *path)
    plugin_env.web.add("GET", QWEN_INFO, json={"data": {"secToken": "qwen-sec-1"}})
    plugin_env.web.add(
        "POST", QWEN_API, json=fixture("personal-usage.json"), query={"api": USAGE_API}
    )
    plugin_env.web.add("POST", QWEN_API, body=sub, query={"api": SUB_API})
    run = plugin_env.probe("alibaba-token-plan", cookie_header=QWEN_COOKIE, region="qwen")
    ready(run, plan=plan)
    assert not any("subscription details unavailable" in msg for _, msg in run.logs)
