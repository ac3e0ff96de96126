"""The antigravity plugin through the real host: state.vscdb + Cloud Code, and a local language server."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import trustme
from helpers import (
    answer,
    check_answers,
    deeply_nested,
    expect,
    fixtures,
    rate_limited,
    ready,
    vscode_state_db,
)

fixture = fixtures("antigravity")
DAILY = "https://daily-cloudcode-pa.googleapis.com/v1internal"
PROD = "https://cloudcode-pa.googleapis.com/v1internal"
TOKEN_URL = "https://oauth2.googleapis.com/token"
DB = ".config/Antigravity/User/globalStorage/state.vscdb"
ACCESS = "ya29.fixture-access"
REFRESH = "1//fixture-refresh"
NEW_ACCESS = "ya29.fixture-new-access"
FIVE_HOURS_MS = 5 * 3600 * 1000
WEEK_MS = 7 * 24 * 3600 * 1000


# -- a tiny protobuf writer for the state.vscdb fixture ---------------------------------
def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def oauth_topic(access, refresh, expiry_s):
    info = field(1, access) + field(2, "Bearer") + field(3, refresh) + field(4, field(1, expiry_s))
    row = field(1, base64.b64encode(info).decode())
    entry = field(1, "oauthTokenInfoSentinelKey") + field(2, row)
    return base64.b64encode(field(1, entry)).decode()


def write_db(env, access=ACCESS, refresh=REFRESH, expiry_s=None, rel=DB, email="dev@example.com"):
    expiry_s = int(time.time()) + 3600 if expiry_s is None else expiry_s
    status = {"name": "Dev", "email": email, "apiKey": access}
    return vscode_state_db(
        env,
        rel,
        {
            "antigravityUnifiedStateSync.oauthToken": oauth_topic(access, refresh, expiry_s),
            "antigravityAuthStatus": json.dumps(status),
        },
    )


def serve_cloud(env, base=DAILY):
    env.web.add("POST", f"{base}:retrieveUserQuotaSummary", json=fixture("quota-summary.json"))
    env.web.add("POST", f"{base}:loadCodeAssist", json=fixture("load-code-assist.json"))


def test_normal_account(plugin_env):
    path = write_db(plugin_env)
    before = path.read_bytes()
    serve_cloud(plugin_env)
    run = ready(plugin_env.probe("antigravity"), source="oauth", plan="Google AI Pro")
    assert run.metric("Session") == {
        "type": "progress",
        "label": "Session",
        "used": 37.0,  # remainingFraction 0.63
        "limit": 100.0,
        "format": {"kind": "percent"},
        "resetsAt": "2030-01-15T12:26:15Z",
        "periodDurationMs": FIVE_HOURS_MS,
    }
    weekly = run.metric("Weekly")
    assert (weekly["used"], weekly["resetsAt"], weekly["periodDurationMs"]) == (
        19.0,
        "2030-01-20T01:15:23Z",
        WEEK_MS,
    )
    claude = run.metric("Claude")
    assert claude["used"] == 0.0 and "resetsAt" not in claude  # window not started
    assert run.metric("Claude Weekly")["used"] == 100.0  # proto3 omits a zero fraction
    assert run.metric("Account")["value"] == "dev@example.com"
    summary = plugin_env.requests_to(f"{DAILY}:retrieveUserQuotaSummary")[0]
    assert summary.method == "POST" and summary.json() == {}
    assert summary.headers["authorization"] == f"Bearer {ACCESS}"
    assert summary.headers["user-agent"] == "antigravity"
    assert plugin_env.requests_to(TOKEN_URL) == []
    assert path.read_bytes() == before
    assert plugin_env.web.unmatched == []
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH)


def test_expired_token_is_refreshed_and_cached(plugin_env):
    path = write_db(plugin_env, expiry_s=1000)
    before = path.read_bytes()
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    serve_cloud(plugin_env)
    run = plugin_env.probe("antigravity")
    assert run.state == "ready", run.error
    (refresh,) = plugin_env.requests_to(TOKEN_URL)
    form = {k: v[0] for k, v in parse_qs(refresh.text()).items()}
    assert form["refresh_token"] == REFRESH and form["grant_type"] == "refresh_token"
    assert form["client_id"].startswith("1071006060591-")
    summary = plugin_env.requests_to(f"{DAILY}:retrieveUserQuotaSummary")[0]
    assert summary.headers["authorization"] == f"Bearer {NEW_ACCESS}"
    assert path.read_bytes() == before  # Antigravity's DB is never written
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH, NEW_ACCESS)
    plugin_env.web.reset()
    serve_cloud(plugin_env)
    assert plugin_env.probe("antigravity").state == "ready"
    assert plugin_env.requests_to(TOKEN_URL) == []  # the cached token is reused


def test_prod_fallback_and_legacy_models(plugin_env):
    write_db(plugin_env)
    plugin_env.web.add("POST", f"{DAILY}:retrieveUserQuotaSummary", status=503, body="unavailable")
    plugin_env.web.add(
        "POST", f"{PROD}:retrieveUserQuotaSummary", status=404, json={"error": {"code": 404}}
    )
    plugin_env.web.add("POST", f"{DAILY}:fetchAvailableModels", status=503, body="unavailable")
    plugin_env.web.add(
        "POST", f"{PROD}:fetchAvailableModels", json=fixture("fetch-available-models.json")
    )
    plugin_env.web.add(
        "POST", f"{PROD}:loadCodeAssist", json={"currentTier": {"id": "free-tier", "name": "Free"}}
    )
    run = ready(plugin_env.probe("antigravity"), plan="Free")
    session = run.metric("Session")
    assert (session["used"], session["periodDurationMs"]) == (50.0, FIVE_HOURS_MS)
    claude = run.metric("Claude")
    assert (claude["used"], claude["resetsAt"]) == (75.0, "2030-01-15T13:00:00Z")
    assert not run.has_metric("Weekly")  # never invented
    assert plugin_env.web.unmatched == []


def test_rejected_then_refresh_fails(plugin_env):
    write_db(plugin_env)
    plugin_env.web.add(
        "POST", f"{DAILY}:retrieveUserQuotaSummary", status=401, json={"error": {"code": 401}}
    )
    plugin_env.web.add("POST", TOKEN_URL, status=400, json={"error": "invalid_grant"})
    run = plugin_env.probe("antigravity")
    assert run.state == "credential-denied"
    assert "sign-in expired" in run.error and "sign in with Google again" in run.error
    plugin_env.assert_no_secrets(run, ACCESS, REFRESH)


def test_quota_forbidden_but_identity_works(plugin_env):
    write_db(plugin_env)
    plugin_env.web.add("POST", TOKEN_URL, json=fixture("token.json"))
    plugin_env.web.add(
        "POST", f"{DAILY}:retrieveUserQuotaSummary", status=403, json={"error": {"code": 403}}
    )
    plugin_env.web.add("POST", f"{DAILY}:loadCodeAssist", json=fixture("load-code-assist.json"))
    run = plugin_env.probe("antigravity")
    assert run.state == "ready", run.error
    assert run.metric("Status")["text"] == "Limits not available"
    assert len(plugin_env.requests_to(TOKEN_URL)) == 1  # one refresh after the 403


def test_rate_limited_and_malformed_answers(plugin_env):
    write_db(plugin_env)
    check_answers(
        plugin_env,
        "POST",
        f"{DAILY}:retrieveUserQuotaSummary",
        lambda: plugin_env.probe("antigravity"),
        rate_limited(45),
        answer("failed", "HTML", body="<html>oops</html>"),
        secrets=(ACCESS, REFRESH),
    )
    plugin_env.web.add("POST", f"{DAILY}:retrieveUserQuotaSummary", status=404, json={})
    plugin_env.web.add("POST", f"{PROD}:retrieveUserQuotaSummary", status=404, json={})
    plugin_env.web.add("POST", f"{DAILY}:fetchAvailableModels", json={"unexpected": 1})
    expect(plugin_env.probe("antigravity"), "failed", "missing models")


def test_missing_credentials(plugin_env):
    plugin_env.fake_command("secret-tool", "exit 1")
    plugin_env.fake_command("ps", "echo '  1 /sbin/init'")
    run = plugin_env.probe("antigravity")
    assert run.state == "missing-auth" and "Antigravity" in run.error and "agy" in run.error
    assert plugin_env.web.requests == []


def test_agy_keychain_token_and_ide_profile_path(plugin_env):
    payload = json.dumps(
        {
            "token": {
                "access_token": "ya29.agy-access",
                "refresh_token": "1//agy-refresh",
                "expiry": "2099-01-01T00:00:00Z",
            }
        }
    )
    value = "go-keyring-base64:" + base64.b64encode(payload.encode()).decode()
    plugin_env.fake_command(
        "secret-tool",
        f'[ "$3" = "gemini" ] && [ "$5" = "antigravity" ] && echo "{value}" && exit 0\nexit 1',
    )
    serve_cloud(plugin_env)
    run = plugin_env.probe("antigravity", source="oauth")
    assert run.state == "ready", run.error
    headers = plugin_env.requests_to(f"{DAILY}:retrieveUserQuotaSummary")[0].headers
    assert headers["authorization"] == "Bearer ya29.agy-access"
    plugin_env.assert_no_secrets(run, "ya29.agy-access", "1//agy-refresh")
    # The IDE profile's DB is read when the app's is absent.
    write_db(
        plugin_env,
        access="ya29.ide-access",
        rel=".config/Antigravity IDE/User/globalStorage/state.vscdb",
    )
    plugin_env.web.reset()
    serve_cloud(plugin_env)
    run = plugin_env.probe("antigravity")
    assert run.state == "ready", run.error
    headers = plugin_env.requests_to(f"{DAILY}:retrieveUserQuotaSummary")[0].headers
    assert headers["authorization"] == "Bearer ya29.ide-access"


def test_config_base_url_wins(plugin_env):
    write_db(plugin_env)
    serve_cloud(plugin_env, base="https://cloudcode.example.test/v1internal")
    run = plugin_env.probe("antigravity", base_url="https://cloudcode.example.test")
    assert run.state == "ready", run.error
    assert plugin_env.requests_to(f"{DAILY}:retrieveUserQuotaSummary") == []


# -- local mode: a fake language server with a self-signed certificate on 127.0.0.1 ---------
@pytest.fixture
def language_server():
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    seen = []
    answers = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.path, dict(self.headers), body))
            status, payload = answers.get(
                self.path.rsplit("/", 1)[-1], (404, {"code": "unimplemented"})
            )
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], answers, seen
    server.shutdown()
    server.server_close()


def fake_process(env, port):
    args = "/opt/Antigravity/resources/bin/language_server_linux_x64 --csrf_token csrf-fixture-1 --extension_server_port 1 --app_data_dir antigravity"
    env.fake_command("ps", f"echo ' 4242 {args}'\necho ' 77 /usr/bin/code'")
    env.fake_command(
        "lsof",
        f'[ "$6" = "4242" ] || exit 1\necho "language_ 4242 dev 12u IPv4 0t0 TCP 127.0.0.1:{port} (LISTEN)"',
    )


def test_local_language_server(plugin_env, language_server):
    port, answers, seen = language_server
    fake_process(plugin_env, port)
    answers["RetrieveUserQuotaSummary"] = (200, {"response": fixture("quota-summary.json")})
    answers["GetUserStatus"] = (200, fixture("user-status.json"))
    run = ready(
        plugin_env.probe("antigravity", source="local"), source="local", plan="Google AI Ultra"
    )
    assert run.metric("Session")["used"] == 37.0
    assert run.metric("Weekly")["periodDurationMs"] == WEEK_MS
    path, headers, body = seen[0]
    assert path == "/exa.language_server_pb.LanguageServerService/RetrieveUserQuotaSummary"
    assert headers["x-codeium-csrf-token"] == "csrf-fixture-1"
    assert headers["Connect-Protocol-Version"] == "1"
    assert json.loads(body) == {}
    assert plugin_env.web.requests == []  # nothing went to the internet
    plugin_env.assert_no_secrets(run, "csrf-fixture-1")


def test_local_language_server_legacy_status_in_auto(plugin_env, language_server):
    port, answers, _seen = language_server
    plugin_env.fake_command("secret-tool", "exit 1")
    fake_process(plugin_env, port)
    answers["GetUserStatus"] = (200, fixture("user-status.json"))
    run = plugin_env.probe(
        "antigravity"
    )  # no stored sign-in: auto falls back to the language server
    assert run.state == "ready", run.error
    assert run.json["source"] == "local"
    assert run.metric("Session")["used"] == 60.0
    assert run.metric("Claude")["used"] == 100.0  # a model without quotaInfo is fully used
    assert run.metric("Account")["value"] == "dev@example.com"


def test_local_mode_without_a_server(plugin_env):
    plugin_env.fake_command("ps", "echo ' 1 /sbin/init'")
    expect(plugin_env.probe("antigravity", source="local"), "missing-auth", "language server")


SESSION_BUCKET = ("groups", 0, "buckets", 1)
PRO_HIGH = ("models", "gemini-3-pro-high")
FIRST_CONFIG = ("userStatus", "cascadeModelConfigData", "clientModelConfigs", 0)


@pytest.mark.parametrize(
    ("name", "path", "plan", "labels"),
    [
        ("quota-summary.json", (*SESSION_BUCKET, "bucketId"), "Google AI Pro", ["Weekly"]),
        ("load-code-assist.json", ("paidTier", "name"), "Free", ["Session", "Weekly"]),
        ("fetch-available-models.json", (*PRO_HIGH, "displayName"), "Google AI Pro", ["Session"]),
        (
            "fetch-available-models.json",
            (*PRO_HIGH, "quotaInfo", "remainingFraction"),
            "Google AI Pro",
            ["Session"],
        ),
        ("user-status.json", ("userStatus", "email"), "Google AI Ultra", ["Session"]),
        ("user-status.json", ("userStatus", "userTier", "name"), "Ultra", ["Session"]),
        ("user-status.json", (*FIRST_CONFIG, "label"), "Google AI Ultra", []),
        (
            "user-status.json",
            (*FIRST_CONFIG, "modelOrAlias", "model"),
            "Google AI Ultra",
            ["Session"],
        ),
    ],
    ids=[
        "bucket-id",
        "paid-tier",
        "model-name",
        "model-fraction",
        "local-email",
        "local-tier",
        "local-label",
        "local-model",
    ],
)
def test_a_value_nested_thousands_deep_is_ignored(plugin_env, request, name, path, plan, labels):
    """Regression: String()/Number() of such an array overflowed the engine's stack."""
    body = deeply_nested(fixture(name), *path)
    if name == "user-status.json":  # the local language server
        port, answers, _seen = request.getfixturevalue("language_server")
        fake_process(plugin_env, port)
        answers["GetUserStatus"] = (200, body)
        run = ready(plugin_env.probe("antigravity", source="local"), plan=plan)
    else:
        write_db(plugin_env)
        answer_of = {
            n: json.dumps(fixture(n)) for n in ("quota-summary.json", "load-code-assist.json")
        }
        answer_of[name] = body
        if name == "fetch-available-models.json":
            for base in (DAILY, PROD):
                plugin_env.web.add("POST", f"{base}:retrieveUserQuotaSummary", status=404, json={})
            plugin_env.web.add("POST", f"{DAILY}:fetchAvailableModels", body=body)
        else:
            summary = answer_of["quota-summary.json"]
            plugin_env.web.add("POST", f"{DAILY}:retrieveUserQuotaSummary", body=summary)
        plugin_env.web.add(
            "POST", f"{DAILY}:loadCodeAssist", body=answer_of["load-code-assist.json"]
        )
        run = ready(plugin_env.probe("antigravity"), plan=plan)
    shown = [m["label"] for m in run.metrics if m["label"] in ("Session", "Weekly")]
    assert shown == labels
    assert run.has_metric("Account") is (path[-1] != "email")
