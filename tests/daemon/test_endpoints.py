"""Every endpoint, status code and header of SPEC §8 against one live daemon."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import FAST_JS, Daemon, moment, write_plugin

CONFIG = """
refreshSec = 60
[daemon]
corsOrigins = ["http://dash.example"]

[[providers]]
id = "beta"

[[providers]]
id = "alpha"
settings = { used = 40 }

[[providers]]
id = "alpha"
instanceId = "alpha-two"
displayName = "Alpha Two"
settings = { used = 80 }

[[providers]]
id = "mock"
enabled = false
"""
ORDER = ["beta", "alpha", "alpha-two"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("endpoints")
    home = root / "home"
    home.mkdir()
    plugins = root / "plugins"
    for plugin_id in ("alpha", "beta"):
        write_plugin(plugins, plugin_id, FAST_JS)
    config = root / "config.toml"
    config.write_text(CONFIG)
    running = Daemon(home, config, plugins).start()
    running.wait_for(lambda: len(running.usage()) == 3)
    yield running
    running.kill()


def assert_error(reply, status: int, code: str) -> None:
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_health(daemon: Daemon) -> None:
    reply = daemon.get("/health")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert set(body) == {"status", "version", "uptimeSec", "providers", "lastCycleAt"}
    assert body["status"] == "ok"
    assert body["providers"] == 3
    assert isinstance(body["uptimeSec"], int)
    assert body["lastCycleAt"].endswith("Z")


def test_providers_in_config_order(daemon: Daemon) -> None:
    reply = daemon.get("/v1/providers")
    assert reply.status == 200
    providers = reply.json()
    ids = [p["id"] for p in providers]
    assert ids[:3] == ["beta", "alpha", "mock"]
    by_id = {p["id"]: p for p in providers}
    assert by_id["alpha"]["enabled"] is True
    assert by_id["mock"]["enabled"] is False
    assert by_id["mock"]["dev"] is True
    # then the other discovered plugins by id (custom and invalid plugins come last)
    rest = [p["id"] for p in providers[3:] if "error" not in p and p["id"] != "custom"]
    assert rest == sorted(rest)


def test_usage_lists_enabled_instances_in_order(daemon: Daemon) -> None:
    reply = daemon.get("/v1/usage")
    assert reply.status == 200
    assert reply.headers["cache-control"] == "no-store"
    snaps = reply.json()
    assert [s["instanceId"] for s in snaps] == ORDER
    two = snaps[2]
    assert two["providerId"] == "alpha"
    assert two["displayName"] == "Alpha Two"
    assert two["metrics"][0]["used"] == 80.0
    for snap in snaps:
        assert snap["state"] == "ready"
        assert snap["stale"] is False
        assert snap["lastError"] is None
        assert snap["error"] is None
        assert "pace" in snap and "statusPageUrl" in snap
        assert snap["fetchedAt"].endswith("Z")


def test_usage_by_instance_or_provider_id(daemon: Daemon) -> None:
    assert daemon.get("/v1/usage/alpha-two").json()["instanceId"] == "alpha-two"
    # a provider id answers with its first enabled instance
    assert daemon.get("/v1/usage/alpha").json()["instanceId"] == "alpha"
    single = daemon.get("/v1/usage/beta")
    assert single.status == 200
    assert single.headers["cache-control"] == "no-store"
    assert isinstance(single.json(), dict)


def test_unknown_ids_and_paths_are_404(daemon: Daemon) -> None:
    assert_error(daemon.get("/v1/usage/nope"), 404, "not_found")
    assert_error(daemon.get("/v1/usage/mock"), 404, "not_found")  # disabled
    assert_error(daemon.get("/nope"), 404, "not_found")
    assert_error(daemon.get("/v1/usage/"), 404, "not_found")


def test_wrong_method_is_405_with_allow(daemon: Daemon) -> None:
    reply = daemon.request("DELETE", "/v1/usage")
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "GET, HEAD, OPTIONS"
    reply = daemon.get("/v1/refresh")
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "POST, OPTIONS"
    assert_error(daemon.request("PUT", "/health", body=b"x"), 405, "method_not_allowed")


def test_head_has_headers_but_no_body(daemon: Daemon) -> None:
    for path in (
        "/health",
        "/v1/usage",
        "/v1/usage/alpha",
        "/metrics",
        "/openapi.json",
        "/v1/providers",
    ):
        get = daemon.get(path)
        head = daemon.request("HEAD", path)
        assert head.status == 200
        assert head.body == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["cache-control"] == "no-store"
        if path not in ("/health",):  # uptime may tick between the two
            assert head.headers["content-length"] == get.headers["content-length"]


def test_refresh_queues_instances(daemon: Daemon) -> None:
    reply = daemon.request("POST", "/v1/refresh")
    assert reply.status == 202
    assert reply.headers["cache-control"] == "no-store"
    assert sorted(reply.json()["queued"]) == sorted(ORDER)
    # like a CLI id: an instanceId first, else every instance of that provider
    reply = daemon.request("POST", "/v1/refresh?provider=alpha")
    assert reply.status == 202
    assert reply.json() == {"queued": ["alpha"]}
    reply = daemon.request("POST", "/v1/refresh?provider=alpha-two", body=b"")
    assert reply.json() == {"queued": ["alpha-two"]}
    assert_error(daemon.request("POST", "/v1/refresh?provider=nope"), 404, "not_found")
    assert_error(daemon.request("POST", "/v1/refresh?provider=Not%20an%20id"), 400, "bad_request")


def test_refresh_true_waits_for_a_fresh_probe(daemon: Daemon) -> None:
    before = daemon.get("/v1/usage/beta").json()["fetchedAt"]
    after = daemon.get("/v1/usage/beta?refresh=true").json()["fetchedAt"]
    assert moment(after) > moment(before)
    listed = daemon.get("/v1/usage?refresh=true")
    assert listed.status == 200
    assert [s["instanceId"] for s in listed.json()] == ORDER
    assert all(moment(s["fetchedAt"]) > moment(before) for s in listed.json())
    assert_error(daemon.get("/v1/usage?refresh=maybe"), 400, "bad_request")
    assert_error(daemon.get("/v1/usage/beta?refresh=1"), 400, "bad_request")
    assert daemon.get("/v1/usage?refresh=false").status == 200


def test_metrics(daemon: Daemon) -> None:
    reply = daemon.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert reply.headers["cache-control"] == "no-store"
    text = reply.body.decode()
    labels = 'instance="alpha-two",provider="alpha",label="Quota",format="percent"'
    assert f"usagestat_metric_used{{{labels}}} 80.0" in text
    assert f"usagestat_metric_limit{{{labels}}} 100.0" in text
    assert f"usagestat_metric_ratio{{{labels}}} 0.8" in text
    assert 'usagestat_up{instance="beta",provider="beta"} 1' in text
    assert 'usagestat_probe_duration_seconds{instance="beta",provider="beta"}' in text
    assert 'usagestat_last_success_timestamp_seconds{instance="beta",provider="beta"}' in text
    assert "# TYPE usagestat_metric_used gauge" in text


def test_openapi_document(daemon: Daemon) -> None:
    reply = daemon.get("/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/health",
        "/v1/providers",
        "/v1/usage",
        "/v1/usage/{id}",
        "/v1/refresh",
        "/metrics",
        "/openapi.json",
    }
    assert doc["servers"][0]["url"] == f"http://127.0.0.1:{daemon.port}"
    assert "security" not in doc  # no token configured


def test_openapi_schemas_match_real_responses(daemon: Daemon) -> None:
    import jsonschema

    doc = daemon.get("/openapi.json").json()

    def check(instance: object, schema_name: str, array: bool = False) -> None:
        schema = {"$ref": f"#/components/schemas/{schema_name}"}
        if array:
            schema = {"type": "array", "items": schema}
        jsonschema.validate(instance, {**schema, "components": doc["components"]})

    check(daemon.get("/health").json(), "Health")
    check(daemon.get("/v1/usage").json(), "UsageSnapshot", array=True)
    check(daemon.get("/v1/usage/alpha").json(), "UsageSnapshot")
    check(daemon.get("/v1/providers").json(), "ProviderSummary", array=True)
    check(daemon.get("/v1/usage/nope").json(), "Error")


def test_dns_rebinding_hosts_are_refused(daemon: Daemon) -> None:
    port = daemon.port
    assert_error(
        daemon.get("/health", headers={"Host": f"evil.example:{port}"}), 403, "forbidden_host"
    )
    assert_error(daemon.get("/v1/usage", headers={"Host": "attacker.test"}), 403, "forbidden_host")
    assert_error(
        daemon.get("/health", headers={"Host": f"localhost:{port + 1}"}), 403, "forbidden_host"
    )
    assert daemon.get("/health", headers={"Host": f"localhost:{port}"}).status == 200
    assert daemon.get("/health", headers={"Host": f"127.0.0.1:{port}"}).status == 200
    # no port means port 80, which is not the one the daemon is bound to
    for host in ("localhost", "127.0.0.1"):
        assert_error(daemon.get("/health", headers={"Host": host}), 403, "forbidden_host")
    # HTTP/1.1 without Host is malformed
    raw = daemon.raw(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400 ")


def test_cors_only_for_configured_origins(daemon: Daemon) -> None:
    plain = daemon.get("/v1/usage")
    assert "access-control-allow-origin" not in plain.headers
    allowed = daemon.get("/v1/usage", headers={"Origin": "http://dash.example"})
    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == "http://dash.example"
    assert allowed.headers["vary"] == "Origin"
    other = daemon.get("/v1/usage", headers={"Origin": "http://evil.example"})
    assert_error(other, 403, "forbidden_host")
    assert "access-control-allow-origin" not in other.headers
    preflight = daemon.request(
        "OPTIONS",
        "/v1/refresh",
        headers={"Origin": "http://dash.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "http://dash.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["allow"] == "POST, OPTIONS"
    for reply in (plain, allowed, other, preflight):
        assert reply.headers.get("access-control-allow-origin") != "*"


def test_request_size_limits(daemon: Daemon) -> None:
    long_line = b"GET /health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
    reply = daemon.raw(long_line)
    assert reply.startswith(b"HTTP/1.1 414 "), reply[:100]
    assert b'"code":"bad_request"' in reply
    many = (
        b"GET /health HTTP/1.1\r\nHost: localhost\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(100))
        + b"\r\n"
    )
    reply = daemon.raw(many)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:100]
    huge_header = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n"
    assert daemon.raw(huge_header).startswith(b"HTTP/1.1 431 ")
    body = daemon.request("POST", "/v1/refresh", body=b"x" * 100_000)
    assert_error(body, 413, "payload_too_large")
    chunked = b"POST /v1/refresh HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert daemon.raw(chunked).startswith(b"HTTP/1.1 400 ")
    garbage = daemon.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ")


def test_keep_alive_and_http10(daemon: Daemon) -> None:
    conn = http.client.HTTPConnection(daemon.host, daemon.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/health")
            resp = conn.getresponse()
            assert resp.status == 200
            json.loads(resp.read())
    finally:
        conn.close()
    reply = daemon.raw(b"GET /health HTTP/1.0\r\n\r\n")  # the server closes: raw() returns
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in reply


def test_history_lines_are_appended(daemon: Daemon) -> None:
    history = Path(daemon.data_dir) / "history.jsonl"
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    assert {line["instanceId"] for line in lines} >= set(ORDER)
    assert all(line["ts"] == line["fetchedAt"] for line in lines)
