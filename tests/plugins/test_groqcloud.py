"""groqcloud through the real host against the fake internet."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone

from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    only_request,
    rate_limited,
    ready,
    utc_month,
)
from pluginharness import make_jwt

fixture = fixtures("groqcloud")


STYTCH = "https://api.stytchb2b.groq.com/sdk/v1/b2b/sessions/authenticate"
ACTIVITY = "https://api.groq.com/platform/v1/organizations/org_01abc/activity"
MODELS = "https://api.groq.com/openai/v1/models"
PROM = "https://api.groq.com/v1/metrics/prometheus/api/v1/query"
PUBLIC = "public-token-live-58df57a9-a1f5-4066-bc0c-2ff942db684f"
SESSION = "opaque-stytch-session-token-123456"
KEY = "gsk_test_key_1234567890abcdef"


def session_jwt(exp_in: float = 300) -> str:
    return make_jwt(
        {
            "sub": "member-live-1",
            "exp": int(time.time() + exp_in),
            "https://groq.com/organization": {"id": "org_01abc"},
        }
    )


# Valid for a day: the module is imported at collection, possibly minutes before a test runs.
JWT = session_jwt(exp_in=24 * 3600)


def month_bounds() -> tuple[int, int, int]:
    now = datetime.now(timezone.utc)
    start = int(utc_month()[0].timestamp())
    today = int(datetime(now.year, now.month, now.day, tzinfo=timezone.utc).timestamp())
    return start, today, today + 86400


def activity() -> dict:
    start, today, _ = month_bounds()
    data = fixture("activity.json")
    data["data"][0]["timestamp"] = today + 60
    data["data"][1]["timestamp"] = start
    return data


def add_web(web, jwt: str = JWT) -> None:
    body = fixture("stytch-authenticate.json")
    body["data"]["session_jwt"] = jwt
    body["data"]["session_token"] = SESSION
    web.add("POST", STYTCH, json=body)
    web.add("GET", ACTIVITY, json=activity())


def test_console_session_month_spend(plugin_env):
    add_web(plugin_env.web)
    run = ready(
        plugin_env.probe("groqcloud", cookie_header=f"stytch_session={SESSION}; theme=dark"),
        source="web",
    )
    start, today, tomorrow = month_bounds()
    today_spend = "$1.51" if start == today else "$0.4125"
    assert run.metrics == [
        {"type": "text", "label": "Spend (month)", "value": "$1.51"},
        {"type": "text", "label": "Today", "value": today_spend},
        {"type": "text", "label": "Tokens (month)", "value": "700K (600K in, 100K out)"},
        {"type": "text", "label": "Requests (month)", "value": "150"},
        {"type": "text", "label": "Cached input (month)", "value": "100K", "detail": True},
        {"type": "text", "label": "Organization", "value": "Acme Labs", "detail": True},
    ]
    (mint,) = plugin_env.requests_to(STYTCH)
    assert mint.method == "POST"
    assert (
        mint.headers["authorization"]
        == "Basic " + base64.b64encode(f"{PUBLIC}:{SESSION}".encode()).decode()
    )
    assert mint.headers["origin"] == "https://console.groq.com"
    assert mint.headers["x-sdk-parent-host"] == "https://console.groq.com"
    assert json.loads(base64.b64decode(mint.headers["x-sdk-client"]))["app"] == {
        "identifier": "console.groq.com"
    }
    assert mint.json() == {"session_token": SESSION, "session_duration_minutes": 30}
    act = only_request(plugin_env, ACTIVITY, authorization=f"Bearer {JWT}")
    assert act.query == {"start_date": str(start), "end_date": str(tomorrow)}
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, SESSION, JWT)


def test_minted_jwt_is_reused_until_it_expires(plugin_env):
    # A JWT within a minute of its expiry is minted again on the next probe; a fresh one is reused.
    short = session_jwt(exp_in=30)
    add_web(plugin_env.web, jwt=short)
    cookie = f"stytch_session={SESSION}"
    ready(plugin_env.probe("groqcloud", cookie_header=cookie))
    add_web(plugin_env.web)
    ready(plugin_env.probe("groqcloud", cookie_header=cookie))
    run = ready(plugin_env.probe("groqcloud", cookie_header=cookie))
    assert len(plugin_env.requests_to(STYTCH)) == 2
    sent = [r.headers["authorization"] for r in plugin_env.requests_to(ACTIVITY)]
    assert sent == [f"Bearer {short}", f"Bearer {JWT}", f"Bearer {JWT}"]
    plugin_env.assert_no_secrets(run, SESSION, JWT, short)


def test_env_session_token_and_config_cookie_precedence(plugin_env):
    plugin_env.setenv("GROQ_SESSION_TOKEN", "env-opaque-session-000111")
    add_web(plugin_env.web)
    assert plugin_env.probe("groqcloud").state == "ready"
    assert plugin_env.requests_to(STYTCH)[0].json()["session_token"] == "env-opaque-session-000111"
    assert plugin_env.probe("groqcloud", cookie_header=f"stytch_session={SESSION}").state == "ready"
    assert plugin_env.requests_to(STYTCH)[1].json()["session_token"] == SESSION


def test_direct_jwt_and_expired_jwt(plugin_env):
    plugin_env.setenv("GROQ_SESSION_JWT", JWT)
    plugin_env.web.add("GET", ACTIVITY, json=activity())
    run = plugin_env.probe("groqcloud", source="web")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(STYTCH) == []
    expired = session_jwt(-60)
    run = plugin_env.probe("groqcloud", cookie_header=f"stytch_session_jwt={expired}")
    assert run.state == "credential-denied" and "stytch_session" in run.error
    plugin_env.assert_no_secrets(run, expired)


def test_rejected_session_rate_limit_and_malformed_answers(plugin_env):
    def probe():
        return plugin_env.probe("groqcloud", cookie_header=f"stytch_session={SESSION}")

    check_answers(
        plugin_env,
        "POST",
        STYTCH,
        probe,
        answer(
            "credential-denied",
            "import-cookies --provider groqcloud",
            status=401,
            json={"error_type": "session_not_found"},
        ),
        answer("failed", "missing data.session_jwt", json={"data": {}}),
        secrets=(SESSION,),
    )
    add_web(plugin_env.web)
    check_answers(
        plugin_env,
        "GET",
        ACTIVITY,
        probe,
        answer("credential-denied", status=403, json={"error": "forbidden"}),
        rate_limited(120),
        answer("failed", "HTML", body="<html>console</html>"),
        answer("failed", "missing data", json={"object": "list"}),
        secrets=(SESSION, JWT),
    )


def test_standard_key_reports_only_what_is_knowable(plugin_env):
    plugin_env.web.add("GET", PROM, status=404, json={"error": "not found"})
    plugin_env.web.add(
        "GET",
        MODELS,
        json={"object": "list", "data": [{"id": "llama-3.3-70b-versatile"}]},
        headers={
            "x-ratelimit-limit-requests": "14400",
            "x-ratelimit-remaining-requests": "14370",
            "x-ratelimit-reset-requests": "2m59.56s",
            "x-ratelimit-limit-tokens": "6000",
            "x-ratelimit-remaining-tokens": "5997",
            "x-ratelimit-reset-tokens": "30ms",
        },
    )
    before = time.time()
    run = plugin_env.probe("groqcloud", api_key=KEY)  # auto: no session -> api
    assert run.state == "ready", run.error
    assert run.json["source"] == "api"
    assert run.metric("Key") == {"type": "badge", "label": "Key", "text": "Valid", "color": "green"}
    rpd = run.metric("Requests (day)")
    assert (rpd["used"], rpd["limit"]) == (30.0, 14400.0)
    assert rpd["format"] == {"kind": "count", "suffix": "requests"}
    assert rpd["periodDurationMs"] == 86_400_000
    reset = datetime.fromisoformat(rpd["resetsAt"].replace("Z", "+00:00")).timestamp()
    assert before + 179 <= reset <= time.time() + 181
    tpm = run.metric("Tokens (minute)")
    assert (tpm["used"], tpm["limit"], tpm["detail"]) == (3.0, 6000.0, True)
    assert "No usage API" in run.metric("Usage")["value"]
    assert plugin_env.requests_to(MODELS)[0].headers["authorization"] == f"Bearer {KEY}"
    plugin_env.assert_no_secrets(run, KEY)


def test_enterprise_metrics(plugin_env):
    plugin_env.setenv("GROQ_API_KEY", KEY)
    plugin_env.web.add("GET", PROM, json=fixture("prometheus-scalar.json"))
    run = ready(plugin_env.probe("groqcloud", source="api"), plan="Enterprise")
    assert run.metric("Requests")["value"] == "45.0/min (5-min rate)"
    assert run.metric("Tokens")["value"] == "90.0/min (5-min rate)"
    assert run.metric("Cache hits")["value"] == "45.0/min"
    queries = [r.query["query"] for r in plugin_env.requests_to(PROM)]
    assert queries[0] == "sum(model_project_id_status_code:requests:rate5m)"
    assert len(queries) == 4


def test_api_base_url(plugin_env):
    base = "https://groq-gateway.example.com"
    plugin_env.web.add("GET", base + "/v1/metrics/prometheus/api/v1/query", status=404, json={})
    plugin_env.web.add("GET", base + "/openai/v1/models", json={"object": "list", "data": []})
    run = ready(
        plugin_env.probe("groqcloud", source="api", api_key=KEY, base_url=base + "/openai/v1/"),
        source="api",
    )
    assert run.metric("Key")["text"] == "Valid"
    assert plugin_env.requests_to(PROM) == [] and plugin_env.requests_to(MODELS) == []
    expect(
        plugin_env.probe(
            "groqcloud", source="api", api_key=KEY, base_url="http://groq.example.com"
        ),
        "failed",
        "GroqCloud baseUrl uses plain http to a public host",
    )
    assert len(plugin_env.web.requests) == 2 and plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, KEY)


def test_rejected_key(plugin_env):
    plugin_env.web.add("GET", PROM, status=401, json={"error": "invalid api key"})
    run = plugin_env.probe("groqcloud", source="api", api_key=KEY)
    assert run.state == "credential-denied"
    plugin_env.assert_no_secrets(run, KEY)


def test_missing_credentials(plugin_env):
    expect(plugin_env.probe("groqcloud"), "missing-auth", "import-cookies")
    expect(plugin_env.probe("groqcloud", source="api"), "missing-auth", "GROQ_API_KEY")
    assert plugin_env.web.requests == []


def test_a_jwt_expiry_nested_thousands_deep_is_ignored(plugin_env):
    """Regression: Number() of such an array overflowed the engine's stack."""
    header, payload, signature = JWT.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    deep = base64.urlsafe_b64encode(deeply_nested(claims, "exp").encode()).rstrip(b"=").decode()
    jwt = f"{header}.{deep}.{signature}"
    add_web(plugin_env.web, jwt)
    run = ready(plugin_env.probe("groqcloud", cookie_header=f"stytch_session={SESSION}"))
    assert run.metric("Spend (month)")["value"] == "$1.51"
    only_request(plugin_env, ACTIVITY, authorization=f"Bearer {jwt}")
