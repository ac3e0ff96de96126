"""Mistral plugin: admin.mistral.ai billing usage x prices, budgets, tRPC fallback (Ory session)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("mistral")
ADMIN = "https://admin.mistral.ai"
USAGE = ADMIN + "/api/billing/v2/usage"
BUDGET = ADMIN + "/api/billing/v2/budget"
ME = ADMIN + "/api/users/me"
PRICES = ADMIN + "/api/local-trpc/usage.prices"
SERIES = ADMIN + "/api/local-trpc/usage.costTimeseries"
COOKIE = "ory_session_coolname=ory-session-secret-1; csrftoken=csrf-secret-2; _ga=GA1"
HINT = "usagestat auth import-cookies --provider mistral --save"


def test_normal_account(plugin_env):
    plugin_env.web.add("GET", USAGE, json=fixture("billing-v2-usage.json"))
    plugin_env.web.add("GET", BUDGET, json=fixture("billing-v2-budget.json"))
    now = datetime.now(timezone.utc)
    run = ready(plugin_env.probe("mistral", cookie_header=COOKIE), source="web", plan="Vibe")
    plan = run.metric("Monthly Plan")
    assert (plan["used"], plan["limit"], plan["format"]) == (
        9.375,
        15.0,
        {"kind": "dollars", "currency": "EUR"},
    )
    assert plan["resetsAt"] == "2030-02-01T00:00:00Z"
    assert plan["periodDurationMs"] == 31 * 86_400_000
    api = run.metric("API budget")
    assert (api["used"], api["limit"], api["format"]["currency"]) == (5.0, 20.0, "EUR")
    # 1.8 + 1.62 + 0.01 (large) + 0.01 + 0.012 (small, value_paid) + 0.01 (OCR pages)
    assert run.metric("Monthly spend")["value"] == "€3.4620 this month"
    assert run.metric("Tokens") == {
        "type": "text",
        "label": "Tokens",
        "value": "1.2M in · 340K out · 50K cached",
        "detail": True,
    }
    (req,) = plugin_env.requests_to(USAGE, "GET")
    assert req.query == {"month": str(now.month), "year": str(now.year)}
    assert req.headers["cookie"] == COOKIE
    assert req.headers["x-csrftoken"] == "csrf-secret-2"
    assert req.headers["origin"] == ADMIN
    assert req.headers["referer"] == ADMIN + "/organization/usage"
    assert plugin_env.requests_to(BUDGET)[0].headers["referer"] == ADMIN + "/organization/billing"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, "ory-session-secret-1", "csrf-secret-2")


def test_trpc_fallback_when_the_report_endpoint_fails(plugin_env):
    plugin_env.setenv("MISTRAL_COOKIE", "ory_session_x=env-session")
    plugin_env.web.add("GET", USAGE, status=500, body="Internal Server Error")
    plugin_env.web.add("GET", ME, json=fixture("users-me.json"))
    plugin_env.web.add("GET", PRICES, json=fixture("trpc-usage-prices.json"))
    plugin_env.web.add("GET", SERIES, json=fixture("trpc-usage-costTimeseries.json"))
    plugin_env.web.add("GET", BUDGET, status=404, json={})
    run = ready(plugin_env.probe("mistral"), plan="API")
    assert run.metric("Monthly spend")["value"] == "€6.3000 this month"  # global price, not eu
    assert run.metric("Tokens")["value"] == "2M in · 500K out · 0 cached"
    assert not run.has_metric("Monthly Plan")
    prices_req = plugin_env.requests_to(PRICES)[0]
    assert prices_req.query["batch"] == "1"
    assert json.loads(prices_req.query["input"]) == {"0": {"json": {"workspaceId": "ws-0001"}}}
    series = json.loads(plugin_env.requests_to(SERIES)[0].query["input"])["0"]
    assert series["json"]["granularity"] == "day"
    assert series["json"]["start"].endswith("-01T00:00:00.000Z")
    assert series["json"]["end"].endswith("T23:59:59.999Z")
    assert series["meta"] == {"values": {"start": ["Date"], "end": ["Date"]}}
    req = plugin_env.requests_to(ME)[0]
    assert req.headers["cookie"] == "ory_session_x=env-session"
    assert "x-csrftoken" not in req.headers  # no csrftoken cookie, no header
    # config wins over env
    plugin_env.web.add("GET", USAGE, json=fixture("billing-v2-usage.json"))
    assert plugin_env.probe("mistral", cookie_header="ory_session_y=cfg").state == "ready"
    assert plugin_env.requests_to(USAGE)[-1].headers["cookie"] == "ory_session_y=cfg"


def test_expired_session_rate_limit_and_malformed_answers(plugin_env):
    check_answers(
        plugin_env,
        "GET",
        USAGE,
        lambda: plugin_env.probe("mistral", cookie_header=COOKIE),
        answer(
            "credential-denied",
            f"Mistral session expired — run `{HINT}` (HTTP 401).",
            status=401,
            json={"detail": "Unauthorized"},
        ),
        answer(
            "credential-denied",
            "redirected",
            status=303,
            headers={"location": "https://auth.mistral.ai/ui/login"},
        ),
        answer("credential-denied", "web page", body="<!doctype html><html>Sign in</html>"),
        rate_limited(600),
        answer("failed", "not JSON", body="{broken"),
        answer(
            "failed",
            "Unexpected response from Mistral billing usage: missing prices.",
            json={"detail": "moved"},
        ),
        secrets=("ory-session-secret-1", "csrf-secret-2"),
    )
    # The report endpoint fails and the tRPC fallback cannot find the workspace.
    plugin_env.web.add("GET", ME, json={"email": "x"})
    check_answers(
        plugin_env,
        "GET",
        USAGE,
        lambda: plugin_env.probe("mistral", cookie_header=COOKIE),
        answer("failed", "workspace.uuid", status=500, body=""),
    )


LARGE_INPUT = ("completion", "models", "mistral-large-latest", "input", 0)
TRPC = (0, "result", "data", "json")


@pytest.mark.parametrize(
    ("name", "path", "spend"),
    [
        ("billing-v2-budget.json", ("api_budget", "currency"), "€3.4620"),
        ("billing-v2-usage.json", ("currency",), "€3.4620"),
        ("billing-v2-usage.json", ("currency_symbol",), "€3.4620"),
        ("billing-v2-usage.json", (*LARGE_INPUT, "billing_metric"), "€1.6620"),
        ("billing-v2-usage.json", (*LARGE_INPUT, "billing_group"), "€3.4620"),
        ("billing-v2-usage.json", (*LARGE_INPUT, "event_type"), "€3.4620"),
        ("billing-v2-usage.json", ("prices", 0, "billing_metric"), "€1.6620"),
        ("billing-v2-usage.json", ("prices", 0, "event_type"), "€3.4620"),
        ("users-me.json", ("workspace", "uuid"), None),
        ("trpc-usage-prices.json", (*TRPC, "currency"), "€6.3000"),
        ("trpc-usage-costTimeseries.json", (*TRPC, "groups", 0, "billingMetric"), "€2.7000"),
        ("trpc-usage-costTimeseries.json", (*TRPC, "groups", 0, "billingGroup"), "€2.7000"),
    ],
    ids=[
        "budget-currency",
        "currency",
        "currency-symbol",
        "metric",
        "group",
        "event-type",
        "price-metric",
        "price-event-type",
        "trpc-workspace",
        "trpc-currency",
        "trpc-metric",
        "trpc-group",
    ],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, name, path, spend):
    """Regression: String() or "+" of such an array overflowed the engine's stack."""
    trpc = name.startswith(("trpc-", "users-"))
    urls = {
        "billing-v2-budget.json": BUDGET,
        "users-me.json": ME,
        "trpc-usage-prices.json": PRICES,
        "trpc-usage-costTimeseries.json": SERIES,
    }
    if trpc:
        plugin_env.web.add("GET", USAGE, status=500, body="")
    else:
        urls["billing-v2-usage.json"] = USAGE
    for other, url in urls.items():
        data = fixture(other)
        body = deeply_nested(data, *path) if other == name else json.dumps(data)
        plugin_env.web.add("GET", url, body=body)
    run = plugin_env.probe("mistral", cookie_header=COOKIE)
    if spend is None:
        expect(run, "failed", "missing workspace.uuid")
        return
    ready(run, plan="Vibe")
    assert run.metric("Monthly spend")["value"] == spend + " this month"
    assert run.metric("API budget")["format"] == {"kind": "dollars", "currency": "EUR"}


def test_missing_credential(plugin_env):
    expect(plugin_env.probe("mistral"), "missing-auth", HINT, "MISTRAL_COOKIE")
    run = plugin_env.probe("mistral", cookie_header="csrftoken=abc; theme=dark")
    expect(run, "missing-auth", "ory_session_")
    assert plugin_env.web.requests == []
