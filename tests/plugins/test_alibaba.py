"""alibaba (Coding Plan) through the real host against the fake internet."""

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

fixture = fixtures("alibaba")
INTL_PAGE = "https://modelstudio.console.alibabacloud.com/ap-southeast-1/"
INTL_INFO = "https://modelstudio.console.alibabacloud.com/tool/user/info.json"
INTL_RPC = "https://bailian-singapore-cs.alibabacloud.com/data/api.json"
CN_PAGE = "https://bailian.console.aliyun.com/cn-beijing/"
CN_RPC = "https://bailian.console.aliyun.com/data/api.json"
QUOTA_API = "zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2"
COOKIE = "login_aliyunid_ticket=ticket-secret-123456; login_aliyunid_csrf=csrf-abc; cna=anon-1"
KEY = "sk-dashscope-test-1234567890"

EXPECTED = [
    {
        "type": "progress",
        "label": "5-hour",
        "used": 120.0,
        "limit": 1200.0,
        "format": {"kind": "count", "suffix": "requests"},
        "resetsAt": "2029-12-31T16:00:00Z",
        "periodDurationMs": 18_000_000,
    },
    {
        "type": "progress",
        "label": "Weekly",
        "used": 2400.0,
        "limit": 9000.0,
        "format": {"kind": "count", "suffix": "requests"},
        "resetsAt": "2030-01-05T16:00:00Z",
        "periodDurationMs": 604_800_000,
    },
    {
        "type": "progress",
        "label": "Monthly",
        "used": 8000.0,
        "limit": 18000.0,
        "format": {"kind": "count", "suffix": "requests"},
        "resetsAt": "2030-01-01T00:00:00Z",
        "periodDurationMs": 31 * 86_400_000,
    },
]


def test_international_console_session(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_RPC, json=fixture("coding-plan.json"))
    run = ready(
        plugin_env.probe("alibaba", cookie_header=COOKIE), source="web", plan="Coding Plan Pro"
    )
    assert run.metrics == EXPECTED
    (page,) = plugin_env.requests_to(INTL_PAGE)
    assert page.query == {"tab": "coding-plan"} and page.headers["cookie"] == COOKIE
    (rpc,) = plugin_env.requests_to(INTL_RPC)
    assert rpc.method == "POST"
    assert rpc.query == {
        "action": "IntlBroadScopeAspnGateway",
        "product": "sfm_bailian",
        "api": QUOTA_API,
        "_v": "undefined",
    }
    assert rpc.headers["content-type"] == "application/x-www-form-urlencoded"
    assert rpc.headers["x-xsrf-token"] == "csrf-abc" and rpc.headers["cookie"] == COOKIE
    body = form(rpc)
    assert body["sec_token"] == "sec-token-from-page-42" and body["region"] == "ap-southeast-1"
    params = json.loads(body["params"])
    assert params["Api"] == QUOTA_API
    assert params["Data"]["queryCodingPlanInstanceInfoRequest"] == {
        "commodityCode": "sfm_codingplan_public_intl",
        "onlyLatestOne": True,
    }
    assert params["Data"]["cornerstoneParam"]["X-Anonymous-Id"] == "anon-1"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "ticket-secret-123456")


def test_sec_token_from_user_info_and_env_cookie(plugin_env):
    plugin_env.setenv("ALIBABA_CODING_PLAN_COOKIE", "Cookie: login_aliyunid_ticket=env-ticket-777")
    plugin_env.web.add("GET", INTL_PAGE, status=302, headers={"Location": "https://signin/"})
    plugin_env.web.add(
        "GET", INTL_INFO, json={"code": "200", "data": {"secToken": "sec-from-info"}}
    )
    plugin_env.web.add("POST", INTL_RPC, json=fixture("coding-plan.json"))
    run = plugin_env.probe("alibaba")
    assert run.state == "ready", run.error
    (rpc,) = plugin_env.requests_to(INTL_RPC)
    assert form(rpc)["sec_token"] == "sec-from-info"
    assert rpc.headers["cookie"] == "login_aliyunid_ticket=env-ticket-777"
    plugin_env.assert_no_secrets(run, "env-ticket-777")


def test_china_region(plugin_env):
    plugin_env.web.add("GET", CN_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", CN_RPC, json=fixture("coding-plan.json"))
    run = plugin_env.probe("alibaba", cookie_header=COOKIE, region="cn")
    assert run.state == "ready", run.error
    (rpc,) = plugin_env.requests_to(CN_RPC)
    assert rpc.query["action"] == "BroadScopeAspnGateway"
    params = json.loads(form(rpc)["params"])
    assert params["Data"]["queryCodingPlanInstanceInfoRequest"]["commodityCode"] == (
        "sfm_codingplan_public_cn"
    )
    assert form(rpc)["region"] == "cn-beijing"
    assert plugin_env.requests_to(INTL_RPC) == []


def test_unconfigured_region_falls_back_to_china_once(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_RPC, json=fixture("need-login.json"))
    plugin_env.web.add("GET", CN_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", CN_RPC, json=fixture("coding-plan.json"))
    run = plugin_env.probe("alibaba", cookie_header=COOKIE)
    assert run.state == "ready", run.error
    assert len(plugin_env.requests_to(INTL_RPC)) == 1 and len(plugin_env.requests_to(CN_RPC)) == 1


def test_expired_session_on_both_consoles(plugin_env):
    for page, rpc in ((INTL_PAGE, INTL_RPC), (CN_PAGE, CN_RPC)):
        plugin_env.web.add("GET", page, body=fixture("dashboard.html"))
        plugin_env.web.add("POST", rpc, json=fixture("need-login.json"))
    expect(
        plugin_env.probe("alibaba", cookie_header=COOKIE),
        "credential-denied",
        "Bailian session expired",
    )
    plugin_env.web.add("POST", CN_RPC, status=401, json={})
    run = plugin_env.probe("alibaba", cookie_header=COOKIE, region="cn")
    assert run.state == "credential-denied"
    plugin_env.assert_no_secrets(run, "ticket-secret-123456")


def test_api_key_mode(plugin_env):
    intl_api = "https://modelstudio.console.alibabacloud.com/data/api.json"
    plugin_env.setenv("DASHSCOPE_API_KEY", KEY)
    plugin_env.web.add("POST", intl_api, json=fixture("coding-plan.json"))
    run = plugin_env.probe("alibaba", source="api", region="intl")
    assert run.state == "ready", run.error
    assert run.json["source"] == "api" and run.metrics == EXPECTED
    (req,) = plugin_env.requests_to(intl_api)
    assert req.query == {
        "action": QUOTA_API,
        "product": "broadscope-bailian",
        "api": "queryCodingPlanInstanceInfoV2",
        "currentRegionId": "ap-southeast-1",
    }
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["x-dashscope-api-key"] == KEY
    assert req.json() == {
        "queryCodingPlanInstanceInfoRequest": {"commodityCode": "sfm_codingplan_public_intl"}
    }
    plugin_env.web.add("POST", intl_api, json=fixture("need-login.json"))
    run = plugin_env.probe("alibaba", source="api", region="intl")
    assert run.state == "credential-denied" and "use the console cookie" in run.error
    plugin_env.assert_no_secrets(run, KEY)


def test_active_plan_without_counters(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_RPC, json=fixture("active-no-counters.json"))
    run = ready(
        plugin_env.probe("alibaba", cookie_header=COOKIE, region="intl"), plan="Coding Plan Lite"
    )
    assert run.metrics == [
        {"type": "badge", "label": "Plan", "text": "Active — no quota data", "color": "blue"}
    ]


def test_rate_limited_and_malformed_bodies(plugin_env):
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    check_answers(
        plugin_env,
        "POST",
        INTL_RPC,
        lambda: plugin_env.probe("alibaba", cookie_header=COOKIE, region="intl"),
        rate_limited(300),
        answer("credential-denied", "login page", body="<html>login.alibabacloud.com</html>"),
        answer("failed", "not JSON", body="{truncated"),
        answer(
            "failed", "missing codingPlanQuotaInfo", json={"code": "200", "data": {"success": True}}
        ),
        secrets=("ticket-secret-123456",),
    )


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("alibaba"), "missing-auth", "import-cookies --provider alibaba")
    expect(plugin_env.probe("alibaba", source="api"), "missing-auth", "DASHSCOPE_API_KEY")
    assert plugin_env.web.requests == []


@pytest.mark.parametrize("index", [0, 1], ids=["expired-plan", "valid-plan"])
def test_an_instance_status_nested_thousands_deep_is_ignored(plugin_env, index):
    """Regression: String() of such an array overflowed the engine's stack."""
    data = fixture("coding-plan.json")
    inner = json.loads(data["data"]["DataV2"])
    data["data"]["DataV2"] = deeply_nested(
        inner, "data", "codingPlanInstanceInfos", index, "status"
    )
    plugin_env.web.add("GET", INTL_PAGE, body=fixture("dashboard.html"))
    plugin_env.web.add("POST", INTL_RPC, json=data)
    run = ready(plugin_env.probe("alibaba", cookie_header=COOKIE), plan="Coding Plan Pro")
    assert run.metrics == EXPECTED
