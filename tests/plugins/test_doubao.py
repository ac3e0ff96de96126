"""doubao through the real host against the fake internet.

AK/SK requests are re-verified with an independent implementation of the
Volcengine signature (hashlib/hmac), so only correctly signed calls are answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("doubao")


OPENAPI = "https://open.volcengineapi.com/"
PROBE = "https://ark.cn-beijing.volces.com/api/coding/v3/chat/completions"
AK = "AKLTtestaccesskey0001"
SK = "VGVzdFNlY3JldEtleTAwMDE="
ARK_KEY = "ark-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def verify_volc(req, secret: str, region: str = "cn-beijing") -> str:
    auth = req.headers["authorization"]
    assert auth.startswith("HMAC-SHA256 Credential=")
    fields = dict(part.split("=", 1) for part in auth[len("HMAC-SHA256 ") :].split(", "))
    ak, date, reg, service, term = fields["Credential"].split("/")
    assert (reg, service, term) == (region, "ark", "request")
    x_date = req.headers["x-date"]
    assert x_date[:8] == date
    payload_hash = hashlib.sha256(req.body).hexdigest()
    assert req.headers["x-content-sha256"] == payload_hash
    signed = fields["SignedHeaders"].split(";")
    assert {"host", "x-date", "x-content-sha256", "content-type"} <= set(signed)
    headers = "".join(f"{n}:{' '.join(req.headers[n].split())}\n" for n in signed)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(req.query.items())
    )
    creq = "\n".join([req.method, req.path, query, headers, fields["SignedHeaders"], payload_hash])
    sts = "\n".join(
        [
            "HMAC-SHA256",
            x_date,
            f"{date}/{region}/ark/request",
            hashlib.sha256(creq.encode()).hexdigest(),
        ]
    )
    key = secret.encode()
    for part in (date, region, "ark", "request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert fields["Signature"] == hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return ak


def test_arkcli_plan_windows(plugin_env):
    args = plugin_env.tmp / "arkcli-args.txt"
    payload = json.dumps(fixture("arkcli-usage.json")).replace("'", "")
    plugin_env.fake_command("arkcli", f"echo \"$@\" > {args}\ncat <<'JSON'\n{payload}\nJSON")
    run = ready(plugin_env.probe("doubao"), source="cli", plan="Coding Plan Pro")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "5-hour",
            "used": 12.5,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T05:00:00Z",
            "periodDurationMs": 18_000_000,
        },
        {
            "type": "progress",
            "label": "Weekly",
            "used": 40.25,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 604_800_000,
        },
        {
            "type": "progress",
            "label": "Monthly",
            "used": 16.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-31T16:00:00Z",
            "periodDurationMs": 31 * 86_400_000,
        },
        {
            "type": "progress",
            "label": "Team 5-hour",
            "used": 3.0,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T03:00:00Z",
            "periodDurationMs": 18_000_000,
            "detail": True,
        },
    ]
    assert args.read_text().split() == ["usage", "plan", "--format", "json"]
    assert plugin_env.web.requests == []


def test_arkcli_not_logged_in(plugin_env):
    plugin_env.fake_command(
        "arkcli", "echo 'Error: not logged in, run arkcli auth login' >&2; exit 1"
    )
    expect(plugin_env.probe("doubao", source="cli"), "missing-auth", "arkcli auth login")
    plugin_env.fake_command("arkcli", 'echo \'{"viewer": {"auth_method": "none"}, "items": []}\'')
    run = plugin_env.probe("doubao", source="cli")
    assert run.state == "missing-auth"
    plugin_env.fake_command("arkcli", "echo 'Usage: arkcli <command>'")
    expect(plugin_env.probe("doubao", source="cli"), "failed", "not JSON")


def test_aksk_coding_plan(plugin_env):
    plugin_env.web.add("POST", OPENAPI, json=fixture("coding-plan-usage.json"))
    run = ready(
        plugin_env.probe("doubao", settings={"accessKeyId": AK, "secretAccessKey": SK}),
        source="api",
        plan="Coding Plan",
    )
    five, weekly, monthly = run.metrics
    assert (five["label"], five["used"], five["resetsAt"]) == (
        "5-hour",
        2.4590175,
        "2030-01-01T05:00:00Z",
    )
    assert (weekly["label"], weekly["used"]) == ("Weekly", 1.4308822)
    assert monthly["resetsAt"] == "2030-01-31T23:59:59Z"
    assert monthly["periodDurationMs"] == 31 * 86_400_000
    (req,) = plugin_env.requests_to(OPENAPI)
    assert req.method == "POST" and req.query == {
        "Action": "GetCodingPlanUsage",
        "Version": "2024-01-01",
    }
    assert req.body == b"{}" and req.headers["content-type"] == "application/json"
    assert verify_volc(req, SK) == AK
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, SK)


def test_aksk_from_env_falls_back_to_agent_plan_in_another_region(plugin_env):
    plugin_env.setenv("VOLCENGINE_ACCESS_KEY", AK)
    plugin_env.setenv("VOLCENGINE_SECRET_KEY", SK)
    empty = {"ResponseMetadata": {"Action": "GetCodingPlanUsage"}, "Result": {"QuotaUsage": []}}
    plugin_env.web.add("POST", OPENAPI, json=empty, query={"Action": "GetCodingPlanUsage"})
    plugin_env.web.add(
        "POST", OPENAPI, json=fixture("afp-usage.json"), query={"Action": "GetAFPUsage"}
    )
    run = ready(plugin_env.probe("doubao", source="api", region="cn-shanghai"), plan="Agent Plan")
    assert [(m["label"], m["used"]) for m in run.metrics] == [
        ("Agent 5-hour", 25.0),
        ("Agent Weekly", 12.5),
        ("Agent Monthly", 10.0),
        ("Agent Daily", 15.0),
    ]
    assert run.metrics[3]["detail"] is True
    for req in plugin_env.requests_to(OPENAPI):
        verify_volc(req, SK, region="cn-shanghai")


def test_aksk_rejected(plugin_env):
    plugin_env.web.add("POST", OPENAPI, status=401, json=fixture("signature-error.json"))
    run = expect(
        plugin_env.probe("doubao", api_key=f"{AK}|{SK}"),
        "credential-denied",
        "SignatureDoesNotMatch",
    )
    assert verify_volc(plugin_env.requests_to(OPENAPI)[0], SK) == AK
    plugin_env.assert_no_secrets(run, SK)


FIRST = ("Result", "QuotaUsage", 0)
AGENT = ["Agent 5-hour", "Agent Weekly", "Agent Monthly", "Agent Daily"]


@pytest.mark.parametrize(
    ("name", "path", "outcome"),
    [
        ("coding-plan-usage.json", ("Result", "Status"), ["5-hour", "Weekly", "Monthly"]),
        ("coding-plan-usage.json", (*FIRST, "Level"), ["Weekly", "Monthly"]),
        ("coding-plan-usage.json", (*FIRST, "Percent"), ["Weekly", "Monthly"]),
        ("afp-usage.json", ("Result", "AFPFiveHour", "Quota"), AGENT[1:]),
        ("afp-usage.json", ("Result", "AFPFiveHour", "Used"), AGENT),
        ("signature-error.json", ("ResponseMetadata", "Error", "Code"), "(HTTP 401)"),
        ("signature-error.json", ("ResponseMetadata", "Error", "Message"), "SignatureDoesNotMatch"),
    ],
    ids=["status", "level", "percent", "agent-quota", "agent-used", "error-code", "error-message"],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, name, path, outcome):
    """Regression: String()/Number() of such an array overflowed the engine's stack."""
    body = deeply_nested(fixture(name), *path)
    if name == "afp-usage.json":
        empty = {"ResponseMetadata": {}, "Result": {"QuotaUsage": []}}
        plugin_env.web.add("POST", OPENAPI, json=empty, query={"Action": "GetCodingPlanUsage"})
        plugin_env.web.add("POST", OPENAPI, body=body, query={"Action": "GetAFPUsage"})
    else:
        plugin_env.web.add("POST", OPENAPI, status=401 if "error" in name else 200, body=body)
    run = plugin_env.probe("doubao", settings={"accessKeyId": AK, "secretAccessKey": SK})
    if isinstance(outcome, str):
        expect(run, "credential-denied", "Volcengine rejected the AK/SK", outcome)
    else:
        assert [m["label"] for m in ready(run).metrics] == outcome


def test_aksk_throttled_and_malformed(plugin_env):
    plugin_env.web.add(
        "POST",
        OPENAPI,
        status=429,
        headers={"Retry-After": "30"},
        json={"ResponseMetadata": {"Error": {"Code": "FlowLimitExceeded", "Message": "slow down"}}},
        times=1,
    )
    creds = {"accessKeyId": AK, "secretAccessKey": SK}
    run = plugin_env.probe("doubao", settings=creds)
    assert run.state == "rate-limited" and run.retry_after_sec == 30
    plugin_env.web.add("POST", OPENAPI, body="<html>502</html>", status=502, times=1)
    expect(plugin_env.probe("doubao", settings=creds), "failed", "HTTP 502")
    plugin_env.web.add("POST", OPENAPI, json={"ResponseMetadata": {}})
    expect(plugin_env.probe("doubao", settings=creds), "failed", "missing Result")


def test_ark_key_probe_reads_rate_limit_headers(plugin_env):
    plugin_env.setenv("ARK_API_KEY", ARK_KEY)
    plugin_env.web.add(
        "POST",
        PROBE,
        json=fixture("chat-completion.json"),
        headers={
            "x-ratelimit-limit-requests": "1200",
            "x-ratelimit-remaining-requests": "1150",
            "x-ratelimit-reset-requests": "1893474000",
        },
    )
    plugin_env.web.add("POST", PROBE, status=404, json={"error": {"code": "ModelNotOpen"}}, times=1)
    run = plugin_env.probe("doubao", source="api")
    assert run.state == "ready", run.error
    assert run.metric("Requests") == {
        "type": "progress",
        "label": "Requests",
        "used": 50.0,
        "limit": 1200.0,
        "format": {"kind": "count", "suffix": "requests"},
        "resetsAt": "2030-01-01T05:00:00Z",
    }
    first, second = plugin_env.requests_to(PROBE)
    assert first.json()["model"] == "doubao-seed-2.0-code"
    assert second.json() == {
        "model": "doubao-1.5-pro-32k",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert second.headers["authorization"] == f"Bearer {ARK_KEY}"
    plugin_env.assert_no_secrets(run, ARK_KEY)


def test_ark_key_without_reliable_headers(plugin_env):
    plugin_env.web.add(
        "POST",
        PROBE,
        json=fixture("chat-completion.json"),
        headers={"x-ratelimit-limit-requests": "1200", "x-ratelimit-remaining-requests": "0"},
    )
    run = plugin_env.probe("doubao", source="api", api_key=ARK_KEY)
    assert run.state == "ready", run.error
    assert run.metric("Status")["text"] == "Active — no usage data"
    assert not run.has_metric("Requests")


def test_ark_key_errors(plugin_env):
    check_answers(
        plugin_env,
        "POST",
        PROBE,
        lambda: plugin_env.probe("doubao", source="api", api_key=ARK_KEY),
        answer(
            "credential-denied",
            "Invalid Ark API key",
            status=401,
            json={"error": {"code": "AuthenticationError"}},
        ),
        rate_limited(20),
        secrets=(ARK_KEY,),
    )


def test_auto_without_arkcli_uses_the_ark_key(plugin_env):
    plugin_env.setenv("PATH", str(plugin_env.tmp / "bin"))
    plugin_env.setenv("DOUBAO_API_KEY", ARK_KEY)
    plugin_env.web.add("POST", PROBE, json=fixture("chat-completion.json"))
    ready(plugin_env.probe("doubao"), source="api")


def test_missing_everything(plugin_env):
    plugin_env.setenv("PATH", str(plugin_env.tmp / "bin"))
    expect(plugin_env.probe("doubao"), "missing-auth", "arkcli auth login")
    expect(plugin_env.probe("doubao", source="api"), "missing-auth", "ARK_API_KEY")
    assert plugin_env.web.requests == []
