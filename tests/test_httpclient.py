"""The host HTTP client: exact requests, no redirects, caps, deadlines, proxies, TLS, redaction."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme
from fakeweb import FakeResponse, FakeWeb
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from usagestat.core import httpclient
from usagestat.core.httpclient import HttpError, HttpResponse, request

ROOT = Path(__file__).resolve().parents[1]
PROXY_VARS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUEST_METHOD",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own proxy or CA settings must not leak into these tests."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def raw_server(script: Callable[[socket.socket], None]) -> Iterator[int]:
    """A one-connection-at-a-time TCP server that reads a request head, then runs ``script``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    script(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        try:
            listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        listener.close()
        thread.join(2)


def _error(fn: Callable[[], object]) -> HttpError:
    with pytest.raises(HttpError) as info:
        fn()
    message = str(info.value)
    assert message.startswith("http request failed: ")
    assert "\n" not in message
    return info.value


# -- requests and responses ------------------------------------------------------------


def test_get_sends_headers_exactly_and_defaults(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/v1/usage", method="GET", query_string="a=1&b=two"
    ).respond_with_json({"ok": True})
    url = httpserver.url_for("/v1/usage") + "?a=1&b=two"
    resp = request(url, headers={"Authorization": "Bearer tok-123456", "X-Custom": "Value  kept"})
    assert isinstance(resp, HttpResponse)
    assert resp.status == 200 and resp.ok
    assert resp.json() == {"ok": True}
    assert resp.url == url
    assert resp.headers["content-type"] == "application/json"
    sent, _ = httpserver.log[0]
    assert sent.headers["Authorization"] == "Bearer tok-123456"
    assert sent.headers["X-Custom"] == "Value  kept"
    assert sent.headers["User-Agent"].startswith("usagestat/")
    assert sent.headers["Accept-Encoding"] == "gzip, deflate"


def test_caller_user_agent_and_accept_encoding_win(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("x")
    request(
        httpserver.url_for("/"), headers={"user-agent": "probe/2", "Accept-Encoding": "identity"}
    )
    sent, _ = httpserver.log[0]
    assert sent.headers["User-Agent"] == "probe/2"
    assert sent.headers["Accept-Encoding"] == "identity"
    assert len(sent.headers.getlist("User-Agent")) == 1


def test_post_body_sent_exactly(httpserver: HTTPServer) -> None:
    payload = b'{"grant_type":"refresh_token","x":"\xc3\xa9"}'
    httpserver.expect_request(
        "/token", method="POST", data=payload, headers={"Content-Type": "application/json"}
    ).respond_with_data("created", status=201)
    resp = request(
        httpserver.url_for("/token"),
        method="post",
        body=payload,
        headers={"Content-Type": "application/json"},
    )
    assert (resp.status, resp.body) == (201, b"created")
    sent, _ = httpserver.log[0]
    assert sent.headers["Content-Length"] == str(len(payload))


def test_post_without_body_sends_zero_length(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p", method="POST").respond_with_data("ok")
    assert request(httpserver.url_for("/p"), method="POST").status == 200
    assert httpserver.log[0][0].headers["Content-Length"] == "0"


def test_response_header_names_lowercased_and_repeats_joined(httpserver: HTTPServer) -> None:
    def handler(_req: Request) -> Response:
        resp = Response("x")
        resp.headers.add("X-Multi", "a")
        resp.headers.add("x-multi", "b")
        resp.headers.add("Set-Cookie", "s=1")
        return resp

    httpserver.expect_request("/h").respond_with_handler(handler)
    resp = request(httpserver.url_for("/h"))
    assert resp.headers["x-multi"] == "a, b"
    assert resp.headers["set-cookie"] == "s=1"
    assert all(name == name.lower() for name in resp.headers)


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_non_2xx_is_returned_not_raised(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/e").respond_with_json({"error": "nope"}, status=status)
    resp = request(httpserver.url_for("/e"))
    assert resp.status == status and not resp.ok
    assert resp.json() == {"error": "nope"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_returned_not_followed(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/from").respond_with_data(
        "", status=status, headers={"Location": "/login"}
    )
    httpserver.expect_request("/login").respond_with_data("followed!")
    resp = request(httpserver.url_for("/from"), headers={"Authorization": "Bearer abcdefgh1234"})
    assert resp.status == status and resp.is_redirect
    assert resp.headers["location"].endswith("/login")
    assert [r.path for r, _ in httpserver.log] == ["/from"]


def test_head_and_204(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/n", method="HEAD").respond_with_data("", status=200)
    httpserver.expect_request("/nc").respond_with_data("", status=204)
    assert request(httpserver.url_for("/n"), method="HEAD").body == b""
    assert request(httpserver.url_for("/nc")).status == 204


# -- bodies ------------------------------------------------------------------------------


def _deflate_raw(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _deflate_raw),
        ("gzip", lambda d: gzip.compress(d[:10]) + gzip.compress(d[10:])),  # two members
    ],
)
def test_compressed_bodies_are_decoded(
    httpserver: HTTPServer, coding: str, encode: Callable[[bytes], bytes]
) -> None:
    plain = json.dumps({"used": list(range(500))}).encode()
    httpserver.expect_request("/z").respond_with_data(
        encode(plain), headers={"Content-Encoding": coding, "Content-Type": "application/json"}
    )
    resp = request(httpserver.url_for("/z"))
    assert resp.body == plain
    assert "content-encoding" not in resp.headers
    assert resp.headers["content-length"] == str(len(plain))


def test_unknown_content_encoding_is_left_alone(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(
        b"\x01\x02", headers={"Content-Encoding": "br"}
    )
    resp = request(httpserver.url_for("/br"), headers={"Accept-Encoding": "br"})
    assert resp.body == b"\x01\x02" and resp.headers["content-encoding"] == "br"


def test_corrupt_gzip_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bad").respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    assert "could not decode the gzip" in str(_error(lambda: request(httpserver.url_for("/bad"))))
    httpserver.expect_request("/trunc").respond_with_data(
        gzip.compress(b"x" * 1000)[:-12], headers={"Content-Encoding": "gzip"}
    )
    err = _error(lambda: request(httpserver.url_for("/trunc")))
    assert "truncated gzip" in str(err)


def test_body_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"a" * 2000)
    assert len(request(httpserver.url_for("/big"), max_body=2000).body) == 2000
    err = _error(lambda: request(httpserver.url_for("/big"), max_body=1999))
    assert str(err) == "http request failed: response body larger than 1999 bytes"
    assert err.kind == "too_large"


def test_body_cap_in_mib_without_content_length() -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(3):
            conn.sendall(b"b" * (512 * 1024))

    with raw_server(script) as port:
        err = _error(lambda: request(f"http://127.0.0.1:{port}/", max_body=1024 * 1024))
    assert str(err) == "http request failed: response body larger than 1 MiB"


def test_gzip_bomb_is_capped_while_decoding(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * (16 * 1024 * 1024))  # 16 KiB on the wire
    assert len(bomb) < 32 * 1024
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    started = time.monotonic()
    err = _error(lambda: request(httpserver.url_for("/bomb")))
    assert "response body larger than 8 MiB" in str(err)
    assert time.monotonic() - started < 2


def test_short_body_is_an_error() -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    with raw_server(script) as port:
        err = _error(lambda: request(f"http://127.0.0.1:{port}/"))
    assert "closed before the body was complete" in str(err)


# -- deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_overall_timeout_with_slow_drip_server(phase: str) -> None:
    def script(conn: socket.socket) -> None:
        if phase == "body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            drip = b"x" * 1000
        else:
            drip = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000
        for byte in drip:
            conn.sendall(bytes([byte]))
            time.sleep(0.1)

    with raw_server(script) as port:
        started = time.monotonic()
        err = _error(lambda: request(f"http://127.0.0.1:{port}/", timeout=0.6))
        elapsed = time.monotonic() - started
    assert str(err) == "http request failed: timed out after 0.6s"
    assert err.kind == "timeout"
    assert elapsed < 0.6 + 3  # the drip itself would take 100 s


def test_timeout_on_a_silent_server_via_fakeweb(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    fakeweb.add("GET", "https://slow.example.com/", json={}, delay=3)
    started = time.monotonic()
    err = _error(
        lambda: request("https://slow.example.com/", timeout=0.5, ca_bundle=fakeweb.ca_path)
    )
    assert "timed out after 0.5s" in str(err)
    assert time.monotonic() - started < 1.0


# -- connection failures ---------------------------------------------------------------


def test_connection_refused_message() -> None:
    port = _free_port()
    err = _error(lambda: request(f"http://127.0.0.1:{port}/x?key=abcdefghijkl"))
    assert str(err) == f"http request failed: connection refused by 127.0.0.1:{port}"
    assert err.kind == "refused"


def test_dns_failure_message() -> None:
    err = _error(lambda: request("https://no-such-host.invalid/v1/usage?key=AIzaSecret12345"))
    assert "could not resolve host no-such-host.invalid" in str(err)
    assert "AIzaSecret12345" not in str(err) and "/v1/usage" not in str(err)
    assert err.kind == "dns"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/x", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("example.com/x", "malformed URL (no http:// or https:// scheme)"),
        ("https://", "malformed URL (no host)"),
        ("http://example.com:99999/", "malformed URL"),
        ("http://exa mple.com/", "malformed URL"),
        ("http://example.com/\r\nX: y", "malformed URL"),
        ("http://[::1/", "malformed URL"),
    ],
)
def test_bad_urls(url: str, fragment: str) -> None:
    err = _error(lambda: request(url))
    assert fragment in str(err) and err.kind == "invalid"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "v\r\nX-Injected: 1"},
        {"X-A": "v\nX-Injected: 1"},
        {"X-A": "v\rX"},
        {"X-A\r\nX-Injected": "1"},
        {"Bad Name": "1"},
        {"X-Colon:": "1"},
        {"": "1"},
    ],
)
def test_header_injection_is_rejected(httpserver: HTTPServer, headers: dict[str, str]) -> None:
    err = _error(lambda: request(httpserver.url_for("/"), headers=headers))
    assert err.kind == "invalid"
    assert "Injected" not in str(err)
    assert httpserver.log == []


@pytest.mark.parametrize("method", ["GET /x", "GE\r\nT", "", "G;T"])
def test_bad_method_is_rejected(method: str) -> None:
    assert _error(lambda: request("http://127.0.0.1:9/", method=method)).kind == "invalid"


# -- proxies -----------------------------------------------------------------------------


def test_plain_http_through_proxy_with_credentials(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.add("POST", "http://api.example.com/v1/q", json={"via": "proxy"}, query={"a": "1"})
    monkeypatch.setenv("http_proxy", f"http://us%40er:p%3Ass@127.0.0.1:{fakeweb.port}")
    resp = request("http://api.example.com/v1/q?a=1&b=2", method="POST", body=b"hi")
    assert resp.json() == {"via": "proxy"}
    (seen,) = fakeweb.requests
    assert (seen.method, seen.host, seen.path, seen.body) == (
        "POST",
        "api.example.com",
        "/v1/q",
        b"hi",
    )
    assert seen.url == "http://api.example.com/v1/q?a=1&b=2"
    assert seen.query == {"a": "1", "b": "2"}
    expected = "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert seen.headers["proxy-authorization"] == expected
    assert seen.headers["host"] == "api.example.com"


def test_https_through_connect_proxy_with_ca_bundle(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    fakeweb.add(
        "GET", "https://api.anthropic.com/api/oauth/usage", json={"five_hour": {"utilization": 7}}
    )
    resp = request(
        "https://api.anthropic.com/api/oauth/usage",
        headers={
            "Authorization": "Bearer sk-ant-oat01-abcdef",
            "anthropic-beta": "oauth-2025-04-20",
        },
        ca_bundle=fakeweb.ca_path,
    )
    assert resp.status == 200 and resp.json()["five_hour"]["utilization"] == 7
    (seen,) = fakeweb.requests
    assert seen.scheme == "https" and seen.port == 443
    assert seen.headers["authorization"] == "Bearer sk-ant-oat01-abcdef"
    assert seen.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert "proxy-authorization" not in seen.headers


def test_https_without_the_ca_fails_verification(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    fakeweb.add("GET", "https://api.example.com/", json={})
    err = _error(lambda: request("https://api.example.com/"))
    assert "certificate verify failed" in str(err) and "api.example.com" in str(err)
    assert err.kind == "tls"
    assert fakeweb.requests == []


def test_ssl_cert_file_is_honoured(fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenSSL reads SSL_CERT_FILE each time a default context loads its paths, and
    # os.environ writes through to the C environment, so no subprocess is needed.
    fakeweb.apply_env(monkeypatch)
    fakeweb.add("GET", "https://api.example.com/", body="trusted")
    _error(lambda: request("https://api.example.com/"))
    monkeypatch.setenv("SSL_CERT_FILE", fakeweb.ca_path)
    assert request("https://api.example.com/").body == b"trusted"


def test_ca_bundle_adds_to_system_store_and_bad_bundle_errors(tmp_path: Path) -> None:
    ctx = httpclient._context(None, True)
    base = ctx.cert_store_stats()["x509_ca"]
    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    with_bundle = httpclient._context(str(pem), True)
    assert with_bundle.cert_store_stats()["x509_ca"] == base + 1
    assert with_bundle.minimum_version == ssl.TLSVersion.TLSv1_2
    assert with_bundle.verify_mode == ssl.CERT_REQUIRED and with_bundle.check_hostname
    missing = tmp_path / "missing.pem"
    err = _error(lambda: request("https://127.0.0.2:9/", ca_bundle=str(missing)))
    assert "CA bundle" in str(err)


def test_proxy_refusing_connect_is_reported_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def script(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
            b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"
        )

    with raw_server(script) as port:
        monkeypatch.setenv("HTTPS_PROXY", f"http://alice:hunter2hunter2@127.0.0.1:{port}")
        err = _error(
            lambda: request(
                "https://api.example.com/v1?key=sekritkey123",
                headers={"Authorization": "Bearer zzzzzzzzzzzz"},
            )
        )
    text = str(err)
    assert "407" in text and f"127.0.0.1:{port}" in text and "api.example.com" in text
    assert err.kind == "proxy"
    for secret in ("hunter2hunter2", "alice:", "sekritkey123", "zzzzzzzzzzzz"):
        assert secret not in text


def test_unreachable_proxy_message_has_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:pa55w0rd-xyz@127.0.0.1:{port}")
    err = _error(lambda: request("https://api.example.com/"))
    assert "connection refused" in str(err) and f"proxy 127.0.0.1:{port}" in str(err)
    assert "pa55w0rd-xyz" not in str(err) and "bob" not in str(err)


def test_unsupported_proxy_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://u:supersecret99@127.0.0.1:1080")
    err = _error(lambda: request("https://api.example.com/"))
    assert "unsupported proxy scheme 'socks5'" in str(err)
    assert "supersecret99" not in str(err)


def test_no_proxy_bypasses_the_proxy(fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    fakeweb.apply_env(monkeypatch)
    # Through the proxy the fake answers 404 for an unknown route...
    assert request("http://host.invalid/").status == 404
    # ...while NO_PROXY makes the client go direct, where the name does not resolve.
    monkeypatch.setenv("NO_PROXY", "example.org, .invalid")
    err = _error(lambda: request("http://host.invalid/"))
    assert "could not resolve host host.invalid" in str(err)
    assert len(fakeweb.requests) == 1


def test_all_proxy_is_a_fallback(fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", fakeweb.proxy_url)
    fakeweb.add("GET", "http://example.com/", body="ok")
    assert request("http://example.com/").body == b"ok"


def test_loopback_never_uses_the_proxy(
    fakeweb: FakeWeb, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    httpserver.expect_request("/local").respond_with_data("direct")
    assert request(httpserver.url_for("/local")).body == b"direct"
    assert fakeweb.requests == []


class _T:
    def __init__(self, host: str, port: int = 443) -> None:
        self.host, self.port = host, port


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypass"),
    [
        ("*", "api.example.com", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        (".example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        ("*.example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        ("example.com", "example.com.evil.net", 443, False),
        (" other.org , EXAMPLE.com ", "api.example.com", 443, True),
        ("example.com:8443", "example.com", 443, False),
        ("example.com:8443", "example.com", 8443, True),
        ("10.1.2.3", "10.1.2.3", 443, True),
        ("10.1.2.3", "10.1.2.4", 443, False),
        ("10.0.0.0/8", "10.9.8.7", 443, True),
        ("10.0.0.0/8", "11.0.0.1", 443, False),
        ("10.1.2.3:80", "10.1.2.3", 80, True),
        ("10.1.2.3:80", "10.1.2.3", 443, False),
        ("::2", "::2", 443, True),
        ("[2001:db8::1]:443", "2001:db8::1", 443, True),
        ("[2001:db8::1]:443", "2001:db8::1", 8443, False),
        ("", "example.com", 443, False),
        (",,", "example.com", 443, False),
    ],
)
def test_no_proxy_rules(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, host: str, port: int, bypass: bool
) -> None:
    monkeypatch.setenv("no_proxy", no_proxy)
    assert httpclient._no_proxy(_T(host, port)) is bypass  # type: ignore[arg-type]


def test_lowercase_proxy_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:1")
    monkeypatch.setenv("https_proxy", "http://lower:2")
    proxy = httpclient._proxy_for(httpclient._parse_url("https://x.example/"))
    assert proxy is not None and (proxy.host, proxy.port) == ("lower", 2)
    monkeypatch.setenv("https_proxy", "")
    assert httpclient._proxy_for(httpclient._parse_url("https://x.example/")) is None


# -- TLS on loopback ------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def local_tls_server(self_signed: trustme.CA) -> Iterator[HTTPServer]:
    """A language-server-like https endpoint on 127.0.0.1 with an untrusted, misnamed cert."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    self_signed.issue_cert("language-server.local").configure_cert(ctx)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_self_signed_https_works_without_ca(
    local_tls_server: HTTPServer, host: str
) -> None:
    local_tls_server.clear()
    local_tls_server.expect_request("/status").respond_with_json({"up": True})
    resp = request(f"https://{host}:{local_tls_server.port}/status")
    assert resp.json() == {"up": True}


def test_same_cert_for_a_remote_name_fails(
    self_signed: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake web whose CA nobody trusts: the loopback exception must not extend to it.
    with FakeWeb(ca=self_signed) as web:
        web.apply_env(monkeypatch)
        web.add("GET", "https://language-server.local/status", json={"up": True})
        err = _error(lambda: request("https://language-server.local/status"))
        assert "certificate verify failed for language-server.local" in str(err)
        assert request("https://language-server.local/status", ca_bundle=web.ca_path).status == 200


def test_https_to_an_ip_literal_checks_ip_sans(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 192.0.2.0/24 is a documentation range: the only traffic goes to the fake proxy.
    monkeypatch.setenv("HTTPS_PROXY", f"http://carol:tunnelpass@127.0.0.1:{fakeweb.port}")
    fakeweb.add("GET", "https://192.0.2.10:8443/ip", body="by ip")
    assert request("https://192.0.2.10:8443/ip", ca_bundle=fakeweb.ca_path).body == b"by ip"
    err = _error(lambda: request("https://192.0.2.10:8443/ip"))
    assert "certificate verify failed for 192.0.2.10" in str(err)
    host, port, headers = fakeweb.connects[0]
    assert (host, port) == ("192.0.2.10", 8443)
    assert (
        headers["proxy-authorization"] == "Basic " + base64.b64encode(b"carol:tunnelpass").decode()
    )
    assert "proxy-authorization" not in fakeweb.requests[0].headers


def test_loopback_names() -> None:
    assert httpclient._is_loopback_name("127.8.9.10")
    assert httpclient._is_loopback_name("::1") and httpclient._is_loopback_name("::ffff:127.0.0.1")
    assert httpclient._is_loopback_name("foo.localhost")
    assert not httpclient._is_loopback_name("localhost.example.com")
    assert not httpclient._is_loopback_name("10.0.0.1")


# -- secrets -------------------------------------------------------------------------------


def test_secrets_never_appear_in_errors() -> None:
    secret = "s3cr3t-value-42"
    cases = [
        lambda: request(f"https://{secret}.invalid/", secrets=[secret]),
        lambda: request(f"http://127.0.0.1:{_free_port()}/?key={secret}", secrets=[secret]),
        lambda: request("http://127.0.0.1:9/", headers={"X-Api-Key": secret}, method="G T"),
        lambda: request("http://127.0.0.1:9/", headers={"X-Api-Key": secret + "\r\n"}),
        lambda: request(f"http://user:{secret}@{secret}.invalid/"),
        lambda: request(
            f"https://{secret}.invalid/", headers={"Authorization": f"Bearer {secret}"}
        ),
    ]
    for case in cases:
        text = str(_error(case))
        assert secret not in text, text
        assert "s3cr3t" not in text, text


def test_public_header_values_do_not_blank_the_host() -> None:
    err = _error(lambda: request("http://api.invalid/", headers={"Host": "api.invalid"}))
    assert "could not resolve host api.invalid" in str(err)


def test_errors_are_scrubbed_of_header_values_on_timeout() -> None:
    def script(conn: socket.socket) -> None:
        time.sleep(0.4)

    with raw_server(script) as port:
        err = _error(
            lambda: request(
                f"http://127.0.0.1:{port}/",
                headers={"Cookie": "session=abcdef123456"},
                timeout=0.2,
            )
        )
    assert "abcdef123456" not in str(err)


# -- start-up cost ---------------------------------------------------------------------


def test_import_does_not_load_network_modules() -> None:
    code = (
        "import sys; before = set(sys.modules); import usagestat.core.httpclient; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "usagestat.core.httpclient" in out
    heavy = {
        "ssl",
        "_ssl",
        "socket",
        "http.client",
        "urllib.request",
        "urllib.parse",
        "zlib",
        "email",
    }
    assert heavy.isdisjoint(out), sorted(heavy & set(out))


# -- the fake web itself ---------------------------------------------------------------


def test_fakeweb_routes_precedence_times_and_recording(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    url = "https://auth.example.com/oauth/token"
    fakeweb.add("POST", url, json={"access_token": "new"})
    expiring = fakeweb.add("POST", url, status=401, json={"error": "expired"}, times=1)
    first = request(url, method="POST", body=b'{"a":1}', ca_bundle=fakeweb.ca_path)
    second = request(url, method="POST", body=b'{"a":2}', ca_bundle=fakeweb.ca_path)
    assert (first.status, second.status) == (401, 200)
    assert second.json() == {"access_token": "new"}
    assert expiring.hits == 1 and expiring.exhausted
    assert [r.json() for r in fakeweb.requests] == [{"a": 1}, {"a": 2}]
    assert len(fakeweb.requests_to(url, "POST")) == 2

    fakeweb.add("GET", "https://q.example.com/v1", body="two", query={"page": 2})
    fakeweb.add("GET", "https://q.example.com/v1?page=3", body="three")
    assert request("https://q.example.com/v1?page=2&x=y", ca_bundle=fakeweb.ca_path).body == b"two"
    assert request("https://q.example.com/v1?page=3", ca_bundle=fakeweb.ca_path).body == b"three"
    missing = request("https://q.example.com/v1?page=1", ca_bundle=fakeweb.ca_path)
    assert missing.status == 404
    assert missing.json() == {"error": "no fake route for GET https://q.example.com/v1?page=1"}
    assert [r.url for r in fakeweb.unmatched] == ["https://q.example.com/v1?page=1"]


def test_fakeweb_handlers_and_non_default_ports(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)

    def echo(req: object) -> tuple[int, dict[str, str], bytes]:
        return 202, {"X-Path": req.path}, req.body[::-1]  # type: ignore[attr-defined]

    fakeweb.add_handler("PUT", "https://api.example.com:8443/echo", echo)
    fakeweb.add_handler(
        "GET",
        "http://plain.example.com:8080/r",
        lambda req: FakeResponse(200, json={"q": req.query}),
    )
    resp = request(
        "https://api.example.com:8443/echo", method="PUT", body=b"abc", ca_bundle=fakeweb.ca_path
    )
    assert (resp.status, resp.headers["x-path"], resp.body) == (202, "/echo", b"cba")
    assert request("http://plain.example.com:8080/r?k=v").json() == {"q": {"k": "v"}}

    fakeweb.add_handler("GET", "https://api.example.com/boom", lambda req: 1 / 0)
    assert request("https://api.example.com/boom", ca_bundle=fakeweb.ca_path).status == 500
    assert any("ZeroDivisionError" in e for e in fakeweb.errors)


def test_fakeweb_serves_many_concurrent_delayed_requests(
    fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakeweb.apply_env(monkeypatch)
    fakeweb.add("GET", "https://api.example.com/slow", json={"ok": 1}, delay=1.0)
    fakeweb.add("GET", "http://api.example.com/slow", json={"ok": 2}, delay=1.0)

    def one(i: int) -> int:
        scheme = "https" if i % 2 else "http"
        return request(f"{scheme}://api.example.com/slow?i={i}", ca_bundle=fakeweb.ca_path).status

    started = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(one, range(40)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 40
    assert elapsed < 10, elapsed  # one after another would take 40 s
    assert len(fakeweb.requests) == 40


def test_fakeweb_survives_malformed_requests_and_disconnects(fakeweb: FakeWeb) -> None:
    def raw(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", fakeweb.port), timeout=3) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := s.recv(4096):
                out += chunk
            return out

    assert raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(b"CONNECT nonsense:port HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(b"GET http://x.example/ HTTP/1.1\r\nHost: x") == b""  # cut mid-headers
    assert raw(b"CONNECT a.example:443 HTTP/1.1\r\n\r\n\x16\x03garbage").startswith(b"HTTP/1.1")
    # A client that tunnels and then hangs up, and one that never speaks.
    idle = socket.create_connection(("127.0.0.1", fakeweb.port))
    with socket.create_connection(("127.0.0.1", fakeweb.port)) as s:
        s.sendall(b"CONNECT a.example:443 HTTP/1.1\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
    fakeweb.add("GET", "http://x.example/", body="still fine")
    with socket.create_connection(("127.0.0.1", fakeweb.port), timeout=3) as s:
        s.sendall(b"GET http://x.example/ HTTP/1.1\r\nHost: x.example\r\nConnection: close\r\n\r\n")
        assert b"still fine" in s.recv(4096)
    started = time.monotonic()
    fakeweb.stop()  # with an idle connection still open
    assert time.monotonic() - started < 1
    idle.close()


def test_fakeweb_keep_alive_and_chunked_request_body(fakeweb: FakeWeb) -> None:
    fakeweb.add("POST", "http://k.example/a", body="A")
    fakeweb.add("GET", "http://k.example/b", body="B")
    with socket.create_connection(("127.0.0.1", fakeweb.port), timeout=3) as s:
        s.sendall(
            b"POST http://k.example/a HTTP/1.1\r\nHost: k.example\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            b"GET http://k.example/b HTTP/1.1\r\nHost: k.example\r\nConnection: close\r\n\r\n"
        )
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    assert out.count(b"HTTP/1.1 200") == 2 and out.endswith(b"B")
    assert fakeweb.requests[0].body == b"abcde"
    assert fakeweb.env()["NO_PROXY"] == "" and fakeweb.env()["https_proxy"] == fakeweb.proxy_url
