"""aws-bedrock through the real host against the fake internet.

Every request the plugin sends is re-verified here with an independent SigV4
implementation (hashlib/hmac), so the fake AWS only answers correctly signed calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("aws-bedrock")


CE = "https://ce.us-east-1.amazonaws.com/"
CW_EAST = "https://monitoring.us-east-1.amazonaws.com/"
CW_WEST = "https://monitoring.eu-west-1.amazonaws.com/"
AKID = "AKIATESTEXAMPLE12345"
SECRET = "testSecretKey/with+chars/1234567890abcdef"
TOKEN = "session-token-FwoGZXIvYXdzEXAMPLE"


def verify_sigv4(req, secret: str, region: str, service: str) -> None:
    auth = req.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=")
    fields = dict(part.split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(", "))
    akid, date, reg, svc, term = fields["Credential"].split("/")
    assert (reg, svc, term) == (region, service, "aws4_request")
    amz_date = req.headers["x-amz-date"]
    assert amz_date[:8] == date
    signed = fields["SignedHeaders"].split(";")
    canonical_headers = "".join(
        f"{name}:{' '.join(req.headers[name].split())}\n" for name in signed
    )
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(req.query.items())
    )
    creq = "\n".join(
        [
            req.method,
            req.path or "/",
            query,
            canonical_headers,
            fields["SignedHeaders"],
            hashlib.sha256(req.body).hexdigest(),
        ]
    )
    sts = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(creq.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    assert fields["Signature"] == expected, "signature does not verify"
    assert {"host", "x-amz-date", "x-amz-target", "content-type"} <= set(signed)
    return akid


def dates():
    now = datetime.now(timezone.utc)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    today = now.strftime("%Y-%m-%d")
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    return month_start, today, yesterday, tomorrow


def cost_body() -> dict:
    month_start, today, yesterday, _ = dates()
    data = fixture("cost-and-usage.json")
    first, second = data["ResultsByTime"]
    first["TimePeriod"]["Start"] = month_start.strftime("%Y-%m-%d")
    second["TimePeriod"]["Start"] = today
    if yesterday >= month_start.strftime("%Y-%m-%d") and yesterday != first["TimePeriod"]["Start"]:
        first["TimePeriod"]["Start"] = yesterday
    return data


def add_aws(web, cw=CW_EAST) -> None:
    web.add("POST", CE, json=cost_body())
    web.add("POST", cw, json=fixture("metric-data.json"))


def test_static_env_keys_spend_and_tokens(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    add_aws(plugin_env.web)
    run = ready(plugin_env.probe("aws-bedrock"), source="api")
    month_start, _today, _yesterday, tomorrow = dates()
    assert run.metric("Spend (month)") == {
        "type": "text",
        "label": "Spend (month)",
        "value": "$4.75",
        "subtitle": "Cost Explorer data lags up to ~24 h",
    }
    first_of_month = month_start.day == datetime.now(timezone.utc).day
    assert run.metric("Today")["value"] == ("$4.75" if first_of_month else "$3.50")
    if not first_of_month:
        assert run.metric("Yesterday")["value"] == "$1.25"
    assert run.metric("Input tokens (month)")["value"] == "150.5K"
    assert run.metric("Output tokens (month)")["value"] == "25K"
    assert run.metric("Invocations (month)") == {
        "type": "text",
        "label": "Invocations (month)",
        "value": "342",
        "detail": True,
    }
    assert not run.has_metric("Budget")
    (ce,) = plugin_env.requests_to(CE)
    assert verify_sigv4(ce, SECRET, "us-east-1", "ce") == AKID
    assert ce.headers["x-amz-target"] == "AWSInsightsIndexService.GetCostAndUsage"
    assert ce.headers["content-type"] == "application/x-amz-json-1.1"
    assert ce.json() == {
        "TimePeriod": {"Start": month_start.strftime("%Y-%m-%d"), "End": tomorrow},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
    }
    assert "x-amz-security-token" not in ce.headers
    (cw,) = plugin_env.requests_to(CW_EAST)
    verify_sigv4(cw, SECRET, "us-east-1", "monitoring")
    assert cw.headers["x-amz-target"] == "GraniteServiceVersion20100801.GetMetricData"
    body = cw.json()
    assert body["StartTime"] == int(month_start.timestamp())
    assert [q["Id"] for q in body["MetricDataQueries"]] == ["input", "output", "invocations"]
    assert 'MetricName="InputTokenCount"' in body["MetricDataQueries"][0]["Expression"]
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, SECRET)


def test_config_keys_with_session_token_region_and_budget(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", "AKIAENVSHOULDNOTWIN00")
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-should-not-win")
    plugin_env.setenv("AWS_REGION", "us-east-1")
    add_aws(plugin_env.web, CW_WEST)
    run = plugin_env.probe(
        "aws-bedrock",
        region="eu-west-1",
        settings={
            "accessKeyId": AKID,
            "secretAccessKey": SECRET,
            "sessionToken": TOKEN,
            "monthlyBudget": 50,
        },
    )
    assert run.state == "ready", run.error
    now = datetime.now(timezone.utc)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    assert run.metric("Budget") == {
        "type": "progress",
        "label": "Budget",
        "used": 4.75,
        "limit": 50.0,
        "format": {"kind": "dollars"},
        "resetsAt": next_month.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "periodDurationMs": (next_month - month_start).total_seconds() * 1000,
    }
    (ce,) = plugin_env.requests_to(CE)
    assert verify_sigv4(ce, SECRET, "us-east-1", "ce") == AKID
    assert ce.headers["x-amz-security-token"] == TOKEN
    assert "x-amz-security-token" in ce.headers["authorization"]
    verify_sigv4(plugin_env.requests_to(CW_WEST)[0], SECRET, "eu-west-1", "monitoring")
    plugin_env.assert_no_secrets(run, SECRET, TOKEN)


def test_credentials_file_profile(plugin_env):
    plugin_env.file(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIADEFAULT000000000\naws_secret_access_key = nope\n\n"
        f"[work]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n",
    )
    plugin_env.setenv("AWS_PROFILE", "work")
    add_aws(plugin_env.web)
    run = plugin_env.probe("aws-bedrock")
    assert run.state == "ready", run.error
    assert verify_sigv4(plugin_env.requests_to(CE)[0], SECRET, "us-east-1", "ce") == AKID


def test_cli_mode_exports_credentials(plugin_env):
    exported = {
        "Version": 1,
        "AccessKeyId": AKID,
        "SecretAccessKey": SECRET,
        "SessionToken": TOKEN,
        "Expiration": "2030-01-01T00:00:00Z",
    }
    log = plugin_env.tmp / "aws-args.txt"
    plugin_env.fake_command("aws", f"echo \"$@\" > {log}\necho '{json.dumps(exported)}'")
    add_aws(plugin_env.web)
    run = ready(
        plugin_env.probe("aws-bedrock", source="cli", settings={"profile": "sso-dev"}), source="cli"
    )
    assert log.read_text().split() == [
        "configure",
        "export-credentials",
        "--format",
        "process",
        "--profile",
        "sso-dev",
    ]
    ce = plugin_env.requests_to(CE)[0]
    verify_sigv4(ce, SECRET, "us-east-1", "ce")
    assert ce.headers["x-amz-security-token"] == TOKEN
    plugin_env.assert_no_secrets(run, SECRET, TOKEN)


def test_cli_sso_session_expired(plugin_env):
    plugin_env.fake_command(
        "aws", "echo 'Error loading SSO Token: Token for sso-dev has expired' >&2; exit 255"
    )
    run = plugin_env.probe("aws-bedrock", source="cli", settings={"profile": "sso-dev"})
    assert run.state == "credential-denied"
    assert "aws sso login --profile sso-dev" in run.error


def test_access_denied_and_bad_keys(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    plugin_env.web.add("POST", CE, status=400, json=fixture("access-denied.json"), times=1)
    expect(plugin_env.probe("aws-bedrock"), "credential-denied", "ce:GetCostAndUsage")
    plugin_env.web.add(
        "POST",
        CE,
        status=403,
        json={"__type": "com.amazon.coral.service#UnrecognizedClientException"},
        times=1,
    )
    expect(plugin_env.probe("aws-bedrock"), "credential-denied", "UnrecognizedClientException")
    check_answers(
        plugin_env,
        "POST",
        CE,
        lambda: plugin_env.probe("aws-bedrock", settings={"profile": "p1"}),
        answer(
            "credential-denied",
            "aws sso login --profile p1",
            status=400,
            json={"__type": "ExpiredTokenException"},
        ),
        secrets=(SECRET,),
    )


def test_cloudwatch_denied_keeps_spend(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    plugin_env.web.add("POST", CE, json=cost_body())
    plugin_env.web.add("POST", CW_EAST, status=403, json={"__type": "AccessDenied"})
    run = plugin_env.probe("aws-bedrock")
    assert run.state == "ready", run.error
    assert run.metric("Spend (month)")["value"] == "$4.75"
    assert not run.has_metric("Input tokens (month)")
    assert any("cloudwatch:GetMetricData" in msg for _, msg in run.logs)


def test_cloudwatch_throttled_keeps_spend(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    plugin_env.web.add("POST", CE, json=cost_body())
    plugin_env.web.add(
        "POST",
        CW_EAST,
        status=429,
        headers={"Retry-After": "60"},
        json={"__type": "ThrottlingException", "Message": "Rate exceeded"},
    )
    run = ready(plugin_env.probe("aws-bedrock"))
    assert run.metric("Spend (month)")["value"] == "$4.75"
    assert run.metric("Tokens (month)") == {
        "type": "text",
        "label": "Tokens (month)",
        "value": "Throttled",
        "subtitle": "CloudWatch is throttling requests; try again later",
    }
    assert not run.has_metric("Input tokens (month)")
    assert len(plugin_env.requests_to(CE)) == 1
    plugin_env.assert_no_secrets(run, SECRET)


def test_throttled_and_malformed_bodies(plugin_env):
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    check_answers(
        plugin_env,
        "POST",
        CE,
        lambda: plugin_env.probe("aws-bedrock"),
        rate_limited(120, json={"__type": "ThrottlingException", "Message": "Rate exceeded"}),
        answer("failed", "HTML", body="<html>proxy</html>"),
        answer("failed", "missing ResultsByTime", json={"GroupDefinitions": []}),
        answer(
            "failed",
            "enable Cost Explorer",
            status=400,
            json={"__type": "DataUnavailableException"},
        ),
        secrets=(SECRET,),
    )


BEDROCK = ("ResultsByTime", 0, "Groups", 0)
DENIED = "The IAM principal lacks ce:GetCostAndUsage (AccessDeniedException)."


@pytest.mark.parametrize(
    ("name", "path", "outcome"),
    [
        ("cost-and-usage.json", ("ResultsByTime", 0, "TimePeriod", "Start"), ("$4.75", "150.5K")),
        ("cost-and-usage.json", (*BEDROCK, "Keys", 0), ("$3.50", "150.5K")),
        (
            "cost-and-usage.json",
            (*BEDROCK, "Metrics", "UnblendedCost", "Amount"),
            ("$3.50", "150.5K"),
        ),
        (
            "cost-and-usage.json",
            (*BEDROCK, "Metrics", "UnblendedCost", "Unit"),
            ("$4.75", "150.5K"),
        ),
        ("cost-and-usage.json", ("NextPageToken",), ("$4.75", "150.5K")),
        ("metric-data.json", ("MetricDataResults", 0, "Id"), ("$4.75", "0")),
        ("metric-data.json", ("MetricDataResults", 0, "Values", 0), ("$4.75", "30.5K")),
        ("metric-data.json", ("NextToken",), ("$4.75", "150.5K")),
        ("access-denied.json", ("__type",), "AWS Cost Explorer answered HTTP 400."),
        ("access-denied.json", ("Message",), DENIED),
    ],
    ids=[
        "day",
        "service",
        "amount",
        "unit",
        "page-token",
        "metric-id",
        "value",
        "next-token",
        "error-type",
        "error-message",
    ],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, name, path, outcome):
    """Regression: String()/Number() of such an array overflowed the engine's stack."""
    plugin_env.setenv("AWS_ACCESS_KEY_ID", AKID)
    plugin_env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    if name == "access-denied.json":
        plugin_env.web.add("POST", CE, status=400, body=deeply_nested(fixture(name), *path))
        run = plugin_env.probe("aws-bedrock")
        assert run.error == outcome and "call stack" not in run.error
        return
    for each, url, data in (
        ("cost-and-usage.json", CE, cost_body()),
        ("metric-data.json", CW_EAST, fixture("metric-data.json")),
    ):
        body = deeply_nested(data, *path) if each == name else json.dumps(data)
        plugin_env.web.add("POST", url, body=body)
    run = ready(plugin_env.probe("aws-bedrock"))
    assert run.metric("Spend (month)")["value"] == outcome[0]
    assert run.metric("Input tokens (month)")["value"] == outcome[1]


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("aws-bedrock"), "missing-auth", "AWS_ACCESS_KEY_ID")
    expect(plugin_env.probe("aws-bedrock", source="cli"), "missing-auth", "AWS CLI")
    assert plugin_env.web.requests == []


def test_never_enabled_by_detection_because_every_probe_costs_money(plugin_env):
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import detect_matches

    plugin_env.file(".aws/credentials", "[default]\naws_access_key_id = AKIAEXAMPLE\n")
    plugin = discover([], [], include_cwd=False).get("aws-bedrock")
    assert plugin is not None and not plugin.manifest.enabled_by_default
    assert not detect_matches(plugin, env={"AWS_PROFILE": "work", "AWS_ACCESS_KEY_ID": "AKIA1"})
