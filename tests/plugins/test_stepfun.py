"""stepfun through the real host against the fake internet."""

from __future__ import annotations

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

from tests.pluginharness import make_jwt

fixture = fixtures("stepfun")
RPC = "https://platform.stepfun.com/api/step.openapi.devcenter.Dashboard/"
LIMITS = RPC + "QueryStepPlanRateLimit"
STATUS = RPC + "GetStepPlanStatus"
GLOBAL_RPC = "https://platform.stepfun.ai/api/step.openapi.devcenter.Dashboard/"
ACCESS = make_jwt({"device_id": "dev-4242", "exp": 1893456000})
TOKEN = ACCESS + "..refresh-part-0123456789"


def test_window_plan_with_a_bare_config_token_over_env(plugin_env):
    plugin_env.setenv("STEPFUN_TOKEN", "env-token-should-not-be-used")
    plugin_env.web.add("POST", LIMITS, json=fixture("rate-limit.json"))
    plugin_env.web.add("POST", STATUS, json=fixture("plan-status.json"))
    run = ready(plugin_env.probe("stepfun", cookie_header=TOKEN), source="web", plan="Plus")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "5-hour",
            "used": 25.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T05:00:00Z",
            "periodDurationMs": 18000000.0,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 10.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 604800000.0,
        },
    ]
    for url in (LIMITS, STATUS):
        (req,) = plugin_env.requests_to(url)
        assert req.method == "POST" and req.text() == "{}"
        assert req.headers["cookie"] == f"Oasis-Token={TOKEN}; Oasis-Webid=dev-4242"
        assert req.headers["oasis-webid"] == "dev-4242"
        assert req.headers["oasis-platform"] == "web"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, TOKEN, "refresh-part-0123456789")


def test_credit_plan_on_the_global_platform_from_env_cookie(plugin_env):
    plugin_env.setenv("STEPFUN_COOKIE", f"Oasis-Webid=web-1; Oasis-Token={TOKEN}; _ga=1")
    plugin_env.web.add(
        "POST", GLOBAL_RPC + "QueryStepPlanRateLimit", json=fixture("rate-limit-credits.json")
    )
    plugin_env.web.add("POST", GLOBAL_RPC + "GetStepPlanStatus", status=500, body="")
    run = plugin_env.probe("stepfun", region="global")
    assert run.state == "ready", run.error
    assert "plan" not in run.json
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Credits",
            "used": 600.0,
            "limit": 4000.0,
            "format": {"kind": "count", "suffix": "credits"},
            "resetsAt": "2030-02-01T00:00:00Z",
            "periodDurationMs": 31 * 86400000.0,
        }
    ]
    only_request(
        plugin_env,
        GLOBAL_RPC + "QueryStepPlanRateLimit",
        cookie=f"Oasis-Token={TOKEN}; Oasis-Webid=web-1",
    )
    assert plugin_env.requests_to(LIMITS) == []


def test_errors(plugin_env):
    check_answers(
        plugin_env,
        "POST",
        LIMITS,
        lambda: plugin_env.probe("stepfun", cookie_header=TOKEN),
        answer("credential-denied", "token is expired", json=fixture("token-expired.json")),
        answer("credential-denied", "Oasis-Token", status=401, json={"code": "unauthenticated"}),
        rate_limited(600),
        answer("failed", "not JSON", body="not json"),
        answer("failed", "five_hour_usage_left_rate", json={"status": 1}),
        secrets=(TOKEN,),
    )
    run = plugin_env.probe("stepfun", cookie_header="Oasis-Webid=web-1; other=2")
    expect(run, "missing-auth", "no Oasis-Token")
    expect(plugin_env.probe("stepfun"), "missing-auth", "STEPFUN_TOKEN")
    assert plugin_env.web.unmatched == []


def test_an_error_message_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.web.add("POST", LIMITS, body=deeply_nested(fixture("token-expired.json"), "message"))
    run = plugin_env.probe("stepfun", cookie_header=TOKEN)
    expect(run, "credential-denied", "StepFun session expired (code 401).")
