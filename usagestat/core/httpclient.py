"""The one HTTP client behind the plugins' ``http.request`` host call.

Why not plain ``urllib.request``: plugins must see redirects rather than follow
them (a 302 to a login page means "signed out", and following it would carry
the Authorization header to another host), the whole request needs a single
deadline that a slow-dripping server cannot stretch, bodies must be capped
after decompression, and no error message may leak a credential. So this is a
small client over ``socket``/``ssl``/``http.client`` that owns those rules.

Rules, in short:

* Non-2xx answers are returned, never raised; redirects are never followed.
* ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` are read from
  ``os.environ`` on every call (lower-case names win over upper-case ones);
  https goes through a proxy with ``CONNECT``. Loopback hosts never use a proxy.
* TLS trusts the system store (``SSL_CERT_FILE``/``SSL_CERT_DIR`` included) plus
  ``ca_bundle``; verification is skipped only for loopback hosts reached
  directly, because local language servers use self-signed certificates.
* After gzip/deflate decoding, ``content-encoding`` is removed from the returned
  headers and ``content-length`` is set to the decoded length.
* Every failure is an :class:`HttpError` whose one-line message starts with
  ``"http request failed: "`` and names at most the host, never the URL,
  header values, bodies, proxy credentials or anything in ``secrets``.

Nothing heavy is imported at module level: the CLI imports this module on
every start, and ``ssl`` alone costs more than the CLI's whole start-up budget.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from usagestat.core.redact import redact

__all__ = ["HttpError", "HttpResponse", "request"]

PREFIX = "http request failed: "
MIB = 1024 * 1024
_CHUNK = 64 * 1024
_MAX_HEAD = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TCHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Header values at least this long are treated as secrets when scrubbing messages,
# except for headers that describe the request rather than the caller (a Host
# header equal to the host name must not turn every message into "[redacted]").
_MIN_SECRET = 6
_PUBLIC_HEADERS = frozenset(
    {
        "host",
        "origin",
        "referer",
        "accept",
        "accept-encoding",
        "accept-language",
        "content-type",
        "content-length",
        "user-agent",
        "connection",
    }
)

# (ca_bundle, its mtime/size, SSL_CERT_FILE, SSL_CERT_DIR, verify) -> SSLContext.
# Loading the system trust store takes milliseconds per context; a probe run
# makes dozens of requests, so contexts are reused while their inputs are unchanged.
_CONTEXTS: dict[tuple[Any, ...], Any] = {}


@dataclass
class HttpResponse:
    """One HTTP response, whatever its status (redirects included, never followed)."""

    status: int
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes
    url: str  # the URL requested (no redirects are ever followed)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return self.status in _REDIRECTS

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding, "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class HttpError(Exception):
    """A request that produced no HTTP response; ``str(e)`` starts with ``"http request failed: "``.

    ``kind`` lets callers branch without parsing text: ``invalid``, ``dns``,
    ``refused``, ``connect``, ``timeout``, ``tls``, ``proxy``, ``too_large``,
    ``protocol`` or ``error``.
    """

    def __init__(self, reason: str, kind: str = "error", secrets: Iterable[str] = ()) -> None:
        reason = " ".join(str(reason).split())  # always one line
        if reason.startswith(PREFIX):
            reason = reason[len(PREFIX) :]
        self.kind = kind
        super().__init__(PREFIX + redact(reason, secrets))


@dataclass
class _Target:
    scheme: str
    host: str  # IDNA/ASCII host name, or an IP literal without brackets
    port: int
    path: str  # origin-form request target: path plus query
    userinfo: tuple[str, str] | None = None

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def absolute(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.path}"


@dataclass
class _Proxy:
    host: str
    port: int
    auth: str | None = None  # value of Proxy-Authorization
    secrets: list[str] = field(default_factory=list)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class _Timeout(Exception):
    """The overall deadline passed."""


class _Fail(Exception):
    """An internal failure with a reason that is not yet scrubbed of secrets."""

    def __init__(self, reason: str, kind: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def request(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 15.0,
    ca_bundle: str | None = None,
    max_body: int = 8 * MIB,
    secrets: Iterable[str] = (),
) -> HttpResponse:
    """Send one request and return the response, whatever its status.

    ``timeout`` bounds the whole exchange (name lookup, connect, proxy tunnel,
    TLS handshake, sending and reading). ``secrets`` are values to scrub from
    error messages in addition to header values and proxy credentials.
    """
    scrub = [s for s in secrets if isinstance(s, str)]
    host, port = "?", None
    try:
        target = _parse_url(url)
        host, port = target.host, target.port
        if target.userinfo:
            scrub.extend(target.userinfo)
        method = _check_method(method)
        send_headers = _check_headers(headers, target, scrub)
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = bytes(body)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise _Fail("timeout must be a positive number of seconds", "invalid")
        if not isinstance(max_body, int) or max_body < 0:
            raise _Fail("max_body must be a non-negative integer", "invalid")
        if ca_bundle and target.scheme == "https" and not os.path.isfile(ca_bundle):
            raise _Fail(f"cannot read CA bundle {ca_bundle}: no such file", "tls")
        proxy = _proxy_for(target)
        if proxy:
            scrub.extend(proxy.secrets)
        deadline = time.monotonic() + float(timeout)
        return _exchange(
            target, url, method, send_headers, body, deadline, timeout, ca_bundle, max_body, proxy
        )
    except _Fail as exc:
        raise HttpError(exc.reason, exc.kind, scrub) from None
    except _Timeout:
        raise HttpError(f"timed out after {timeout:g}s", "timeout", scrub) from None
    except Exception as exc:
        reason, kind = _describe(exc, host, timeout, port)
        raise HttpError(reason, kind, scrub) from None


# -- parsing and validation --------------------------------------------------------


def _parse_url(url: str) -> _Target:
    from urllib.parse import quote, unquote, urlsplit

    if not isinstance(url, str) or not url:
        raise _Fail("malformed URL (empty)", "invalid")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise _Fail("malformed URL (contains whitespace or control characters)", "invalid")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if not scheme:
            raise _Fail("malformed URL (no http:// or https:// scheme)", "invalid")
        if scheme not in ("http", "https"):
            shown = scheme if scheme.isalnum() and len(scheme) < 20 else "?"
            raise _Fail(f"unsupported URL scheme {shown!r} (only http and https)", "invalid")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise _Fail("malformed URL", "invalid")
    if not host:
        raise _Fail("malformed URL (no host)", "invalid")
    host = host.rstrip(".") if not host.endswith("..") else host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _Fail("malformed URL (invalid host name)", "invalid")
    if port is None:
        port = 443 if scheme == "https" else 80
    if not 0 < port < 65536:
        raise _Fail("malformed URL (bad port)", "invalid")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # Percent-encode anything non-ASCII; keep existing escapes and reserved characters.
    path = quote(path, safe="!#$%&'()*+,-./:;=?@[]_~")
    userinfo = None
    if parts.username is not None:
        userinfo = (unquote(parts.username), unquote(parts.password or ""))
    return _Target(scheme, host.lower(), port, path, userinfo)


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not method or not set(method) <= _TCHARS:
        raise _Fail("invalid HTTP method", "invalid")
    return method.upper()


def _check_headers(
    headers: Mapping[str, str] | None, target: _Target, scrub: list[str]
) -> list[tuple[str, str]]:
    """Validate caller headers (no CR/LF injection) and add the defaults we own."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not name or not set(name) <= _TCHARS:
            raise _Fail("invalid header name", "invalid")
        if not isinstance(value, str):
            value = str(value)
        if any(c in value for c in "\r\n\0"):
            raise _Fail(f"invalid header value for {name} (contains CR, LF or NUL)", "invalid")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise _Fail(f"invalid header value for {name} (not latin-1)", "invalid")
        if len(value) >= _MIN_SECRET and name.lower() not in _PUBLIC_HEADERS:
            scrub.append(value)
            # "Bearer abc...": register the credential without its scheme too.
            scheme, _, credential = value.partition(" ")
            if credential and scheme.isalpha() and len(credential) >= _MIN_SECRET:
                scrub.append(credential.strip())
        out.append((name, value))
        seen.add(name.lower())
    if target.userinfo and "authorization" not in seen:
        out.append(("Authorization", _basic(*target.userinfo)))
        seen.add("authorization")
        scrub.append(out[-1][1])
    if "host" not in seen:
        out.insert(0, ("Host", target.host_header))
    if "user-agent" not in seen:
        from usagestat import __version__

        out.append(("User-Agent", f"usagestat/{__version__}"))
    if "accept-encoding" not in seen:
        out.append(("Accept-Encoding", "gzip, deflate"))
    if "connection" not in seen:
        out.append(("Connection", "close"))
    return out


def _basic(user: str, password: str) -> str:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


# -- proxies -----------------------------------------------------------------------


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value is not None:
            return value.strip()
    return None


def _proxy_for(target: _Target) -> _Proxy | None:
    """The proxy for ``target`` from the environment as it is now, or None for direct."""
    if _is_loopback_name(target.host) or _no_proxy(target):
        return None
    if target.scheme == "https":
        raw = _env("https_proxy", "HTTPS_PROXY")
    else:
        raw = _env("http_proxy")
        # HTTP_PROXY is attacker-controlled under CGI ("httpoxy"); skip it there.
        if raw is None and "REQUEST_METHOD" not in os.environ:
            raw = _env("HTTP_PROXY")
    if raw is None:
        raw = _env("all_proxy", "ALL_PROXY")
    if not raw:
        return None
    return _parse_proxy(raw)


def _parse_proxy(raw: str) -> _Proxy:
    from urllib.parse import unquote, urlsplit

    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _Fail("malformed proxy URL in the environment", "proxy")
    if scheme != "http":
        shown = scheme if scheme.isalnum() and len(scheme) < 20 else "?"
        raise _Fail(f"unsupported proxy scheme {shown!r} (only http:// proxies)", "proxy")
    if not host:
        raise _Fail("malformed proxy URL in the environment (no host)", "proxy")
    proxy = _Proxy(host.lower(), port)
    if parts.username is not None:
        user, password = unquote(parts.username), unquote(parts.password or "")
        proxy.auth = _basic(user, password)
        raw_password = parts.password or ""
        proxy.secrets = [
            s for s in (user, password, parts.username, raw_password, proxy.auth[6:]) if s
        ]
        proxy.secrets.append(f"{user}:{password}")
    return proxy


def _no_proxy(target: _Target) -> bool:
    """Whether NO_PROXY/no_proxy (both are honoured) exempts ``target``.

    Entries are comma-separated: ``*``; host names matching themselves and their
    subdomains (a leading ``.`` or ``*.`` is optional); IP addresses or CIDR
    ranges; any of these with ``:port`` to exempt only that port.
    """
    entries = ",".join(v for v in (os.environ.get("no_proxy"), os.environ.get("NO_PROXY")) if v)
    if not entries:
        return False
    host = target.host.lower()
    host_ip = _ip(host)
    for entry in entries.split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        port: int | None = None
        if entry.startswith("["):  # [::1] or [::1]:8080
            inner, _, rest = entry[1:].partition("]")
            entry = inner
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif entry.count(":") == 1:  # host:port (a bare IPv6 address has several colons)
            name, _, port_text = entry.partition(":")
            if not port_text.isdigit():
                continue
            entry, port = name, int(port_text)
        if port is not None and port != target.port:
            continue
        if host_ip is not None:
            if "/" in entry:
                import ipaddress

                try:
                    if host_ip in ipaddress.ip_network(entry, strict=False):
                        return True
                except ValueError:
                    pass
                continue
            if _ip(entry) == host_ip:
                return True
            continue
        entry = entry.lstrip("*").lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _ip(text: str) -> Any:
    import ipaddress

    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _is_loopback_name(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 and ::1 (also as IPv4-mapped)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    if ip is None:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


# -- the exchange ------------------------------------------------------------------


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Timeout()
    return left


def _resolve(host: str, port: int, deadline: float) -> list[tuple[Any, ...]]:
    """getaddrinfo bounded by the deadline (the resolver itself has no timeout)."""
    import socket

    if _ip(host) is not None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    import threading

    box: list[Any] = []

    def lookup() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller's thread
            box.append(exc)

    worker = threading.Thread(target=lookup, name="usagestat-dns", daemon=True)
    worker.start()
    worker.join(_remaining(deadline))
    if not box:
        raise _Timeout()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def _connect(host: str, port: int, deadline: float) -> Any:
    import socket

    infos = _resolve(host, port, deadline)
    errors: list[OSError] = []
    for family, socktype, proto, _name, address in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            sock.settimeout(_remaining(deadline))
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except TimeoutError:
            sock.close()
            raise _Timeout()
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
    refused = [e for e in errors if isinstance(e, ConnectionRefusedError)]
    raise (refused or errors or [OSError("no addresses")])[0]


class _DeadlineSocket:
    """What http.client sees as its socket: every send and recv obeys the deadline.

    ``http.client`` reads the status line and headers with ``readline()``, which a
    server sending a byte a second could stretch forever; giving it a reader
    whose every raw read re-arms the socket timeout to the time left closes that.
    """

    def __init__(self, sock: Any, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(_remaining(self.deadline))
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise _Timeout()

    def recv_into(self, buffer: Any) -> int:
        self.sock.settimeout(_remaining(self.deadline))
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            raise _Timeout()

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        import io

        class Raw(io.RawIOBase):
            def readable(inner) -> bool:
                return True

            def readinto(inner, buffer: Any) -> int:
                return self.recv_into(buffer)

        return io.BufferedReader(Raw(), _CHUNK)

    def settimeout(self, value: float | None) -> None:
        self.sock.settimeout(value)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        # http.client closes "the socket" as soon as a Connection: close response
        # arrives, before its body is read; real sockets survive that through
        # makefile() reference counting. The exchange closes the real socket itself.
        pass


def _context(ca_bundle: str | None, verify: bool) -> Any:
    import ssl

    key: tuple[Any, ...] = (
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("SSL_CERT_DIR"),
        verify,
        ca_bundle,
    )
    if ca_bundle:
        try:
            st = os.stat(ca_bundle)
        except OSError as exc:
            raise _Fail(f"cannot read CA bundle {ca_bundle}: {exc.strerror or exc}", "tls")
        key += (st.st_mtime_ns, st.st_size)
    ctx = _CONTEXTS.get(key)
    if ctx is not None:
        return ctx
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    if ca_bundle:
        try:
            ctx.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "invalid"
            raise _Fail(f"cannot load CA bundle {ca_bundle}: {reason}", "tls")
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if len(_CONTEXTS) > 16:
        _CONTEXTS.clear()
    _CONTEXTS[key] = ctx
    return ctx


def _tunnel(sock: Any, target: _Target, proxy: _Proxy, deadline: float) -> None:
    """Ask an HTTP proxy to CONNECT to ``target`` and read its answer byte by byte.

    Byte by byte so nothing after the proxy's blank line (the server's TLS
    bytes) is swallowed by a buffer.
    """
    from usagestat import __version__

    lines = [
        f"CONNECT {target.hostport} HTTP/1.1",
        f"Host: {target.hostport}",
        f"User-Agent: usagestat/{__version__}",
    ]
    if proxy.auth:
        lines.append(f"Proxy-Authorization: {proxy.auth}")
    wrapped = _DeadlineSocket(sock, deadline)
    wrapped.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = bytearray()
    one = bytearray(1)
    while not head.endswith(b"\r\n\r\n"):
        if not wrapped.recv_into(one):
            raise _Fail(
                f"proxy {proxy.hostport} closed the connection during CONNECT to {target.host}",
                "proxy",
            )
        head += one
        if len(head) > _MAX_HEAD:
            raise _Fail(f"proxy {proxy.hostport} sent an oversized CONNECT reply", "proxy")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _Fail(f"proxy {proxy.hostport} sent a malformed CONNECT reply", "proxy")
    if not 200 <= int(parts[1]) < 300:
        reason = "".join(c for c in (parts[2] if len(parts) > 2 else "") if c.isprintable())[:80]
        raise _Fail(
            f"proxy {proxy.hostport} refused CONNECT to {target.hostport}: "
            f"{parts[1]} {reason}".rstrip(),
            "proxy",
        )


def _exchange(
    target: _Target,
    url: str,
    method: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    deadline: float,
    timeout: float,
    ca_bundle: str | None,
    max_body: int,
    proxy: _Proxy | None,
) -> HttpResponse:
    import http.client

    if proxy is not None:
        try:
            sock = _connect(proxy.host, proxy.port, deadline)
        except OSError as exc:
            reason, kind = _describe(exc, proxy.host, timeout, port=proxy.port)
            raise _Fail(f"proxy {proxy.hostport}: {reason}", "proxy" if kind != "dns" else kind)
    else:
        sock = _connect(target.host, target.port, deadline)
    try:
        if target.scheme == "https":
            if proxy is not None:
                _tunnel(sock, target, proxy, deadline)
                verify = True
            else:
                # Self-signed local servers: only when the peer really is this machine.
                verify = not (_is_loopback_name(target.host) and _peer_is_loopback(sock))
            ctx = _context(ca_bundle, verify)
            sock.settimeout(_remaining(deadline))
            try:
                # An IP literal is matched against the certificate's IP SANs and not sent as SNI.
                sock = ctx.wrap_socket(sock, server_hostname=target.host)
            except TimeoutError:
                raise _Timeout()
        conn = http.client.HTTPConnection(target.host, target.port)
        conn.sock = _DeadlineSocket(sock, deadline)  # type: ignore[assignment]
        request_target = (
            target.absolute if proxy is not None and target.scheme == "http" else target.path
        )
        conn.putrequest(method, request_target, skip_host=True, skip_accept_encoding=True)
        names = {name.lower() for name, _ in headers}
        if proxy is not None and target.scheme == "http" and proxy.auth:
            headers = [*headers, ("Proxy-Authorization", proxy.auth)]
        if "content-length" not in names and "transfer-encoding" not in names:
            if body is not None:
                headers = [*headers, ("Content-Length", str(len(body)))]
            elif method in ("POST", "PUT", "PATCH"):
                headers = [*headers, ("Content-Length", "0")]
        for name, value in headers:
            conn.putheader(name, value.encode("latin-1"))
        conn.endheaders(body)
        response = conn.getresponse()
        return _read_response(response, target, url, deadline, max_body)
    except TimeoutError:
        raise _Timeout()
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _peer_is_loopback(sock: Any) -> bool:
    try:
        return _is_loopback_name(str(sock.getpeername()[0]))
    except (OSError, IndexError):
        return False


def _read_response(
    response: Any, target: _Target, url: str, deadline: float, max_body: int
) -> HttpResponse:
    headers: dict[str, str] = {}
    for name, value in response.msg.items():
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    codings = [
        c.strip().lower()
        for c in headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    decodable = bool(codings) and all(c in ("gzip", "x-gzip", "deflate") for c in codings)
    declared = headers.get("content-length", "")
    if not codings and declared.isdigit() and int(declared) > max_body:
        raise _Fail(_too_large(max_body), "too_large")
    decoders = [_Decoder(c, max_body) for c in reversed(codings)] if decodable else []
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(_CHUNK)
        if not chunk:
            break
        for decoder in decoders:
            chunk = decoder.feed(chunk)
        size += len(chunk)
        if size > max_body:
            raise _Fail(_too_large(max_body), "too_large")
        parts.append(chunk)
        _remaining(deadline)
    if response.length:  # the server closed before sending Content-Length bytes
        raise _Fail(f"connection to {target.host} closed before the body was complete", "protocol")
    for decoder in decoders:
        decoder.finish()
    data = b"".join(parts)
    if decoders and decoders[0].seen:
        # The body is decoded now: headers describe what is returned, not what was sent.
        headers.pop("content-encoding", None)
        headers["content-length"] = str(len(data))
    return HttpResponse(status=response.status, headers=headers, body=data, url=url)


def _too_large(max_body: int) -> str:
    if max_body >= MIB and max_body % MIB == 0:
        return f"response body larger than {max_body // MIB} MiB"
    if max_body >= MIB:
        return f"response body larger than {max_body / MIB:.1f} MiB"
    return f"response body larger than {max_body} bytes"


class _Decoder:
    """Incremental gzip/deflate decoding that never produces more than the cap."""

    def __init__(self, coding: str, cap: int) -> None:
        self.coding = coding
        self.cap = cap
        self.produced = 0
        self.seen = False
        self.pending = b""  # deflate: wait for 2 bytes to tell zlib from raw
        self.obj: Any = None

    def _make(self, wbits: int) -> Any:
        import zlib

        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        import zlib

        if not data:
            return b""
        self.seen = True
        if self.obj is None:
            if self.coding == "deflate":
                self.pending += data
                if len(self.pending) < 2:
                    return b""
                data, self.pending = self.pending, b""
                cmf, flg = data[0], data[1]
                is_zlib = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
                self.obj = self._make(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
            else:
                self.obj = self._make(16 + zlib.MAX_WBITS)
        out: list[bytes] = []
        try:
            while data:
                if self.obj.eof:
                    # Concatenated gzip members (rare but legal); anything else is trailing junk.
                    if self.coding == "deflate":
                        break
                    data = data.lstrip(b"\0")
                    if not data:
                        break
                    self.obj = self._make(16 + zlib.MAX_WBITS)
                room = self.cap - self.produced
                piece = self.obj.decompress(data, room + 1)
                self.produced += len(piece)
                if self.produced > self.cap:
                    raise _Fail(_too_large(self.cap), "too_large")
                out.append(piece)
                data = self.obj.unused_data if self.obj.eof else self.obj.unconsumed_tail
        except zlib.error:
            raise _Fail(f"could not decode the {self.coding} response body", "protocol")
        return b"".join(out)

    def finish(self) -> None:
        if self.pending or (self.obj is not None and not self.obj.eof):
            raise _Fail(f"truncated {self.coding} response body", "protocol")


def _describe(
    exc: BaseException, host: str, timeout: float, port: int | None = None
) -> tuple[str, str]:
    """A safe one-line reason for a low-level failure: never the exception's own text
    when that could echo a header value, URL or body."""
    import http.client
    import socket
    import ssl

    where = host if port is None else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    if isinstance(exc, _Timeout | socket.timeout | TimeoutError):
        return f"timed out after {timeout:g}s", "timeout"
    if isinstance(exc, socket.gaierror):
        return f"could not resolve host {host} ({exc.strerror or 'name lookup failed'})", "dns"
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or "certificate verify failed"
        return f"certificate verify failed for {host}: {detail}", "tls"
    if isinstance(exc, ssl.SSLError):
        detail = exc.reason or type(exc).__name__
        return f"TLS error with {host}: {detail}", "tls"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}", "refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return f"{host} closed the connection without a response", "protocol"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection to {host} closed before the body was complete", "protocol"
    if isinstance(exc, http.client.LineTooLong):
        return f"{host} sent an oversized status line or header", "protocol"
    if isinstance(exc, http.client.BadStatusLine):
        return f"{host} sent a malformed HTTP response", "protocol"
    if isinstance(exc, http.client.HTTPException):
        return f"{host} sent an invalid HTTP response ({type(exc).__name__})", "protocol"
    if isinstance(exc, ConnectionResetError):
        return f"connection reset by {where}", "connect"
    if isinstance(exc, OSError):
        return f"cannot connect to {where}: {exc.strerror or type(exc).__name__}", "connect"
    return f"{type(exc).__name__} while talking to {host}", "error"
