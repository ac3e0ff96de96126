"""vertex-ai through the real host against the fake internet.

The service-account JWT is checked twice: the host's ``crypto.rsaSha256Sign``
reproduces the published RS256 example of RFC 7515 Appendix A.2 exactly (its
RSA key, signing input and signature), and the assertion the plugin sends is
verified against the same public key.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

from tests.tmpplugins import make_plugin
from usagestat.core.rsa import verify_pkcs1v15_sha256

fixture = fixtures("vertex-ai")
TOKEN_URL = "https://oauth2.googleapis.com/token"
PROJECT = "my-project"
SERIES = f"https://monitoring.googleapis.com/v3/projects/{PROJECT}/timeSeries"
QUOTA = ' AND resource.type="consumer_quota" AND resource.label.service="aiplatform.googleapis.com"'
ALLOCATION = 'metric.type="serviceruntime.googleapis.com/quota/allocation/usage"' + QUOTA
RATE = 'metric.type="serviceruntime.googleapis.com/quota/rate/net_usage"' + QUOTA
LIMIT = 'metric.type="serviceruntime.googleapis.com/quota/limit"' + QUOTA
ACCESS = "ya29.a0Example-access-token"
USER = fixture("authorized-user.json")

# RFC 7515 (JSON Web Signature), Appendix A.2: the RS256 example's RSA key
# (base64url n, e, d, p, q), JWS Signing Input, and the resulting signature.
RFC_N = (
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4"
    "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbB"
    "YUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DW"
    "NmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
)
RFC_E = "AQAB"
RFC_D = (
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoA"
    "Je46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpR"
    "LI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZF"
    "D9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
)
RFC_P = (
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJd"
    "TJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
)
RFC_Q = (
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_"
    "YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
)
RFC_INPUT = (
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ"
)
RFC_SIGNATURE = (
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6"
    "LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
)


def b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def b64url_json(text: str):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def rfc_key_pem() -> str:
    """The RFC key as a PKCS#1 PEM (the CRT values derived from d, p, q)."""
    n, e, d, p, q = (b64url_int(v) for v in (RFC_N, RFC_E, RFC_D, RFC_P, RFC_Q))
    assert p * q == n

    def length(size: int) -> bytes:
        if size < 0x80:
            return bytes([size])
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(raw)]) + raw

    def integer(value: int) -> bytes:
        raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return b"\x02" + length(len(raw)) + raw

    fields = [0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    body = b"".join(integer(v) for v in fields)
    der = b"\x30" + length(len(body)) + body
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (
        "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----\n"
    )


PEM = rfc_key_pem()
SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": PROJECT,
    "private_key_id": "kid-0123456789abcdef",
    "private_key": PEM,
    "client_email": "usage-reader@my-project.iam.gserviceaccount.com",
    "client_id": "1234567890",
    "token_uri": TOKEN_URL,
}


def add_monitoring(web):
    web.add(
        "GET", SERIES, json=fixture("allocation-usage-series.json"), query={"filter": ALLOCATION}
    )
    web.add("GET", SERIES, json=fixture("rate-usage-series.json"), query={"filter": RATE})
    web.add("GET", SERIES, json=fixture("limit-series.json"), query={"filter": LIMIT})
    web.add(
        "GET",
        SERIES,
        json=fixture("limit-series-page2.json"),
        query={"filter": LIMIT, "pageToken": "page-2-token"},
    )


EXPECTED = [
    {
        "type": "progress",
        "label": "Peak quota (24h)",
        "used": 75.0,
        "limit": 100.0,
        "format": {"kind": "percent"},
    },
    {
        "type": "text",
        "label": "Busiest quota",
        "value": "generate_content_requests_per_minute_per_project_per_base_model · us-central1: "
        "45 / 60 (75.0%)",
    },
    {
        "type": "text",
        "label": "Quota 2",
        "value": "online_prediction_requests_per_base_model · europe-west4: 30 / 600 (5.0%)",
        "detail": True,
    },
    {"type": "text", "label": "Project", "value": PROJECT, "detail": True},
]


def test_host_signs_the_rfc7515_a2_example_exactly(plugin_env, tmp_path):
    signed = f"ctx.host.crypto.rsaSha256Sign({json.dumps(PEM)}, {json.dumps(RFC_INPUT)})"
    body = f"return {{metrics: [ctx.line.text({{label: 'Signature', value: {signed}}})]}};"
    make_plugin(tmp_path / "plugins", "rs256-vector", body)
    run = plugin_env.probe("rs256-vector", plugin_dirs=[str(tmp_path / "plugins")])
    assert run.state == "ready", run.error
    assert run.metric("Signature")["value"] == RFC_SIGNATURE


def test_service_account_jwt_exchange_and_cached_token(plugin_env):
    key_file = plugin_env.file("keys/sa.json", json.dumps(SERVICE_ACCOUNT, indent=2))
    before = key_file.read_bytes()
    plugin_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    add_monitoring(plugin_env.web)
    started = int(time.time())
    run = ready(plugin_env.probe("vertex-ai"), source="oauth")
    assert run.metrics == [
        *EXPECTED,
        {"type": "text", "label": "Signed in as", "value": "Service account", "detail": True},
    ]
    (token,) = plugin_env.requests_to(TOKEN_URL)
    form = dict(pair.split("=", 1) for pair in token.text().split("&"))
    assert form["grant_type"] == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    header, claims, signature = form["assertion"].split(".")
    assert b64url_json(header) == {"alg": "RS256", "typ": "JWT", "kid": "kid-0123456789abcdef"}
    payload = b64url_json(claims)
    assert payload["iss"] == SERVICE_ACCOUNT["client_email"]
    assert payload["scope"] == "https://www.googleapis.com/auth/monitoring.read"
    assert payload["aud"] == TOKEN_URL and payload["exp"] - payload["iat"] == 3600
    assert started - 5 <= payload["iat"] <= time.time() + 5
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    assert verify_pkcs1v15_sha256(
        b64url_int(RFC_N), 65537, f"{header}.{claims}".encode(), raw_signature
    )
    series = plugin_env.requests_to(SERIES)
    assert len(series) == 4
    assert {r.query["filter"] for r in series} == {ALLOCATION, RATE, LIMIT}
    for req in series:
        assert req.headers["authorization"] == f"Bearer {ACCESS}"
        assert req.query["aggregation.alignmentPeriod"] == "3600s"
        assert req.query["aggregation.perSeriesAligner"] == "ALIGN_MAX"
        assert "x-goog-user-project" not in req.headers
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, form["assertion"], PEM.splitlines()[2])
    # The token is cached in pluginDataDir: the next probe signs nothing.
    run = plugin_env.probe("vertex-ai")
    assert run.state == "ready", run.error
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1
    assert key_file.read_bytes() == before


def test_gcloud_user_credentials_cache_and_one_retry_after_401(plugin_env):
    adc = plugin_env.file(".config/gcloud/application_default_credentials.json", USER)
    before = adc.read_bytes()
    plugin_env.file(
        ".config/gcloud/configurations/config_default", f"[core]\nproject = {PROJECT}\n"
    )
    plugin_env.web.add(
        "POST", TOKEN_URL, json=dict(fixture("token.json"), access_token="ya29.second")
    )
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"), times=1)
    add_monitoring(plugin_env.web)
    run = plugin_env.probe("vertex-ai")
    assert run.state == "ready", run.error
    assert run.metrics[:4] == EXPECTED
    assert run.metric("Signed in as")["value"] == "gcloud user"
    (first,) = plugin_env.requests_to(TOKEN_URL)
    form = dict(pair.split("=", 1) for pair in first.text().split("&"))
    assert form["grant_type"] == "refresh_token" and form["client_id"] == USER["client_id"]
    assert form["refresh_token"] == "1%2F%2F0gexample-refresh-token"
    series = plugin_env.requests_to(SERIES)
    assert all(r.headers["authorization"] == f"Bearer {ACCESS}" for r in series)
    assert all(r.headers["x-goog-user-project"] == PROJECT for r in series)
    # The cached token is used until Google rejects it, then refreshed once.
    plugin_env.web.add(
        "GET", SERIES, status=401, json={"error": {"status": "UNAUTHENTICATED"}}, times=1
    )
    run = plugin_env.probe("vertex-ai")
    assert run.state == "ready", run.error
    assert len(plugin_env.requests_to(TOKEN_URL)) == 2
    series = plugin_env.requests_to(SERIES)[4:]
    assert series[0].headers["authorization"] == f"Bearer {ACCESS}"
    assert all(r.headers["authorization"] == "Bearer ya29.second" for r in series[1:])
    assert adc.read_bytes() == before
    plugin_env.assert_no_secrets(
        run, ACCESS, "ya29.second", USER["refresh_token"], USER["client_secret"]
    )
    # Config workspaceId wins over gcloud's project; no new token is needed.
    other = "https://monitoring.googleapis.com/v3/projects/other-proj/timeSeries"
    plugin_env.web.add("GET", other, json={})
    run = plugin_env.probe("vertex-ai", workspace_id="other-proj")
    assert run.state == "ready", run.error
    assert run.metrics[0] == {
        "type": "text",
        "label": "Quota usage",
        "value": "No Vertex AI quota data for this project",
        "color": "grey",
    }
    assert len(plugin_env.requests_to(TOKEN_URL)) == 2
    assert plugin_env.requests_to(other)[0].headers["x-goog-user-project"] == "other-proj"


def test_errors(plugin_env):
    web = plugin_env.web
    adc = ".config/gcloud/application_default_credentials.json"
    plugin_env.file(adc, USER)
    plugin_env.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_grant"}, times=1)
    run = plugin_env.probe("vertex-ai")
    assert run.state == "credential-denied" and "invalid_grant" in run.error
    assert "application-default login" in run.error
    web.add("POST", TOKEN_URL, json=fixture("token.json"))
    check_answers(
        plugin_env,
        "GET",
        SERIES,
        lambda: plugin_env.probe("vertex-ai"),
        answer(
            "credential-denied",
            "roles/monitoring.viewer",
            status=403,
            json={"error": {"status": "PERMISSION_DENIED"}},
        ),
        rate_limited(30),
        answer("failed", "HTML", body="<html>error</html>"),
        answer("failed", "timeSeries is not a list", json={"timeSeries": {"bad": 1}}),
    )
    plugin_env.monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    plugin_env.file(adc, dict(USER, quota_project_id=None))
    expect(plugin_env.probe("vertex-ai"), "missing-auth", "GOOGLE_CLOUD_PROJECT")
    plugin_env.file(adc, {"type": "external_account", "project_id": PROJECT})
    expect(plugin_env.probe("vertex-ai"), "unsupported", "external_account")
    plugin_env.path(adc).unlink()
    expect(
        plugin_env.probe("vertex-ai", source="oauth"),
        "missing-auth",
        "gcloud auth application-default login",
    )
    assert web.unmatched == []
    plugin_env.assert_no_secrets(run, USER["refresh_token"])


def test_local_mode_sums_claude_code_on_vertex(plugin_env):
    today = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())

    def line(model: str, msg_id: str, inp: int, out: int) -> str:
        return json.dumps(
            {
                "type": "assistant",
                "timestamp": today,
                "requestId": "req_" + msg_id,
                "message": {
                    "id": msg_id,
                    "model": model,
                    "role": "assistant",
                    "content": [],
                    "usage": {"input_tokens": inp, "output_tokens": out},
                },
            }
        )

    log = "\n".join(
        [
            line("claude-sonnet-4-5@20250929", "m1", 150_000, 10_000),
            line("claude-sonnet-4-5-20250929", "m2", 5_000_000, 0),  # Anthropic API, not Vertex
        ]
    )
    plugin_env.file(".claude/projects/demo/session.jsonl", log + "\n")
    run = ready(plugin_env.probe("vertex-ai", source="local"), source="local")
    assert run.metrics == [
        {"type": "text", "label": "Today", "value": "$0.60 · 160K tokens"},
        {
            "type": "text",
            "label": "This month",
            "value": "$0.60 · 160K tokens",
            "subtitle": "Claude Code through Vertex AI, list prices",
        },
    ]
    assert plugin_env.web.requests == []


@pytest.mark.parametrize(
    ("name", "path", "peak", "quotas"),
    [
        ("rate-usage-series.json", ("metric", "labels", "quota_metric"), 5.0, 1),
        ("rate-usage-series.json", ("resource", "labels", "location"), 22.5, 2),
        ("limit-series.json", ("metric", "labels", "quota_metric"), 22.5, 2),
        ("limit-series.json", ("resource", "labels", "location"), 75.0, 2),
        ("limit-series.json", None, 75.0, 1),
    ],
    ids=["usage-metric", "usage-location", "limit-metric", "limit-location", "page-token"],
)
def test_a_label_nested_thousands_deep_is_ignored(plugin_env, name, path, peak, quotas):
    """Regression: "+" or String() of such an array overflowed the engine's stack."""
    key_file = plugin_env.file("keys/sa.json", json.dumps(SERVICE_ACCOUNT))
    plugin_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    add_monitoring(plugin_env.web)
    data = fixture(name)
    body = deeply_nested(data, *(("nextPageToken",) if path is None else ("timeSeries", 0, *path)))
    filters = {"rate-usage-series.json": RATE, "limit-series.json": LIMIT}
    plugin_env.web.add("GET", SERIES, body=body, query={"filter": filters[name]})
    page2 = {"filter": LIMIT, "pageToken": "page-2-token"}  # the later route wins
    plugin_env.web.add("GET", SERIES, json=fixture("limit-series-page2.json"), query=page2)
    run = ready(plugin_env.probe("vertex-ai"))
    assert run.metric("Peak quota (24h)")["used"] == peak
    shown = [
        m for m in run.metrics if m["label"] == "Busiest quota" or m["label"].startswith("Quota ")
    ]
    assert len(shown) == quotas
