"""The HTTP side of the daemon: a hardened ThreadingHTTPServer and the routes of SPEC §8.

:class:`App` turns a parsed :class:`Request` into a :class:`Response` and knows
nothing about sockets, so routing and policy are testable on their own.
:class:`Handler` does the wire work with limits the stdlib handler lacks: a
bounded request line and header block, a bounded body, and one deadline for
the whole request (a client trickling a byte at a time is cut off when the
deadline passes, not when it pauses). :class:`DaemonServer` caps concurrent
connections and answers the excess with 503 from a single helper thread.
"""

from __future__ import annotations

import email.utils
import http.server
import io
import os
import queue
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, unquote

from usagestat.plugins.instances import Instance

from .log import Log
from .openapi import ID_PATTERN
from .scheduler import Scheduler
from .security import Policy
from .store import Store, encode

JSON = "application/json"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
PENDING_RETRY_AFTER = "2"

_ID_OK = re.compile(ID_PATTERN)


@dataclass
class Limits:
    request_line: int = 8190
    header_line: int = 8190
    headers: int = 64
    header_bytes: int = 32 * 1024
    body: int = 16 * 1024
    timeout: float = 10.0
    max_connections: int = 64

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, tunable with ``USAGESTAT_HTTP_TIMEOUT_SEC`` / ``USAGESTAT_HTTP_MAX_CONNECTIONS``."""
        limits = cls()
        timeout = os.environ.get("USAGESTAT_HTTP_TIMEOUT_SEC")
        if timeout:
            try:
                limits.timeout = min(300.0, max(0.1, float(timeout)))
            except ValueError:
                pass
        cap = os.environ.get("USAGESTAT_HTTP_MAX_CONNECTIONS")
        if cap:
            try:
                limits.max_connections = min(10000, max(1, int(cap)))
            except ValueError:
                pass
        return limits


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    http10: bool = False
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False


def error(
    status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    body = encode({"error": {"code": code, "message": message}})
    return Response(status, body, JSON, list(headers or []), close=False)


GET_ONLY = ("GET", "HEAD", "OPTIONS")
POST_ONLY = ("POST", "OPTIONS")
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/health": ("health", GET_ONLY),
    "/v1/providers": ("providers", GET_ONLY),
    "/v1/usage": ("usage", GET_ONLY),
    "/v1/refresh": ("refresh", POST_ONLY),
    "/metrics": ("metrics", GET_ONLY),
    "/openapi.json": ("openapi", GET_ONLY),
}
USAGE_PREFIX = "/v1/usage/"


class App:
    """Routes and endpoint logic; its attributes are swapped on SIGHUP."""

    def __init__(
        self,
        *,
        store: Store,
        scheduler: Scheduler,
        policy: Policy,
        log: Log,
        version: str,
        providers_body: bytes,
        openapi_body: bytes,
        probe_deadline: Callable[[Instance], float],
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.log = log
        self.version = version
        self.providers_body = providers_body
        self.openapi_body = openapi_body
        self.probe_deadline = probe_deadline
        self.started = time.monotonic()

    # -- entry ------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        policy = self.policy
        if not policy.host_allowed(req.headers.get("host"), req.http10):
            return error(
                403,
                "forbidden_host",
                "the Host header must name this daemon (localhost or the bound address)",
            )
        origin = req.headers.get("origin")
        if not policy.origin_allowed(origin):
            return error(
                403,
                "forbidden_host",
                "cross-origin requests from this origin are not allowed (see [daemon] corsOrigins)",
            )
        path, _, query_text = req.target.partition("?")
        try:
            path = unquote(path, errors="strict")
        except UnicodeDecodeError:
            return error(400, "bad_request", "the path is not valid UTF-8")
        route, allowed, param = self._route(path)
        if req.method == "OPTIONS":
            if route is None:
                return error(404, "not_found", f"no such endpoint: {path}")
            return self._cors(self._options(allowed, origin), origin)
        if not policy.authorized(req.headers.get("authorization")):
            return self._cors(
                error(
                    401,
                    "unauthorized",
                    "a valid bearer token is required (Authorization: Bearer …)",
                    [("WWW-Authenticate", 'Bearer realm="usagestat"')],
                ),
                origin,
            )
        if route is None:
            return self._cors(error(404, "not_found", f"no such endpoint: {path}"), origin)
        method = "GET" if req.method == "HEAD" else req.method
        if method not in allowed:
            response = error(
                405,
                "method_not_allowed",
                f"{req.method} is not allowed here",
                [("Allow", ", ".join(allowed))],
            )
            return self._cors(response, origin)
        try:
            query = (
                parse_qs(query_text, keep_blank_values=True, max_num_fields=32)
                if query_text
                else {}
            )
        except ValueError:
            return error(400, "bad_request", "too many query parameters")
        try:
            response = getattr(self, "_" + route)(query, param)
        except _BadRequest as bad:
            response = error(400, "bad_request", str(bad))
        return self._cors(response, origin)

    @staticmethod
    def _route(path: str) -> tuple[str | None, tuple[str, ...], str | None]:
        found = ROUTES.get(path)
        if found is not None:
            return found[0], found[1], None
        if path.startswith(USAGE_PREFIX):
            return "usage_one", GET_ONLY, path[len(USAGE_PREFIX) :]
        return None, (), None

    def _options(self, allowed: tuple[str, ...], origin: str | None) -> Response:
        headers = [("Allow", ", ".join(allowed))]
        if self.policy.cors_origin(origin):
            headers += [
                ("Access-Control-Allow-Methods", ", ".join(allowed)),
                ("Access-Control-Allow-Headers", "Authorization"),
                ("Access-Control-Max-Age", "600"),
            ]
        return Response(204, b"", JSON, headers)

    def _cors(self, response: Response, origin: str | None) -> Response:
        allowed = self.policy.cors_origin(origin)
        if allowed:
            response.headers.append(("Access-Control-Allow-Origin", allowed))
            response.headers.append(("Vary", "Origin"))
        return response

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _flag(query: dict[str, list[str]], name: str) -> bool:
        values = query.get(name)
        if not values:
            return False
        value = values[-1]
        if value == "true":
            return True
        if value == "false":
            return False
        raise _BadRequest(f"{name} must be true or false")

    def _wait_fresh(self, instances: list[Instance]) -> None:
        """``?refresh=true``: probe what may be probed and wait for it, at most the probe deadline."""
        self.scheduler.refresh_and_wait(instances, self.probe_deadline)

    # -- endpoints -----------------------------------------------------------------
    def _health(self, query: dict[str, list[str]], _param: str | None) -> Response:
        store = self.store
        body = encode(
            {
                "status": "ok",
                "version": self.version,
                "uptimeSec": int(time.monotonic() - self.started),
                "providers": len(store.instances),
                "lastCycleAt": store.last_result_at,
            }
        )
        return Response(200, body)

    def _providers(self, query: dict[str, list[str]], _param: str | None) -> Response:
        return Response(200, self.providers_body)

    def _usage(self, query: dict[str, list[str]], _param: str | None) -> Response:
        if self._flag(query, "refresh"):
            self._wait_fresh(list(self.store.instances))
        return Response(200, self.store.usage_body())

    def _usage_one(self, query: dict[str, list[str]], wanted: str | None) -> Response:
        refresh = self._flag(query, "refresh")
        instance = self.store.find(wanted or "")
        if instance is None:
            return error(404, "not_found", f"no enabled instance or provider {wanted!r}")
        if refresh:
            self._wait_fresh([instance])
        body = self.store.instance_body(instance.instance_id)
        if body is None:
            return error(
                503,
                "pending",
                f"the first probe of {instance.instance_id} has not finished yet",
                [("Retry-After", PENDING_RETRY_AFTER)],
            )
        return Response(200, body)

    def _refresh(self, query: dict[str, list[str]], _param: str | None) -> Response:
        wanted = query.get("provider")
        if wanted:
            name = wanted[-1]
            if not _ID_OK.match(name):
                raise _BadRequest("provider must be an instance or provider id")
            instances = self.store.select(name)
            if not instances:
                return error(404, "not_found", f"no enabled instance or provider {name!r}")
        else:
            instances = list(self.store.instances)
        queued = self.scheduler.request(instances)
        return Response(202, encode({"queued": queued}))

    def _metrics(self, query: dict[str, list[str]], _param: str | None) -> Response:
        return Response(200, self.store.metrics_body(), PROMETHEUS)

    def _openapi(self, query: dict[str, list[str]], _param: str | None) -> Response:
        return Response(200, self.openapi_body)


class _BadRequest(Exception):
    pass


# ---------------------------------------------------------------------------
# Wire level


_DATE: list = [0, ""]
STATIC_HEADERS = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"


def _http_date() -> str:
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[1] = email.utils.formatdate(now, usegmt=True)
        _DATE[0] = now
    return _DATE[1]


def render_response(
    response: Response, *, head_only: bool = False, close: bool = False, keep_alive_10: bool = False
) -> bytes:
    status = response.status
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}\r\n"]
    if status != 204:
        lines.append(
            f"Content-Type: {response.content_type}\r\nContent-Length: {len(response.body)}\r\n"
        )
    lines.append(STATIC_HEADERS)
    lines.append(f"Date: {_http_date()}\r\n")
    for name, value in response.headers:
        lines.append(f"{name}: {value}\r\n")
    if close:
        lines.append("Connection: close\r\n")
    elif keep_alive_10:
        lines.append("Connection: keep-alive\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1")
    if head_only or status == 204:
        return head
    return head + response.body


def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


BUSY_RESPONSE = render_response(
    error(503, "busy", "too many connections; retry shortly", [("Retry-After", "1")]), close=True
)


class _DeadlineReader(io.RawIOBase):
    """Socket reads that share one deadline, so slow clients cannot hold a thread forever.

    Changing a socket's timeout costs system calls, so it is only re-armed when
    it reaches more than ``SLACK`` seconds past the deadline: a read may overrun
    the deadline by at most that much, and a busy keep-alive connection pays
    nothing per request.
    """

    SLACK = 0.5

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = float("inf")
        self.timeout = -1.0  # the socket's current timeout; < 0 = not set yet

    def readable(self) -> bool:
        return True

    def arm(self, seconds: float) -> None:
        self.sock.settimeout(seconds)
        self.timeout = seconds

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while True:
            now = time.monotonic()
            left = self.deadline - now
            if left <= 0:
                raise TimeoutError("request deadline passed")
            # A recv may block for the whole socket timeout: keep that within the deadline + SLACK.
            if self.timeout < 0 or self.timeout > left + self.SLACK:
                self.arm(left)
            try:
                return self.sock.recv_into(buffer)
            except TimeoutError:
                self.timeout = -1.0  # an old, shorter timeout ran out: re-arm; the deadline decides


class _Reject(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection: parse requests with hard limits, let :class:`App` answer them."""

    server: DaemonServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.connection = self.request
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader, 16384)

    def handle(self) -> None:
        limits = self.server.limits
        try:
            while True:
                self._reader.deadline = time.monotonic() + limits.timeout
                if not self._handle_one(limits):
                    return
        except TimeoutError:
            self.server.app.log.debug(
                f"closed a connection from {self.client_address[0]}: request timed out"
            )
        except (ConnectionError, OSError, ValueError):
            pass

    def finish(self) -> None:
        try:
            self.rfile.close()
        except (OSError, ValueError):
            pass

    def _send(self, data: bytes) -> None:
        reader = self._reader
        timeout = self.server.limits.timeout
        if reader.timeout < timeout / 2:  # a nearly spent read deadline must not cut the answer
            reader.arm(timeout)
        self.connection.sendall(data)

    def _handle_one(self, limits: Limits) -> bool:
        """Serve one request; False when the connection should close."""
        try:
            request = self._read_request(limits)
        except _Reject as reject:
            self._send(render_response(reject.response, close=True))
            return False
        if request is None:
            return False
        app = self.server.app
        started = time.monotonic()
        try:
            response = app.handle(request)
        except Exception as exc:  # a bug: answer, log, keep serving
            app.log.error(
                f"internal error on {request.method} {request.target.partition('?')[0]}: {exc!r}"
            )
            response = error(500, "internal_error", "internal error (see the daemon log)")
            response.close = True
        conn = request.headers.get("connection", "").lower()
        keep = "keep-alive" in conn if request.http10 else "close" not in conn
        keep = keep and not response.close and not self.server.closing
        self._send(
            render_response(
                response,
                head_only=request.method == "HEAD",
                close=not keep,
                keep_alive_10=keep and request.http10,
            )
        )
        if app.log.enabled("debug"):
            app.log.debug(
                f"{self.client_address[0]} {request.method} {request.target.partition('?')[0]} "
                f"{response.status} {(time.monotonic() - started) * 1000:.1f}ms"
            )
        return keep

    def _read_request(self, limits: Limits) -> Request | None:
        rfile = self.rfile
        line = rfile.readline(limits.request_line + 1)
        if line in (b"\r\n", b"\n"):  # tolerate one stray CRLF between requests (RFC 9112 §2.2)
            line = rfile.readline(limits.request_line + 1)
        if not line:
            return None
        if not line.endswith(b"\n"):
            if len(line) > limits.request_line:
                raise _Reject(
                    414, "bad_request", f"request line longer than {limits.request_line} bytes"
                )
            return None  # the client went away mid-line
        try:
            text = line.decode("ascii").rstrip("\r\n")
        except UnicodeDecodeError:
            raise _Reject(400, "bad_request", "the request line is not ASCII")
        parts = text.split(" ")
        if len(parts) != 3:
            raise _Reject(400, "bad_request", "malformed request line")
        method, target, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise _Reject(400, "bad_request", "only HTTP/1.0 and HTTP/1.1 are supported")
        if not method.isalpha() or not method.isupper() or len(method) > 16:
            raise _Reject(400, "bad_request", "malformed method")
        if not target.startswith("/") and not (method == "OPTIONS" and target == "*"):
            raise _Reject(400, "bad_request", "the request target must be a path")
        headers: dict[str, str] = {}
        total = 0
        count = 0
        while True:
            raw = rfile.readline(limits.header_line + 1)
            if not raw:
                return None
            if raw in (b"\r\n", b"\n"):
                break
            count += 1
            total += len(raw)
            if len(raw) > limits.header_line or not raw.endswith(b"\n"):
                raise _Reject(
                    431, "bad_request", f"a header line is longer than {limits.header_line} bytes"
                )
            if count > limits.headers or total > limits.header_bytes:
                raise _Reject(431, "bad_request", "too many request headers")
            if raw[:1] in (b" ", b"\t"):
                raise _Reject(400, "bad_request", "folded header lines are not supported")
            name, sep, value = raw.partition(b":")
            if not sep or not name or name != name.strip():
                raise _Reject(400, "bad_request", "malformed header line")
            key = name.decode("latin-1").lower()
            text_value = value.strip().decode("latin-1")
            if key in headers:
                if key in ("host", "content-length", "authorization", "origin"):
                    raise _Reject(400, "bad_request", f"duplicate {key} header")
                headers[key] += ", " + text_value
            else:
                headers[key] = text_value
        http10 = version == "HTTP/1.0"
        if "host" not in headers and not http10:
            raise _Reject(400, "bad_request", "HTTP/1.1 requests need a Host header")
        if "transfer-encoding" in headers:
            raise _Reject(
                400, "bad_request", "chunked request bodies are not supported; send Content-Length"
            )
        body = b""
        length_text = headers.get("content-length")
        if length_text is not None:
            if not length_text.isdigit() or len(length_text) > 12:
                raise _Reject(400, "bad_request", "invalid Content-Length")
            length = int(length_text)
            if length > limits.body:
                raise _Reject(
                    413, "payload_too_large", f"request body larger than {limits.body} bytes"
                )
            if length:
                body = rfile.read(length)
                if len(body) < length:
                    return None
        return Request(method, target, headers, http10, body)


class DaemonServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer with a connection cap; excess connections get 503 ``busy``."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = os.name != "nt"  # on Windows SO_REUSEADDR would allow port theft

    def __init__(
        self, address: tuple[str, int], family: int, app: App | None, limits: Limits
    ) -> None:
        self.address_family = family
        self.app = app  # type: ignore[assignment]
        self.limits = limits
        self.closing = False
        self._active = 0
        self._active_lock = threading.Lock()
        self._rejects: queue.Queue[socket.socket | None] = queue.Queue(maxsize=64)
        super().__init__(address, Handler)
        threading.Thread(target=self._reject_loop, name="http-busy", daemon=True).start()

    def server_bind(self) -> None:
        """Bind without ``HTTPServer.server_bind``'s reverse DNS lookup of the address."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def active_connections(self) -> int:
        return self._active

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self._active_lock:
            over = self._active >= self.limits.max_connections
            if not over:
                self._active += 1
        if over:
            try:
                self._rejects.put_nowait(request)
            except queue.Full:
                self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        try:
            thread.start()
        except RuntimeError:  # cannot start a thread: treat as busy
            with self._active_lock:
                self._active -= 1
            self.shutdown_request(request)

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active -= 1

    def _reject_loop(self) -> None:
        """Answer 503 at once, then let each socket linger up to 0.2 s, all in parallel.

        Draining what the client sent before closing keeps the close from resetting
        the connection before the client has read the answer; doing it one socket
        after the other made an idle client hold up every rejected one behind it.
        """
        lingering: list[tuple[float, socket.socket]] = []
        while True:
            try:
                sock = self._rejects.get(timeout=0.02 if lingering else None)
                new = True
            except queue.Empty:
                sock, new = None, False
            if new and sock is None:  # server_close()
                for _, old in lingering:
                    _close_quietly(old)
                return
            if sock is not None:
                try:
                    sock.setblocking(False)
                    sock.send(BUSY_RESPONSE)  # small: fits in any socket buffer
                    sock.shutdown(socket.SHUT_WR)
                    lingering.append((time.monotonic() + 0.2, sock))
                except OSError:
                    _close_quietly(sock)
            now = time.monotonic()
            kept = []
            for deadline, old in lingering[-256:]:
                try:
                    closed = any(not old.recv(4096) for _ in range(16))
                except BlockingIOError:
                    closed = False
                except OSError:
                    closed = True
                if closed or now >= deadline:  # the client closed its side, or time is up
                    _close_quietly(old)
                else:
                    kept.append((deadline, old))
            for _, old in lingering[:-256]:
                _close_quietly(old)
            lingering = kept

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        """Never print a traceback to the log; one debug line is enough."""
        import sys

        exc = sys.exc_info()[1]
        if self.app is not None:
            self.app.log.debug(f"connection from {client_address[0]} failed: {exc!r}")

    def server_close(self) -> None:
        self.closing = True
        super().server_close()
        try:
            self._rejects.put_nowait(None)
        except queue.Full:
            pass
