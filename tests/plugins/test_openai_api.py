"""openai-api through the real host against the fake internet."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from helpers import answer, check_answers, expect, fixtures, rate_limited, ready, utc_month

fixture = fixtures("openai-api")
COSTS = "https://api.openai.com/v1/organization/costs"
USAGE = "https://api.openai.com/v1/organization/usage/completions"
KEY = "sk-admin-config-key-0123456789"
ENV_KEY = "sk-admin-env-key-abcdefghij"
DAY = 86400


def day_start(days_ago: int) -> int:
    now = datetime.now(timezone.utc)
    today = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    return int((today - timedelta(days=days_ago)).timestamp())


def cost_pages(amounts: dict[int, float]):
    """Two pages of 1d buckets: days_ago -> dollars (fixture shape, dates moved to now)."""
    template = fixture("costs-page.json")
    buckets = []
    for days_ago, value in sorted(amounts.items(), reverse=True):
        bucket = copy.deepcopy(template["data"][0])
        bucket["start_time"] = day_start(days_ago)
        bucket["end_time"] = bucket["start_time"] + DAY
        bucket["results"][0]["amount"]["value"] = value
        bucket["results"][1]["amount"]["value"] = 0.0
        buckets.append(bucket)
    first = dict(template, data=buckets[:2])
    second = dict(template, data=buckets[2:], has_more=False, next_page=None)
    return first, second


def expected_sums(amounts: dict[int, float]) -> tuple[float, float, float]:
    month_start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0)
    month_start_ts = int(month_start.timestamp())
    today = sum(v for d, v in amounts.items() if d == 0)
    week = sum(v for d, v in amounts.items() if d <= 6)
    month = sum(v for d, v in amounts.items() if day_start(d) >= month_start_ts)
    return today, week, month


def test_costs_budget_and_tokens(plugin_env):
    amounts = {0: 1.25, 3: 2.0, 6: 0.5, 7: 4.0, 10: 8.0}
    first, second = cost_pages(amounts)
    plugin_env.setenv("OPENAI_ADMIN_KEY", ENV_KEY)
    plugin_env.web.add("GET", COSTS, json=second, query={"page": first["next_page"]})
    plugin_env.web.add("GET", COSTS, json=first, times=1)
    plugin_env.web.add("GET", USAGE, json=fixture("usage-completions.json"))
    run = ready(
        plugin_env.probe("openai-api", api_key=KEY, settings={"monthlyBudget": 100}),
        plan="Admin API",
    )
    today, week, month = expected_sums(amounts)
    start, end = utc_month()
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Budget",
            "used": month,
            "limit": 100.0,
            "format": {"kind": "dollars"},
            "resetsAt": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "periodDurationMs": (end - start).total_seconds() * 1000,
        },
        {"type": "text", "label": "Today", "value": f"${today:.2f}"},
        {"type": "text", "label": "Last 7 days", "value": f"${week:.2f}"},
        {
            "type": "text",
            "label": "This month",
            "value": f"${month:.2f}",
            "subtitle": "Costs can lag a few hours",
        },
        {"type": "text", "label": "Tokens (month)", "value": "1.2M in / 340K out", "detail": True},
        {"type": "text", "label": "Requests (month)", "value": "1,534", "detail": True},
    ]
    page1, page2 = plugin_env.requests_to(COSTS)
    oldest = min(day_start(6), int(start.timestamp()))
    assert page1.query == {
        "start_time": str(oldest),
        "bucket_width": "1d",
        "limit": str((day_start(0) - oldest) // DAY + 1),
    }
    assert page2.query == dict(page1.query, page=first["next_page"])
    (usage,) = plugin_env.requests_to(USAGE)
    assert usage.query["start_time"] == str(int(start.timestamp()))
    for req in (page1, page2, usage):
        assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_project_scope_from_env_and_usage_refused(plugin_env):
    plugin_env.setenv("OPENAI_ADMIN_KEY", ENV_KEY)
    plugin_env.setenv("OPENAI_PROJECT_ID", "proj_abc123")
    page = dict(fixture("costs-page.json"), data=[], has_more=False, next_page=None)
    plugin_env.web.add("GET", COSTS, json=page)
    plugin_env.web.add("GET", USAGE, status=403, json={"error": {"message": "forbidden"}})
    run = ready(plugin_env.probe("openai-api"), plan="Project: proj_abc123")
    assert [(m["label"], m["value"]) for m in run.metrics] == [
        ("Today", "$0.00"),
        ("Last 7 days", "$0.00"),
        ("This month", "$0.00"),
    ]
    (req,) = plugin_env.requests_to(COSTS)
    assert req.query["project_ids"] == "proj_abc123"
    assert req.headers["authorization"] == f"Bearer {ENV_KEY}"
    assert plugin_env.requests_to(USAGE)[0].query["project_ids"] == "proj_abc123"


def test_errors(plugin_env):
    web = plugin_env.web
    check_answers(
        plugin_env,
        "GET",
        COSTS,
        lambda: plugin_env.probe("openai-api", api_key="sk-proj-normal-key-123456"),
        answer(
            "credential-denied",
            "Admin key (sk-admin-",
            status=401,
            json={"error": {"message": "Missing scopes"}},
        ),
        secrets=("sk-proj-normal-key-123456",),
    )
    # A service-account key without admin rights is refused with 403.
    check_answers(
        plugin_env,
        "GET",
        COSTS,
        lambda: plugin_env.probe("openai-api", api_key="sk-svcacct-no-admin-key-7890"),
        answer(
            "credential-denied",
            "OpenAI rejected the credentials (HTTP 403)",
            "service-account keys cannot read it",
            status=403,
            json={"error": {"message": "You have insufficient permissions for this operation."}},
        ),
        secrets=("sk-svcacct-no-admin-key-7890",),
    )
    # An Admin key refused with 403: no advice to get an Admin key.
    check_answers(
        plugin_env,
        "GET",
        COSTS,
        lambda: plugin_env.probe("openai-api", api_key=KEY),
        answer(
            "credential-denied",
            "HTTP 403",
            "Admin key is active and belongs to this organization",
            status=403,
            json={"error": {"message": "forbidden"}},
        ),
        secrets=(KEY,),
    )
    check_answers(
        plugin_env,
        "GET",
        COSTS,
        lambda: plugin_env.probe("openai-api", api_key=KEY),
        rate_limited(20),
        answer("failed", "HTML", body="<html>oops</html>"),
        answer("failed", "missing data", json={"object": "page"}),
    )
    expect(plugin_env.probe("openai-api"), "missing-auth", "OPENAI_ADMIN_KEY")
    assert web.unmatched == []
