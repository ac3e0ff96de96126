"""azure-openai through the real host against the fake internet."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, only_request

fixture = fixtures("azure-openai")


ENDPOINT = "https://acme-eastus.openai.azure.com"
CHAT = f"{ENDPOINT}/openai/deployments/gpt4o-prod/chat/completions"
V1_ENDPOINT = "https://acme-foundry.cognitiveservices.azure.com"
V1_CHAT = f"{V1_ENDPOINT}/openai/v1/chat/completions"
KEY = "azure-openai-key-0123456789abcdef"
SUB = "11111111-2222-3333-4444-555555555555"
RID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/"
    "Microsoft.CognitiveServices/accounts/acme-eastus"
)
METRICS = f"https://management.azure.com{RID}/providers/Microsoft.Insights/metrics"
USAGES = (
    f"https://management.azure.com/subscriptions/{SUB}/providers/"
    "Microsoft.CognitiveServices/locations/eastus/usages"
)
TOKEN_URL = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
ARM_TOKEN = "arm-access-token-abcdef123456"
SP_SECRET = "sp-client-secret-987654321"

RATE_HEADERS = {
    "x-ratelimit-remaining-requests": "59",
    "x-ratelimit-remaining-tokens": "79990",
    "x-ratelimit-limit-tokens": "80000",
}


def test_api_key_checks_the_deployment(plugin_env):
    plugin_env.web.add("POST", CHAT, json=fixture("chat-completion.json"), headers=RATE_HEADERS)
    run = plugin_env.probe(
        "azure-openai", api_key=KEY, base_url=ENDPOINT + "/", workspace_id="gpt4o-prod"
    )
    assert run.state == "ready", run.error
    assert run.json["source"] == "api"
    assert run.metrics[:2] == [
        {"type": "badge", "label": "Deployment", "text": "gpt4o-prod reachable", "color": "green"},
        {"type": "text", "label": "Model", "value": "gpt-4o-2024-11-20"},
    ]
    assert run.metric("Requests remaining")["value"] == "59 in the current rate window"
    tokens = run.metric("Tokens (rate window)")
    assert (tokens["used"], tokens["limit"], tokens["detail"]) == (10.0, 80000.0, True)
    assert tokens["format"] == {"kind": "count", "suffix": "tokens"}
    assert "oauth mode" in run.metric("Usage")["value"]
    (req,) = plugin_env.requests_to(CHAT)
    assert req.query == {"api-version": "2024-10-21"}
    assert req.headers["api-key"] == KEY and "authorization" not in req.headers
    assert req.json() == {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_v1_api_from_env_on_a_foundry_endpoint(plugin_env):
    plugin_env.setenv("AZURE_OPENAI_API_KEY", KEY)
    plugin_env.setenv("AZURE_OPENAI_ENDPOINT", V1_ENDPOINT + "/openai/v1")
    plugin_env.setenv("AZURE_OPENAI_DEPLOYMENT", "o4-mini")
    plugin_env.setenv("AZURE_OPENAI_API_VERSION", "v1")
    plugin_env.web.add("POST", V1_CHAT, json=fixture("chat-completion.json"))
    run = plugin_env.probe("azure-openai")
    assert run.state == "ready", run.error
    assert run.metric("Deployment")["text"] == "o4-mini reachable"
    (req,) = plugin_env.requests_to(V1_CHAT)
    assert req.json() == {
        "messages": [{"role": "user", "content": "ping"}],
        "model": "o4-mini",
        "max_completion_tokens": 16,
    }


def test_reasoning_deployment_retries_with_max_completion_tokens(plugin_env):
    plugin_env.web.add("POST", CHAT, json=fixture("chat-completion.json"))
    plugin_env.web.add(
        "POST",
        CHAT,
        status=400,
        json={"error": {"code": "unsupported_parameter", "message": "Use max_completion_tokens"}},
        times=1,
    )
    run = plugin_env.probe(
        "azure-openai", api_key=KEY, base_url=ENDPOINT, workspace_id="gpt4o-prod"
    )
    assert run.state == "ready", run.error
    first, second = plugin_env.requests_to(CHAT)
    assert "max_tokens" in first.json() and second.json()["max_completion_tokens"] == 16


def test_api_errors(plugin_env):
    opts = {"api_key": KEY, "base_url": ENDPOINT, "workspace_id": "gpt4o-prod"}
    check_answers(
        plugin_env,
        "POST",
        CHAT,
        lambda: plugin_env.probe("azure-openai", **opts),
        answer(
            "credential-denied",
            "invalid for this endpoint",
            status=401,
            json={"error": {"code": "401"}},
        ),
        answer(
            "failed",
            'Deployment "gpt4o-prod" not found',
            status=404,
            json={"error": {"code": "DeploymentNotFound"}},
        ),
        answer(
            "rate-limited", retry_after=8, status=429, headers={"retry-after-ms": "7500"}, json={}
        ),
    )
    plugin_env.web.add("POST", CHAT, body="<html>Service Unavailable</html>")
    run = plugin_env.probe("azure-openai", **opts)
    assert run.state == "failed" and "HTML" in run.error
    plugin_env.assert_no_secrets(run, KEY)


def test_api_missing_pieces(plugin_env):
    expect(plugin_env.probe("azure-openai", source="api"), "missing-auth", "AZURE_OPENAI_API_KEY")
    expect(plugin_env.probe("azure-openai", api_key=KEY), "missing-auth", "AZURE_OPENAI_ENDPOINT")
    expect(
        plugin_env.probe("azure-openai", api_key=KEY, base_url=ENDPOINT),
        "missing-auth",
        "AZURE_OPENAI_DEPLOYMENT_NAME",
    )
    run = plugin_env.probe("azure-openai")
    assert run.state == "missing-auth"
    assert plugin_env.web.requests == []


def test_endpoint_on_an_undeclared_host_from_env(plugin_env):
    plugin_env.setenv("AZURE_OPENAI_ENDPOINT", "https://gw.example.net")
    run = plugin_env.probe("azure-openai", api_key=KEY, workspace_id="gpt4o-prod")
    expect(run, "failed", "Azure OpenAI: permission denied", "gw.example.net", "`baseUrl`")
    assert plugin_env.web.requests == []
    plugin_env.assert_no_secrets(run, KEY)
    # The same endpoint as config baseUrl is allowed.
    plugin_env.web.add(
        "POST",
        "https://gw.example.net/openai/deployments/gpt4o-prod/chat/completions",
        json=fixture("chat-completion.json"),
    )
    run = plugin_env.probe(
        "azure-openai", api_key=KEY, base_url="https://gw.example.net", workspace_id="gpt4o-prod"
    )
    assert run.state == "ready", run.error


def test_oauth_service_principal_metrics_and_quota(plugin_env):
    plugin_env.setenv("AZURE_TENANT_ID", "tenant-1")
    plugin_env.setenv("AZURE_CLIENT_ID", "client-1")
    plugin_env.setenv("AZURE_CLIENT_SECRET", SP_SECRET)
    plugin_env.web.add(
        "POST",
        TOKEN_URL,
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": ARM_TOKEN},
    )
    plugin_env.web.add("GET", METRICS, json=fixture("metrics.json"))
    plugin_env.web.add("GET", USAGES, json=fixture("usages.json"))
    run = plugin_env.probe(
        "azure-openai", source="oauth", region="East US", settings={"resourceId": RID}
    )
    assert run.state == "ready", run.error
    assert run.json["source"] == "oauth"
    assert run.metrics == [
        {"type": "text", "label": "Prompt tokens (month)", "value": "1.5M"},
        {"type": "text", "label": "Completion tokens (month)", "value": "250K"},
        {"type": "text", "label": "Requests (month)", "value": "1034"},
        {
            "type": "progress",
            "label": "Quota gpt-4o",
            "used": 150.0,
            "limit": 450.0,
            "format": {"kind": "count", "suffix": "K TPM"},
        },
        {
            "type": "progress",
            "label": "Quota gpt-4o-mini (GlobalStandard)",
            "used": 30.0,
            "limit": 2000.0,
            "format": {"kind": "count", "suffix": "K TPM"},
        },
    ]
    (tok,) = plugin_env.requests_to(TOKEN_URL)
    form = {k: v[0] for k, v in parse_qs(tok.text()).items()}
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "client-1",
        "client_secret": SP_SECRET,
        "scope": "https://management.azure.com/.default",
    }
    met = only_request(plugin_env, METRICS, authorization=f"Bearer {ARM_TOKEN}")
    assert met.query["metricnames"] == "ProcessedPromptTokens,GeneratedTokens,AzureOpenAIRequests"
    assert met.query["aggregation"] == "Total" and met.query["interval"] == "P1D"
    start = datetime.now(timezone.utc).strftime("%Y-%m-01T00:00:00Z")
    assert met.query["timespan"].startswith(start + "/")
    assert plugin_env.requests_to(USAGES)[0].query == {"api-version": "2023-05-01"}
    plugin_env.assert_no_secrets(run, SP_SECRET, ARM_TOKEN)


def test_oauth_with_az_cli(plugin_env):
    az = {"accessToken": ARM_TOKEN, "expiresOn": "2030-01-01 00:00:00.000000", "subscription": SUB}
    plugin_env.fake_command("az", f"echo '{json.dumps(az)}'")
    plugin_env.web.add("GET", USAGES, json=fixture("usages.json"))
    run = plugin_env.probe("azure-openai", source="oauth", region="eastus")
    assert run.state == "ready", run.error
    assert [m["label"] for m in run.metrics] == [
        "Quota gpt-4o",
        "Quota gpt-4o-mini (GlobalStandard)",
    ]
    assert plugin_env.requests_to(TOKEN_URL) == []
    plugin_env.assert_no_secrets(run, ARM_TOKEN)


def test_oauth_denied(plugin_env):
    plugin_env.setenv("AZURE_TENANT_ID", "tenant-1")
    plugin_env.setenv("AZURE_CLIENT_ID", "client-1")
    plugin_env.setenv("AZURE_CLIENT_SECRET", SP_SECRET)
    plugin_env.web.add("POST", TOKEN_URL, status=401, json={"error": "invalid_client"}, times=1)
    expect(
        plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID}),
        "credential-denied",
        "invalid_client",
    )
    plugin_env.web.add("POST", TOKEN_URL, json={"access_token": ARM_TOKEN})
    plugin_env.web.add("GET", METRICS, status=403, json={"error": {"code": "AuthorizationFailed"}})
    expect(
        plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID}),
        "credential-denied",
        "Monitoring Reader",
    )
    plugin_env.web.add("GET", METRICS, status=429, headers={"Retry-After": "60"}, json={})
    run = plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID})
    assert run.state == "rate-limited" and run.retry_after_sec == 60
    plugin_env.assert_no_secrets(run, SP_SECRET, ARM_TOKEN)


def test_oauth_malformed_and_missing(plugin_env):
    plugin_env.fake_command("az", "echo 'ERROR: Please run az login to setup account.' >&2; exit 1")
    expect(
        plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID}),
        "credential-denied",
        "az login",
    )
    plugin_env.fake_command("az", f"echo '{json.dumps({'accessToken': ARM_TOKEN})}'")
    plugin_env.web.add("GET", METRICS, json={"value": []})
    expect(
        plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID}),
        "failed",
        "no ProcessedPromptTokens",
    )
    expect(plugin_env.probe("azure-openai", source="oauth"), "missing-auth", "settings.resourceId")
    expect(
        plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": "/bad"}),
        "failed",
        "must look like",
    )


@pytest.mark.parametrize(
    ("field", "outcome"),
    [
        ("model", ["Deployment", "Requests remaining", "Tokens (rate window)", "Usage"]),
        ("quota-name", ["Quota gpt-4o-mini (GlobalStandard)"]),
        ("access_token", "Unexpected response from Microsoft Entra ID: missing access_token."),
        ("error", "Entra ID refused the service principal (HTTP 401)"),
    ],
    ids=["model", "quota-name", "access-token", "error"],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, field, outcome):
    """Regression: String() or "+" of such an array overflowed the engine's stack."""
    if field == "model":
        body = deeply_nested(fixture("chat-completion.json"), "model")
        plugin_env.web.add("POST", CHAT, body=body, headers=RATE_HEADERS)
        run = plugin_env.probe(
            "azure-openai", api_key=KEY, base_url=ENDPOINT, workspace_id="gpt4o-prod"
        )
    elif field == "quota-name":
        az = {"accessToken": ARM_TOKEN, "subscription": SUB}
        plugin_env.fake_command("az", f"echo '{json.dumps(az)}'")
        body = deeply_nested(fixture("usages.json"), "value", 0, "name", "value")
        plugin_env.web.add("GET", USAGES, body=body)
        run = plugin_env.probe("azure-openai", source="oauth", region="eastus")
    else:
        plugin_env.setenv("AZURE_TENANT_ID", "tenant-1")
        plugin_env.setenv("AZURE_CLIENT_ID", "client-1")
        plugin_env.setenv("AZURE_CLIENT_SECRET", SP_SECRET)
        token = {"error": "invalid_client"} if field == "error" else {"access_token": ARM_TOKEN}
        status = 401 if field == "error" else 200
        plugin_env.web.add("POST", TOKEN_URL, status=status, body=deeply_nested(token, field))
        run = plugin_env.probe("azure-openai", source="oauth", settings={"resourceId": RID})
    if isinstance(outcome, str):
        assert run.error is not None and outcome in run.error, run.error
    else:
        assert run.state == "ready", run.error
        assert [m["label"] for m in run.metrics] == outcome
