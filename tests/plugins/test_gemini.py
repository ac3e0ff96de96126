"""The gemini plugin through the real host, against recorded response shapes."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready
from pluginharness import make_jwt

fixture = fixtures("gemini")
BASE = "https://cloudcode-pa.googleapis.com/v1internal"
LOAD_URL = f"{BASE}:loadCodeAssist"
QUOTA_URL = f"{BASE}:retrieveUserQuota"
TOKEN_URL = "https://oauth2.googleapis.com/token"
PROJECTS = "https://cloudresourcemanager.googleapis.com/v1/projects"
CREDS = ".gemini/oauth_creds.json"
ACCESS = "ya29.fixture-access"
REFRESH = "1//fixture-refresh"
NEW_ACCESS = "ya29.fixture-new-access"
DAY_MS = 24 * 3600 * 1000


def creds(**changes):
    data = fixture("oauth_creds.json")
    data["id_token"] = make_jwt({"email": "dev@example.com", "hd": "example.com"})
    data.update(changes)
    return data


def serve_quota(env):
    env.web.add("POST", LOAD_URL, json=fixture("load-code-assist.json"))
    env.web.add("POST", QUOTA_URL, json=fixture("retrieve-user-quota.json"))


def test_normal_account(plugin_env):
    path = plugin_env.file(CREDS, creds())
    before = path.read_bytes()
    serve_quota(plugin_env)
    run = ready(plugin_env.probe("gemini"), source="oauth", plan="Paid")
    assert run.metric("Pro") == {
        "type": "progress",
        "label": "Pro",
        "used": 13.0,  # lowest remaining fraction of the pro buckets: 0.87
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": "2030-01-16T07:00:00Z",
        "periodDurationMs": DAY_MS,
    }
    flash = run.metric("Flash")
    assert (flash["used"], flash["resetsAt"]) == (40.0, "2030-01-16T08:00:00Z")
    lite = run.metric("Flash Lite")
    assert lite["used"] == 0.0 and lite["detail"] is True
    assert run.metric("Account")["value"] == "dev@example.com"
    load, quota = plugin_env.requests_to(LOAD_URL)[0], plugin_env.requests_to(QUOTA_URL)[0]
    assert load.method == "POST" and load.headers["authorization"] == f"Bearer {ACCESS}"
    assert load.json() == {"metadata": {"ideType": "GEMINI_CLI", "pluginType": "GEMINI"}}
    assert quota.json() == {"project": "fixture-project-123"}
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH)


def test_expired_token_is_refreshed_and_cached_not_written_back(plugin_env):
    path = plugin_env.file(CREDS, creds(expiry_date=1000))
    before = path.read_bytes()
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    serve_quota(plugin_env)
    run = plugin_env.probe("gemini")
    assert run.state == "ready", run.error
    (refresh,) = plugin_env.requests_to(TOKEN_URL)
    form = {k: v[0] for k, v in parse_qs(refresh.text()).items()}
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == REFRESH
    assert form["client_id"].startswith("681255809395-")
    assert form["client_secret"].startswith("GOCSPX-")
    assert plugin_env.requests_to(QUOTA_URL)[0].headers["authorization"] == f"Bearer {NEW_ACCESS}"
    assert path.read_bytes() == before  # the Gemini CLI's file is never rewritten
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH, NEW_ACCESS)
    # The next probe uses the cached token: no second refresh.
    plugin_env.web.reset()
    serve_quota(plugin_env)
    run = plugin_env.probe("gemini")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert plugin_env.requests_to(LOAD_URL)[0].headers["authorization"] == f"Bearer {NEW_ACCESS}"


def test_rejected_token_is_refreshed_once_then_denied(plugin_env):
    plugin_env.file(CREDS, creds())
    plugin_env.web.add(
        "POST", LOAD_URL, status=401, json={"error": {"code": 401, "status": "UNAUTHENTICATED"}}
    )
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    expect(plugin_env.probe("gemini"), "credential-denied", "`gemini`")
    auths = [r.headers["authorization"] for r in plugin_env.requests_to(LOAD_URL)]
    assert auths == [f"Bearer {ACCESS}", f"Bearer {NEW_ACCESS}"]


def test_refresh_invalid_grant(plugin_env):
    plugin_env.file(CREDS, creds(expiry_date=1000))
    plugin_env.web.add(
        "POST",
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Bad Request"},
    )
    run = plugin_env.probe("gemini")
    assert run.state == "credential-denied"
    assert "Gemini session expired" in run.error and "Run `gemini`" in run.error
    assert plugin_env.requests_to(LOAD_URL) == []


def test_rate_limited_and_malformed_answers(plugin_env):
    plugin_env.file(CREDS, creds())
    check_answers(
        plugin_env,
        "POST",
        LOAD_URL,
        lambda: plugin_env.probe("gemini"),
        answer("failed", "HTML", body="<html>error</html>"),
        secrets=(ACCESS, REFRESH),
    )
    plugin_env.web.add("POST", LOAD_URL, json=fixture("load-code-assist.json"))
    check_answers(
        plugin_env,
        "POST",
        QUOTA_URL,
        lambda: plugin_env.probe("gemini"),
        rate_limited(30),
        answer("failed", "not JSON", body="{not json"),
        secrets=(ACCESS, REFRESH),
    )
    plugin_env.web.add("POST", QUOTA_URL, json={})
    run = ready(plugin_env.probe("gemini"))
    assert run.metric("Status")["text"] == "No usage data"


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("gemini"), "missing-auth", "Run `gemini`")
    assert plugin_env.web.requests == []


def test_unsupported_auth_types_and_api_key(plugin_env):
    plugin_env.file(CREDS, creds())
    plugin_env.file(
        ".gemini/settings.json", {"security": {"auth": {"selectedType": "gemini-api-key"}}}
    )
    expect(plugin_env.probe("gemini"), "unsupported", "gemini-api-key")
    run = plugin_env.probe("gemini", api_key="AIzaSyFixtureKey123456")
    assert run.state == "unsupported" and "API key" in run.error
    plugin_env.assert_no_secrets(run, "AIzaSyFixtureKey123456")
    assert plugin_env.web.requests == []


def test_retired_consumer_tier(plugin_env):
    plugin_env.file(CREDS, creds())
    plugin_env.file(".gemini/settings.json", {"selectedAuthType": "oauth-personal"})
    plugin_env.web.add(
        "POST",
        LOAD_URL,
        status=403,
        json={"error": {"code": 403, "details": [{"reason": "UNSUPPORTED_CLIENT"}]}},
    )
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    expect(plugin_env.probe("gemini"), "unsupported", "antigravity")


def test_config_workspace_id_wins_and_free_workspace_plan(plugin_env):
    plugin_env.file(CREDS, creds())
    load = {"currentTier": {"id": "free-tier", "name": "Gemini Code Assist for individuals"}}
    plugin_env.web.add("POST", LOAD_URL, json=load)
    plugin_env.web.add("POST", QUOTA_URL, json=fixture("retrieve-user-quota.json"))
    run = plugin_env.probe("gemini", workspace_id="my-own-project")
    assert run.state == "ready", run.error
    assert run.json["plan"] == "Workspace"  # free tier + hd claim
    assert plugin_env.requests_to(QUOTA_URL)[0].json() == {"project": "my-own-project"}


def test_project_discovery_fallback(plugin_env):
    plugin_env.file(CREDS, creds(expiry_date=(time.time() + 3600) * 1000))
    plugin_env.web.add("POST", LOAD_URL, json={"currentTier": {"id": "g1-pro-tier"}})
    plugin_env.web.add(
        "GET",
        "https://cloudresourcemanager.googleapis.com/v1/projects",
        json={"projects": [{"projectId": "other"}, {"projectId": "gen-lang-client-0123"}]},
    )
    plugin_env.web.add("POST", QUOTA_URL, json=fixture("retrieve-user-quota.json"))
    ready(plugin_env.probe("gemini"), plan="AI Pro")
    assert plugin_env.requests_to(QUOTA_URL)[0].json() == {"project": "gen-lang-client-0123"}


def test_project_lookup_denied_does_not_refresh(plugin_env):
    plugin_env.file(CREDS, creds(expiry_date=(time.time() + 3600) * 1000))
    plugin_env.web.add("POST", LOAD_URL, json={"currentTier": {"id": "g1-pro-tier"}})
    plugin_env.web.add(
        "GET",
        "https://cloudresourcemanager.googleapis.com/v1/projects",
        status=403,
        json={"error": {"code": 403, "status": "PERMISSION_DENIED"}},
    )
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    plugin_env.web.add("POST", QUOTA_URL, json=fixture("retrieve-user-quota.json"))
    ready(plugin_env.probe("gemini"), plan="AI Pro")
    assert plugin_env.requests_to(TOKEN_URL) == []
    quota = plugin_env.requests_to(QUOTA_URL)[0]
    assert quota.json() == {} and quota.headers["authorization"] == f"Bearer {ACCESS}"


@pytest.mark.parametrize(
    ("name", "path", "plan", "pro"),
    [
        ("load-code-assist.json", ("currentTier", "id"), "Gemini Code Assist Standard", 13.0),
        ("retrieve-user-quota.json", ("buckets", 0, "modelId"), "Paid", 5.0),
        ("projects", ("projects", 0, "projectId"), "AI Pro", 13.0),
    ],
    ids=["tier-id", "model-id", "project-id"],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, name, path, plan, pro):
    """Regression: String() of such an array overflowed the engine's stack."""
    plugin_env.file(CREDS, creds(expiry_date=(time.time() + 3600) * 1000))
    answers = {
        n: json.dumps(fixture(n)) for n in ("load-code-assist.json", "retrieve-user-quota.json")
    }
    if name == "projects":
        answers["load-code-assist.json"] = json.dumps({"currentTier": {"id": "g1-pro-tier"}})
        projects = {"projects": [{"projectId": "other"}, {"projectId": "gen-lang-client-0123"}]}
        plugin_env.web.add("GET", PROJECTS, body=deeply_nested(projects, *path))
    else:
        answers[name] = deeply_nested(fixture(name), *path)
    plugin_env.web.add("POST", LOAD_URL, body=answers["load-code-assist.json"])
    plugin_env.web.add("POST", QUOTA_URL, body=answers["retrieve-user-quota.json"])
    run = ready(plugin_env.probe("gemini"), plan=plan)
    assert run.metric("Pro")["used"] == pro
    assert run.metric("Account")["value"] == "dev@example.com"
