"""llm-proxy through the real host: a fake https proxy and a real loopback LiteLLM stub."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from helpers import answer, check_answers, expect, fixtures, rate_limited, ready

fixture = fixtures("llm-proxy")
BASE = "https://llm.example.com"
KEY = "sk-proxy-config-key-0123456789"
ENV_KEY = "sk-litellm-virtual-key-abcdef"


@pytest.fixture
def loopback():
    """A plain-http LiteLLM stub on 127.0.0.1 (loopback hosts are reached directly)."""
    routes = {
        "/key/info": fixture("litellm-key-info.json"),
        "/user/info": fixture("litellm-user-info.json"),
    }
    seen: list[tuple[str, dict[str, str], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            seen.append((parts.path, dict(parse_qsl(parts.query)), self.headers["Authorization"]))
            body = json.dumps(routes.get(parts.path, {"detail": "Not Found"})).encode()
            self.send_response(200 if parts.path in routes else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_quota_stats_with_config_winning_over_env(plugin_env):
    plugin_env.setenv("LLM_PROXY_API_KEY", ENV_KEY)
    plugin_env.setenv("LLM_PROXY_BASE_URL", "https://env-proxy.example.org")
    plugin_env.web.add("GET", BASE + "/v1/quota-stats", json=fixture("quota-stats.json"))
    run = ready(
        plugin_env.probe("llm-proxy", api_key=KEY, base_url=BASE + "/v1/"), plan="Quota stats"
    )
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Quota",
            "used": 62.5,
            "limit": 100.0,
            "format": {"kind": "percent"},
            "resetsAt": "2030-01-01T08:00:00Z",
        },
        {"type": "text", "label": "Lowest quota", "value": "gemini_cli / pro", "detail": True},
        {"type": "text", "label": "Requests", "value": "855"},
        {"type": "text", "label": "Tokens", "value": "1.2M"},
        {
            "type": "text",
            "label": "Cost",
            "value": "~$1.44",
            "subtitle": "Approximate, as estimated by the proxy",
        },
        {
            "type": "text",
            "label": "gemini_cli",
            "value": "812 requests · 2/3 credentials active · 1 exhausted",
            "color": "amber",
            "detail": True,
        },
        {
            "type": "text",
            "label": "antigravity",
            "value": "40 requests · 1/1 credentials active",
            "detail": True,
        },
        {
            "type": "text",
            "label": "openai",
            "value": "3 requests · 1/1 credentials active",
            "detail": True,
        },
    ]
    (req,) = plugin_env.requests_to(BASE + "/v1/quota-stats")
    assert req.method == "GET" and req.headers["authorization"] == f"Bearer {KEY}"
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY, ENV_KEY)


def test_litellm_budgets_over_loopback_http_from_env(plugin_env, loopback):
    url, seen = loopback
    plugin_env.setenv("LITELLM_API_KEY", ENV_KEY)
    plugin_env.setenv("LITELLM_BASE_URL", url + "/v1")
    run = ready(plugin_env.probe("llm-proxy"), plan="LiteLLM · laptop")
    assert run.metrics == [
        {
            "type": "progress",
            "label": "Budget",
            "used": 12.5,
            "limit": 50.0,
            "format": {"kind": "dollars"},
            "resetsAt": "2030-02-01T00:00:00Z",
            "periodDurationMs": 31 * 86400000.0,
        },
        {
            "type": "progress",
            "label": "Key budget",
            "used": 3.2,
            "limit": 10.0,
            "format": {"kind": "dollars"},
            "resetsAt": "2030-01-15T00:00:00Z",
            "periodDurationMs": 30 * 86400000.0,
            "detail": True,
        },
        {
            "type": "progress",
            "label": "Team budget",
            "used": 80.0,
            "limit": 200.0,
            "format": {"kind": "dollars"},
            "resetsAt": "2030-01-06T00:00:00Z",
            "periodDurationMs": 7 * 86400000.0,
        },
    ]
    assert seen == [
        ("/key/info", {}, f"Bearer {ENV_KEY}"),
        ("/user/info", {"user_id": "user-42"}, f"Bearer {ENV_KEY}"),
    ]
    plugin_env.assert_no_secrets(run, ENV_KEY)


def test_litellm_detected_by_a_404_and_team_only_key(plugin_env):
    web = plugin_env.web
    web.add("GET", BASE + "/v1/quota-stats", status=404, json={"detail": "Not Found"})
    key_info = {"key": "hashed", "info": {"spend": 1.5, "max_budget": None, "team_id": "team-9"}}
    web.add("GET", BASE + "/key/info", json=key_info)
    web.add("GET", BASE + "/team/info", json=fixture("litellm-team-info.json"))
    run = ready(plugin_env.probe("llm-proxy", api_key=KEY, base_url=BASE), plan="LiteLLM")
    assert run.metrics == [
        {"type": "text", "label": "Team spend", "value": "$4.50", "detail": True},
        {
            "type": "text",
            "label": "Spend",
            "value": "$1.50",
            "subtitle": "No budget set for this key",
        },
    ]
    assert plugin_env.requests_to(BASE + "/team/info")[0].query == {"team_id": "team-9"}
    assert web.unmatched == []


def test_errors(plugin_env):
    web = plugin_env.web
    stats = BASE + "/v1/quota-stats"
    check_answers(
        plugin_env,
        "GET",
        stats,
        lambda: plugin_env.probe("llm-proxy", api_key=KEY, base_url=BASE),
        answer("credential-denied", "rejected the key", status=401, json={"error": "invalid key"}),
        rate_limited(10),
        answer("failed", "HTML", body="<html>login</html>"),
        answer("failed", "missing providers", json={"summary": {}}),
        secrets=(KEY,),
    )
    expect(
        plugin_env.probe("llm-proxy", api_key=KEY, base_url="http://llm.example.com"),
        "failed",
        "plain http",
    )
    plugin_env.setenv("LLM_PROXY_BASE_URL", "https://elsewhere.example.net")
    expect(plugin_env.probe("llm-proxy", api_key=KEY), "failed", "Set the URL as `baseUrl`")
    plugin_env.monkeypatch.delenv("LLM_PROXY_BASE_URL")
    expect(plugin_env.probe("llm-proxy", api_key=KEY), "missing-auth", "baseUrl")
    expect(plugin_env.probe("llm-proxy", base_url=BASE), "missing-auth", "LLM_PROXY_API_KEY")
    assert web.unmatched == []
