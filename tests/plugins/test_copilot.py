"""The copilot plugin through the real host, against recorded response shapes."""

from __future__ import annotations

import json

import pytest
from helpers import answer, check_answers, deeply_nested, expect, fixtures, rate_limited, ready

fixture = fixtures("copilot")
USER_URL = "https://api.github.com/copilot_internal/user"
MONTH_MS = 30 * 24 * 3600 * 1000
HOSTS_TOKEN = "gho_fixtureHostsYmlToken000"
APPS_TOKEN = "ghu_fixtureAppsJsonToken000"


def hosts_yml(env):
    env.file(".config/gh/hosts.yml", fixture("hosts.yml"))


def no_gh(env):
    env.fake_command("gh", "exit 1")


def test_paid_account_from_gh_hosts_yml(plugin_env):
    hosts_yml(plugin_env)
    plugin_env.web.add("GET", USER_URL, json=fixture("user-paid.json"))
    run = ready(plugin_env.probe("copilot"), source="local", plan="Individual Pro")
    assert run.metric("Premium") == {
        "type": "progress",
        "label": "Premium",
        "used": 37.0,  # percent_remaining 63
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": "2030-02-01T00:00:00Z",
        "periodDurationMs": MONTH_MS,
    }
    chat = run.metric("Chat")
    assert chat == {"type": "text", "label": "Chat", "value": "Unlimited", "detail": True}
    (request,) = plugin_env.requests_to(USER_URL)
    assert request.method == "GET"
    assert request.headers["authorization"] == f"token {HOSTS_TOKEN}"
    assert request.headers["editor-version"].startswith("vscode/")
    assert request.headers["x-github-api-version"] == "2025-04-01"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, HOSTS_TOKEN, "gho_fixtureNestedToken0000")


def test_free_plan_counts(plugin_env):
    plugin_env.setenv("GITHUB_TOKEN", "ghp_fixtureEnvToken00000")
    plugin_env.web.add("GET", USER_URL, json=fixture("user-free.json"))
    run = ready(plugin_env.probe("copilot"), source="oauth", plan="Free")
    chat = run.metric("Chat")
    assert (chat["used"], chat["limit"], chat["format"]) == (
        90.0,
        500.0,
        {"kind": "count", "suffix": "messages"},
    )
    assert chat["resetsAt"] == "2030-02-11T00:00:00Z" and chat["periodDurationMs"] == MONTH_MS
    completions = run.metric("Completions")
    assert (completions["used"], completions["limit"]) == (400.0, 4000.0)
    assert completions["format"] == {"kind": "count", "suffix": "completions"}
    plugin_env.assert_no_secrets(run, "ghp_fixtureEnvToken00000")


def test_gh_auth_token_and_editor_apps_json(plugin_env):
    plugin_env.fake_command("gh", '[ "$1 $2" = "auth token" ] && echo gho_fixtureCliToken000000')
    plugin_env.web.add("GET", USER_URL, json=fixture("user-paid.json"))
    run = ready(plugin_env.probe("copilot"), source="cli")
    assert (
        plugin_env.requests_to(USER_URL)[0].headers["authorization"]
        == "token gho_fixtureCliToken000000"
    )
    plugin_env.assert_no_secrets(run, "gho_fixtureCliToken000000")
    no_gh(plugin_env)
    plugin_env.file(".config/github-copilot/apps.json", fixture("apps.json"))
    run = ready(plugin_env.probe("copilot"), source="local")
    assert plugin_env.requests_to(USER_URL)[1].headers["authorization"] == f"token {APPS_TOKEN}"


def test_rejected_token_falls_back_once_to_the_next_source(plugin_env):
    plugin_env.setenv("GH_TOKEN", "ghp_fixtureStaleToken0000")
    hosts_yml(plugin_env)

    def answer(req):
        if req.headers["authorization"] == f"token {HOSTS_TOKEN}":
            return 200, {"Content-Type": "application/json"}, json.dumps(fixture("user-paid.json"))
        return 401, {"Content-Type": "application/json"}, '{"message":"Bad credentials"}'

    plugin_env.web.add_handler("GET", USER_URL, answer)
    ready(plugin_env.probe("copilot"), source="local")
    assert len(plugin_env.requests_to(USER_URL)) == 2


def test_401_403_rate_limited_and_malformed_answers(plugin_env):
    plugin_env.setenv("GITHUB_TOKEN", "ghp_fixtureBadToken00000")
    no_gh(plugin_env)
    check_answers(
        plugin_env,
        "GET",
        USER_URL,
        lambda: plugin_env.probe("copilot"),
        answer(
            "credential-denied", "gh auth login", status=401, json={"message": "Bad credentials"}
        ),
        answer("credential-denied", "HTTP 403", status=403, json={"message": "Forbidden"}),
        answer("failed", "no Copilot subscription", status=404, json={"message": "Not Found"}),
        rate_limited(60),
        answer("failed", "HTML", body="<html>unicorn</html>"),
        answer("failed", "missing quota_snapshots", json={"login": "octocat"}),
        secrets=("ghp_fixtureBadToken00000",),
    )


def test_org_billed_seat_has_no_data(plugin_env):
    hosts_yml(plugin_env)
    plugin_env.web.add("GET", USER_URL, json=fixture("user-org-billed.json"))
    run = ready(plugin_env.probe("copilot"), plan="Business")
    assert run.metric("Status")["text"].startswith("No data")


def test_missing_token(plugin_env):
    no_gh(plugin_env)
    expect(plugin_env.probe("copilot"), "missing-auth", "gh auth login")
    assert plugin_env.web.requests == []


def test_config_api_key_wins_and_modes_restrict_sources(plugin_env):
    plugin_env.setenv("GITHUB_TOKEN", "ghp_fixtureEnvToken00000")
    hosts_yml(plugin_env)
    plugin_env.web.add("GET", USER_URL, json=fixture("user-paid.json"))
    run = plugin_env.probe("copilot", api_key="gho_fixtureConfigToken000")
    assert run.state == "ready", run.error
    assert (
        plugin_env.requests_to(USER_URL)[0].headers["authorization"]
        == "token gho_fixtureConfigToken000"
    )
    plugin_env.assert_no_secrets(run, "gho_fixtureConfigToken000")
    run = plugin_env.probe("copilot", source="local")
    assert run.state == "ready" and run.json["source"] == "local"
    assert plugin_env.requests_to(USER_URL)[1].headers["authorization"] == f"token {HOSTS_TOKEN}"
    run = plugin_env.probe("copilot", source="oauth")
    assert run.json["source"] == "oauth"
    assert (
        plugin_env.requests_to(USER_URL)[2].headers["authorization"]
        == "token ghp_fixtureEnvToken00000"
    )


def test_enterprise_region(plugin_env):
    plugin_env.file(
        ".config/gh/hosts.yml",
        "github.com:\n    oauth_token: gho_publicToken0000000\nacme.ghe.com:\n    oauth_token: gho_acmeToken000000000\n",
    )
    url = "https://api.acme.ghe.com/copilot_internal/user"
    plugin_env.web.add("GET", url, json=fixture("user-paid.json"))
    run = plugin_env.probe("copilot", region="acme.ghe.com")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(url)[0].headers["authorization"] == "token gho_acmeToken000000000"
    assert plugin_env.web.unmatched == []


PAID = ("user-paid.json", "Individual Pro", ["Premium", "Chat", "Completions"])


@pytest.mark.parametrize(
    ("path", "name", "plan", "labels"),
    [
        (("access_type_sku",), *PAID),
        (("quota_snapshots", "premium_interactions", "percent_remaining"), *PAID),
        (("limited_user_quotas", "chat"), "user-free.json", "Free", ["Completions"]),
        (("monthly_quotas", "completions"), "user-free.json", "Free", ["Chat"]),
    ],
    ids=["sku", "percent-left", "free-chat-left", "free-completions-limit"],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, path, name, plan, labels):
    """Regression: String()/Number() of such an array overflowed the engine's stack."""
    plugin_env.setenv("GITHUB_TOKEN", "ghp_fixtureEnvToken00000")
    plugin_env.web.add("GET", USER_URL, body=deeply_nested(fixture(name), *path))
    run = ready(plugin_env.probe("copilot"), plan=plan)
    assert [m["label"] for m in run.metrics] == labels
    if "Premium" in labels:  # percent_remaining unreadable: entitlement and remaining
        assert run.metric("Premium")["used"] == 37.0
