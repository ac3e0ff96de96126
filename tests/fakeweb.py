"""A fake internet for tests: a MITM forward proxy that serves canned routes.

Provider plugins must be tested against their real URLs (``https://api.anthropic.com/...``)
without touching the network. Point ``HTTPS_PROXY``/``HTTP_PROXY`` at a :class:`FakeWeb`
(``web.env()`` or ``web.apply_env(monkeypatch)``) and pass ``web.ca_path`` as the CA
bundle: CONNECT tunnels are answered with TLS certificates minted on demand for the
requested host by a trustme CA, and plain-HTTP proxy requests are served directly.

Example::

    def test_usage(fakeweb, monkeypatch):
        fakeweb.apply_env(monkeypatch)
        fakeweb.add("GET", "https://api.example.com/v1/usage", json={"used": 3})
        fakeweb.add("POST", "https://auth.example.com/token", status=401, times=1)
        fakeweb.add("POST", "https://auth.example.com/token", json={"access_token": "x"})
        ...  # run the code under test with ca_bundle=fakeweb.ca_path
        assert fakeweb.requests[0].headers["authorization"] == "Bearer t"
        assert not fakeweb.unmatched

Routes match on method, scheme, host, port and path (plus an optional ``query``
subset); the route added last wins, and ``times=N`` retires a route after N hits,
so "401 first, then 200" is two ``add`` calls.
"""

from __future__ import annotations

import json as _json
import os
import socket
import ssl
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import trustme

__all__ = ["FakeRequest", "FakeResponse", "FakeWeb", "Route", "fakeweb", "fakeweb_ca"]

_UNSET: Any = object()
_MAX_LINE = 64 * 1024
_MAX_HEADERS = 200
_IDLE_TIMEOUT = 30.0

# trustme CA -> {host: server SSLContext}; minting a leaf certificate costs milliseconds,
# and the same few hosts recur in every test.
_CONTEXTS: weakref.WeakKeyDictionary[trustme.CA, dict[str, ssl.SSLContext]] = (
    weakref.WeakKeyDictionary()
)
_CONTEXTS_LOCK = threading.Lock()


@dataclass
class FakeRequest:
    """One request as the fake server saw it."""

    method: str
    url: str  # full URL, query included
    host: str
    path: str  # without the query
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]  # lower-case names; repeats joined with ", "
    body: bytes
    scheme: str = "https"
    port: int = 443

    def json(self) -> Any:
        return _json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class FakeResponse:
    """What a route answers; ``json`` (when given) replaces ``body``."""

    status: int = 200
    headers: Mapping[str, str] | None = None
    body: bytes | str = b""
    json: Any = _UNSET
    delay: float = 0.0


Handler = Callable[[FakeRequest], Any]


@dataclass
class Route:
    """A registered route; ``hits`` and ``requests`` record what it served."""

    method: str  # upper case, or "*" for any
    scheme: str
    host: str
    port: int
    path: str
    query: dict[str, str] | None
    handler: Handler
    times: int | None = None
    hits: int = 0
    requests: list[FakeRequest] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, req: FakeRequest) -> bool:
        if self.method not in ("*", req.method):
            return False
        if (self.scheme, self.host, self.port, self.path) != (
            req.scheme,
            req.host,
            req.port,
            req.path,
        ):
            return False
        return not self.query or all(req.query.get(k) == v for k, v in self.query.items())


class _BadRequest(Exception):
    pass


class _Reader:
    """Line/length reads over a socket with our own buffer, so that after a CONNECT
    we know no client bytes are stuck in a buffer the TLS layer cannot see."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def readline(self) -> bytes:
        while True:
            idx = self.buf.find(b"\n")
            if idx >= 0:
                line = bytes(self.buf[: idx + 1])
                del self.buf[: idx + 1]
                return line
            if len(self.buf) > _MAX_LINE:
                raise _BadRequest("line too long")
            if not self._fill():
                if self.buf:
                    raise _BadRequest("connection closed mid-line")
                return b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _BadRequest("connection closed mid-body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


def _split_hostport(text: str, default_port: int) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    else:
        host, port = text, default_port
    if not host or not 0 < port < 65536:
        raise ValueError(text)
    return host.lower(), port


def _parse_route_url(url: str) -> tuple[str, str, int, str, dict[str, str]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"route URL must be absolute http(s): {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return scheme, parts.hostname.lower(), port, parts.path or "/", query


def _url(scheme: str, host: str, port: int, target: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port != (443 if scheme == "https" else 80):
        shown += f":{port}"
    return f"{scheme}://{shown}{target}"


class FakeWeb:
    """A threaded MITM forward proxy on 127.0.0.1 serving registered routes."""

    def __init__(self, ca: trustme.CA | None = None, ca_path: str | None = None) -> None:
        self.ca = ca or trustme.CA()
        self._own_ca_file = ca_path is None
        if ca_path is None:
            fd, ca_path = tempfile.mkstemp(prefix="fakeweb-ca-", suffix=".pem")
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.ca.cert_pem.bytes())
        elif not os.path.exists(ca_path):
            self.ca.cert_pem.write_to_path(ca_path)
        self.ca_path: str = ca_path
        self.requests: list[FakeRequest] = []
        self.unmatched: list[FakeRequest] = []
        self.errors: list[str] = []  # server-side problems (bad requests, TLS failures)
        # CONNECT requests seen: (host, port, lower-cased headers), e.g. to check proxy auth.
        self.connects: list[tuple[str, int, dict[str, str]]] = []
        self._routes: list[Route] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeWeb:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(256)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._accept_loop, name="fakeweb-accept", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close everything; never blocks for long (all threads are daemons)."""
        self._stopping.set()
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                # The base-class shutdown wakes a thread blocked in recv, TLS or not.
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(2.0)
        if self._own_ca_file:
            try:
                os.unlink(self.ca_path)
            except OSError:
                pass

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables that send all HTTP(S) traffic through this proxy."""
        url = self.proxy_url
        return {
            "HTTPS_PROXY": url,
            "HTTP_PROXY": url,
            "https_proxy": url,
            "http_proxy": url,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def apply_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set :meth:`env` for the current test (undone by monkeypatch)."""
        for key, value in self.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("ALL_PROXY", raising=False)
        monkeypatch.delenv("all_proxy", raising=False)

    # -- routes --------------------------------------------------------------------------
    def add(
        self,
        method: str,
        url: str,
        *,
        status: int = 200,
        json: Any = _UNSET,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Route:
        """Answer ``method url`` with a canned response (``json`` is serialised)."""
        response = FakeResponse(status, dict(headers or {}), body or b"", json, delay)
        return self.add_handler(method, url, lambda _req: response, times=times, query=query)

    def add_handler(
        self,
        method: str,
        url: str,
        fn: Handler,
        *,
        times: int | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Route:
        """Answer with ``fn(FakeRequest)`` -> FakeResponse, (status, headers, body) or (status, body)."""
        scheme, host, port, path, url_query = _parse_route_url(url)
        wanted = {**url_query, **{k: str(v) for k, v in (query or {}).items()}}
        route = Route(method.upper(), scheme, host, port, path, wanted or None, fn, times)
        with self._lock:
            self._routes.append(route)
        return route

    def reset(self) -> None:
        """Forget routes and recorded requests."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()
            self.unmatched.clear()
            self.errors.clear()
            self.connects.clear()

    def requests_to(self, url: str, method: str | None = None) -> list[FakeRequest]:
        """Recorded requests whose scheme, host, port and path match ``url``."""
        scheme, host, port, path, _ = _parse_route_url(url)
        return [
            r
            for r in list(self.requests)
            if (r.scheme, r.host, r.port, r.path) == (scheme, host, port, path)
            and (method is None or r.method == method.upper())
        ]

    def _route(self, req: FakeRequest) -> Route | None:
        with self._lock:
            self.requests.append(req)
            for route in reversed(self._routes):
                if not route.exhausted and route.matches(req):
                    route.hits += 1
                    route.requests.append(req)
                    return route
            self.unmatched.append(req)
            return None

    # -- serving -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                continue
            conn.settimeout(_IDLE_TIMEOUT)
            threading.Thread(
                target=self._serve_connection, args=(conn,), name="fakeweb-conn", daemon=True
            ).start()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(sock)
        if add and self._stopping.is_set():
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve_connection(self, conn: socket.socket) -> None:
        sock: socket.socket = conn
        self._track(sock, True)
        try:
            reader = _Reader(sock)
            tunnel: tuple[str, int] | None = None
            while not self._stopping.is_set():
                head = self._read_head(reader, sock)
                if head is None:
                    return
                method, target, version, headers = head
                if method == "CONNECT" and tunnel is None:
                    try:
                        tunnel = _split_hostport(target, 443)
                    except ValueError:
                        self._send_simple(sock, 400, "bad CONNECT target")
                        return
                    with self._lock:
                        self.connects.append((*tunnel, dict(headers)))
                    if reader.buf:  # the client did not wait for our 200
                        self._send_simple(sock, 400, "data sent before CONNECT was answered")
                        return
                    sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    tls = self._server_context(tunnel[0]).wrap_socket(sock, server_side=True)
                    self._track(sock, False)
                    sock = tls
                    self._track(sock, True)
                    reader = _Reader(sock)
                    continue
                keep_alive = self._serve_request(
                    sock, reader, method, target, version, headers, tunnel
                )
                if not keep_alive:
                    return
        except Exception as exc:  # one bad client must not disturb the others
            if not self._stopping.is_set():
                self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._track(sock, False)
            try:
                sock.close()
            except OSError:
                pass

    def _read_head(
        self, reader: _Reader, sock: socket.socket
    ) -> tuple[str, str, str, list[tuple[str, str]]] | None:
        line = reader.readline()
        while line in (b"\r\n", b"\n"):  # tolerated between keep-alive requests
            line = reader.readline()
        if not line:
            return None
        parts = line.decode("latin-1").strip().split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
            self._send_simple(sock, 400, "malformed request line")
            raise _BadRequest("malformed request line")
        headers: list[tuple[str, str]] = []
        while True:
            raw = reader.readline()
            if raw in (b"\r\n", b"\n"):
                break
            if not raw or len(headers) >= _MAX_HEADERS:
                self._send_simple(sock, 400, "bad headers")
                raise _BadRequest("truncated or oversized header block")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                self._send_simple(sock, 400, "malformed header")
                raise _BadRequest("malformed header line")
            headers.append((name.lower(), value.strip()))
        return parts[0].upper(), parts[1], parts[2], headers

    def _read_body(self, sock: socket.socket, reader: _Reader, headers: dict[str, str]) -> bytes:
        if headers.get("expect", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                size_line = reader.readline().split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _BadRequest("bad chunk size")
                if size == 0:
                    while reader.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out)
                out += reader.read(size)
                reader.readline()
        length = headers.get("content-length", "0").strip() or "0"
        if not length.isdigit():
            raise _BadRequest("bad content-length")
        return reader.read(int(length))

    def _serve_request(
        self,
        sock: socket.socket,
        reader: _Reader,
        method: str,
        target: str,
        version: str,
        header_list: list[tuple[str, str]],
        tunnel: tuple[str, int] | None,
    ) -> bool:
        headers: dict[str, str] = {}
        for name, value in header_list:
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body = self._read_body(sock, reader, headers)
        if tunnel is not None:
            scheme, (host, port), path_query = "https", tunnel, target
        elif target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            scheme = parts.scheme
            host, port = (parts.hostname or "").lower(), parts.port or 80
            path_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        else:  # origin-form straight to the proxy port: treat it as a plain server
            scheme, path_query = "http", target
            host, port = _split_hostport(headers.get("host", f"127.0.0.1:{self.port}"), 80)
        path, _, query_text = path_query.partition("?")
        query: dict[str, str] = {}
        for key, value in parse_qsl(query_text, keep_blank_values=True):
            query.setdefault(key, value)
        req = FakeRequest(
            method=method,
            url=_url(scheme, host, port, path_query),
            host=host,
            path=path or "/",
            query=query,
            headers=headers,
            body=body,
            scheme=scheme,
            port=port,
        )
        route = self._route(req)
        if route is None:
            response = FakeResponse(
                404,
                {"Content-Type": "application/json"},
                _json.dumps(
                    {"error": f"no fake route for {method} {req.url}"}, separators=(",", ":")
                ),
            )
        else:
            try:
                response = self._coerce(route.handler(req))
            except Exception as exc:  # a broken test handler should show, not hang
                self.errors.append(f"handler for {method} {req.url} raised {exc!r}")
                response = FakeResponse(
                    500, {"Content-Type": "text/plain"}, f"handler raised {exc!r}"
                )
        if response.delay > 0 and self._stopping.wait(response.delay):
            return False
        conn_header = headers.get("connection", "").lower()
        keep_alive = (
            "close" not in conn_header if version == "HTTP/1.1" else "keep-alive" in conn_header
        )
        return self._send_response(sock, method, response, keep_alive)

    @staticmethod
    def _coerce(result: Any) -> FakeResponse:
        if isinstance(result, FakeResponse):
            return result
        if isinstance(result, tuple) and len(result) == 3:
            return FakeResponse(int(result[0]), dict(result[1] or {}), result[2])
        if isinstance(result, tuple) and len(result) == 2:
            return FakeResponse(int(result[0]), {}, result[1])
        raise TypeError(f"handler returned {type(result).__name__}, not FakeResponse or tuple")

    def _send_response(
        self, sock: socket.socket, method: str, response: FakeResponse, keep_alive: bool
    ) -> bool:
        headers = dict(response.headers or {})
        lower = {k.lower() for k in headers}
        if response.json is not _UNSET:
            payload = _json.dumps(response.json).encode("utf-8")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        elif isinstance(response.body, (dict, list)):
            payload = _json.dumps(response.body).encode("utf-8")
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json"
        elif isinstance(response.body, str):
            payload = response.body.encode("utf-8")
        else:
            payload = bytes(response.body or b"")
        if "content-length" not in lower and "transfer-encoding" not in lower:
            headers["Content-Length"] = str(len(payload))
        if "connection" in lower:
            keep_alive = keep_alive and not any(
                k.lower() == "connection" and "close" in v.lower() for k, v in headers.items()
            )
        else:
            headers["Connection"] = "keep-alive" if keep_alive else "close"
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        no_body = method == "HEAD" or response.status in (204, 304) or response.status < 200
        sock.sendall(head if no_body else head + payload)
        return keep_alive

    def _send_simple(self, sock: socket.socket, status: int, message: str) -> None:
        try:
            self._send_response(
                sock, "GET", FakeResponse(status, {"Content-Type": "text/plain"}, message), False
            )
        except OSError:
            pass

    def _server_context(self, host: str) -> ssl.SSLContext:
        with _CONTEXTS_LOCK:
            per_ca = _CONTEXTS.setdefault(self.ca, {})
            ctx = per_ca.get(host)
            if ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.set_alpn_protocols(["http/1.1"])
                self.ca.issue_cert(host).configure_cert(ctx)
                per_ca[host] = ctx
        return ctx


@pytest.fixture(scope="session")
def fakeweb_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, str]]:
    """One CA (and its PEM file) for the whole session: minting is the slow part."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("fakeweb") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    yield ca, str(path)


@pytest.fixture
def fakeweb(fakeweb_ca: tuple[trustme.CA, str]) -> Iterator[FakeWeb]:
    """A started :class:`FakeWeb`; the proxy environment is NOT set (use ``apply_env``)."""
    ca, path = fakeweb_ca
    web = FakeWeb(ca=ca, ca_path=path)
    web.start()
    try:
        yield web
    finally:
        web.stop()
