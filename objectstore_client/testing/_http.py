"""A small HTTP/1.1 server with the framing behaviour of the real server's hyper stack.

`http.server` cannot be used: it title-cases header names, cannot decode chunked request
bodies and hides the raw request target. This module does just the transport: request
heads (with hyper's limits), bodies (content-length or chunked, `Expect: 100-continue`),
responses (content-length for bytes, chunked for iterables), keep-alive, the in-flight
request limit, and the connection limits of `_limits` (a cap with a clean 503, a deadline for
request heads, an idle keep-alive timeout, no spinning when `accept()` runs out of
descriptors). Everything about objects lives in `_app`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

from objectstore_client.testing._body import BodyError, BodyReader, SocketReader, drain
from objectstore_client.testing._framing import Framing, framing
from objectstore_client.testing._httparse import TOKEN, VALUE, HeadError
from objectstore_client.testing._limits import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_KEEPALIVE_TIMEOUT,
    IO_TIMEOUT,
    AcceptBackoff,
    Rejector,
    default_max_connections,
    linger,
)
from objectstore_client.testing._uri import httparse_accepts, read_target

logger = logging.getLogger(__name__)

# hyper's defaults: at most 100 header fields, and a read buffer of 8192 + 4096 * 100 bytes
# for the request line plus headers (protocol §1).
MAX_HEADERS = 100
MAX_HEAD_BYTES = 8192 + 4096 * 100
# An unread request body up to this size is discarded to keep the connection alive.
MAX_DRAIN = 4 << 20


@dataclass
class Request:
    """One parsed request. `path` and `query` are raw: still percent-encoded, as received."""

    method: str
    target: str
    path: str
    query: str | None
    version: str
    headers: list[tuple[str, str]]
    body: BodyReader
    peer: str = ""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower-case), or `None`."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class Response:
    """A response. `bytes` bodies get `content-length`; iterables are sent chunked."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterable[bytes | bytearray | memoryview] = b""
    close: bool = False


_RUST_REASONS = {
    413: "Payload Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
}


def reason(status: int) -> str:
    """The reason phrase hyper sends for `status` (the `http` crate's canonical one)."""
    if status in _RUST_REASONS:
        return _RUST_REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class HTTPServer:
    """Accepts connections and serves each in its own thread, calling `handler` per request."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Callable[[Request], Response],
        exempt: Callable[[str], bool],
        max_requests: int = 10_000,
        *,
        max_connections: int | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.create_server((host, port), family=family, backlog=128)
        address = self._sock.getsockname()
        self.host: str = address[0]
        self.port: int = address[1]
        self._handler = handler
        self._exempt = exempt
        self._max_requests = max_requests
        self.max_connections = (
            default_max_connections() if max_connections is None else max_connections
        )
        self._header_timeout = header_timeout
        self._keepalive_timeout = keepalive_timeout
        self._backoff = AcceptBackoff()
        self._rejector: Rejector | None = None
        self._in_flight = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts the accept loop in a daemon thread."""
        self._rejector = Rejector(self._backoff.connection_closed)
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"objectstore-local-{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops accepting and shuts down every open connection."""
        self._stopping.set()
        # shutdown() wakes a thread blocked in accept(); close() alone does not on Linux.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
        if self._rejector is not None:
            self._rejector.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            assert self._rejector is not None
            if self._rejector.full and len(self._connections) >= self.max_connections:
                # No room to serve nor to reject: let new connections wait in the backlog.
                self._backoff.wait_for_room(self._stopping)
                continue
            try:
                conn, addr = self._sock.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    return
                self._backoff.failed(exc, self._stopping)
                continue
            self._backoff.succeeded()
            accepted = time.monotonic()
            with self._lock:
                over = len(self._connections) >= self.max_connections
                if not over:
                    self._connections.add(conn)
            if over:
                self._rejector.reject(conn)
                continue
            try:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(
                    target=self._serve_connection,
                    args=(conn, str(addr[0]), accepted),
                    daemon=True,
                ).start()
            except (OSError, RuntimeError):  # RuntimeError: no thread can be started
                self._forget(conn)
                conn.close()
                self._backoff.failed(OSError(errno.ENOMEM, "no thread"), self._stopping)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)
        self._backoff.connection_closed()

    def _serve_connection(self, conn: socket.socket, peer: str, accepted: float) -> None:
        reader: SocketReader | None = None
        try:
            reader = SocketReader(conn, IO_TIMEOUT)
            # The first request head must be complete within the header deadline of the
            # accept; later ones within the idle timeout, then the header deadline.
            deadline = accepted + self._header_timeout
            while not self._stopping.is_set():
                if not self._serve_one(conn, reader, peer, deadline):
                    break
                reader.set_deadline(time.monotonic() + self._keepalive_timeout)
                if not reader.wait_for_data():
                    break
                deadline = time.monotonic() + self._header_timeout
        except (OSError, BodyError):
            # Includes TimeoutError: an idle or slow-header connection is closed silently.
            pass
        finally:
            if reader is not None:
                reader.close()
            with contextlib.suppress(OSError):
                conn.close()
            self._forget(conn)

    def _serve_one(
        self, conn: socket.socket, reader: SocketReader, peer: str, deadline: float
    ) -> bool:
        """Serves one request; returns whether the connection may be reused.

        Raises `TimeoutError` when the request head is not complete by `deadline`.
        """
        reader.set_deadline(deadline)
        try:
            head = _read_head(reader)
        except HeadError as exc:
            reader.set_deadline(None)
            if exc.status:
                _write_response(conn, Response(exc.status, close=True), head_only=False)
                linger(conn)  # what the client still sends must not reset the answer
            return False
        reader.set_deadline(None)
        if head is None:
            return False
        method, target, version, headers = head
        try:
            frame = framing(headers, version)
        except HeadError as exc:
            _write_response(conn, Response(exc.status, close=True), head_only=False)
            linger(conn)
            return False
        body = BodyReader(reader, frame.length, frame.chunked, _continue(conn, frame))
        path, sep, query = target.partition("?")
        request = Request(
            method, target, path, query if sep else None, version, headers, body, peer
        )
        keep_alive = frame.keep_alive

        exempt = self._exempt(path)
        with self._lock:
            over = not exempt and self._in_flight >= self._max_requests
            if not over:
                self._in_flight += 1
        if over:
            # Generated outside the app layer, like the real server's: no `server` header.
            response = Response(503)
        else:
            try:
                response = self._handler(request)
            except Exception as exc:  # a handler bug: the real server turns panics into 500
                logger.exception("handler failed for %s %s", method, target)
                response = Response(
                    500, [("content-type", "text/plain; charset=utf-8")], str(exc).encode()
                )
            finally:
                with self._lock:
                    self._in_flight -= 1
        if body.continue_pending:
            # The client waits for 100 Continue before sending a body nobody will read.
            response.close = True
        keep_alive = keep_alive and not response.close
        if not keep_alive:
            response.close = True
        try:
            _write_response(conn, response, head_only=method == "HEAD", version=version)
        finally:
            close = getattr(response.body, "close", None)
            if callable(close):
                close()
        if not body.done and not body.continue_pending and not drain(body, MAX_DRAIN):
            # Closing with unread bytes in the receive buffer makes the kernel send RST, and the
            # client may lose the response it has not read yet: stop writing, then discard.
            linger(conn)
            return False
        return not response.close


def _read_head(reader: SocketReader) -> tuple[str, str, str, list[tuple[str, str]]] | None:
    total = 0
    line = reader.readline(MAX_HEAD_BYTES + 1)
    while line in (b"\r\n", b"\n"):  # RFC 9112 §2.2: ignore empty lines before a request
        line = reader.readline(MAX_HEAD_BYTES + 1)
    if not line:
        return None
    total += len(line)
    if not line.endswith(b"\n"):
        raise HeadError(431 if total > MAX_HEAD_BYTES else 400)
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HeadError(400)
    method_b, target_b, version_b = parts
    if version_b not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise HeadError(505 if version_b.startswith(b"HTTP/") else 400)
    if not TOKEN.issuperset(method_b):  # any token: routing answers 405 to unknown ones
        raise HeadError(400)
    if not httparse_accepts(target_b):
        raise HeadError(400)
    headers: list[tuple[str, str]] = []
    long_name = False
    while True:
        line = reader.readline(MAX_HEAD_BYTES + 1)
        total += len(line)
        if total > MAX_HEAD_BYTES:
            raise HeadError(431)
        if not line:
            raise HeadError(0)
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t"):
            raise HeadError(400)  # obsolete line folding is rejected, as hyper does
        # httparse: one line ending (a CR left is bare), a token name, no control but tab.
        name, sep, value = line.removesuffix(b"\n").removesuffix(b"\r").partition(b":")
        if not sep or not name or not TOKEN.issuperset(name) or not VALUE.issuperset(value):
            raise HeadError(400)
        long_name = long_name or len(name) >= 1 << 16
        headers.append((name.decode("latin-1").lower(), value.strip(b" \t").decode("latin-1")))
        if len(headers) > MAX_HEADERS:
            raise HeadError(431)
    target = read_target(target_b, long_header_name=long_name).decode("ascii")
    return method_b.decode(), target, version_b.decode(), headers


def _continue(conn: socket.socket, frame: Framing) -> Callable[[], None] | None:
    """What sends `100 Continue` when the body is first read, if the client waits for one."""
    if not frame.expect_continue:
        return None
    return lambda: conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def _write_response(
    conn: socket.socket, response: Response, head_only: bool, version: str = "HTTP/1.1"
) -> None:
    """Writes `response` as hyper answers a request of `version`.

    To HTTP/1.0: in HTTP/1.0, `connection: keep-alive` if it stays open, and a body of
    unknown length up to the close (no chunked coding; this sets `response.close`).
    """
    status = response.status
    http_10 = version == "HTTP/1.0"
    lines = [f"{version if http_10 else 'HTTP/1.1'} {status} {reason(status)}"]
    names = set()
    for name, value in response.headers:
        lines.append(f"{name}: {value}")
        names.add(name)
    if "date" not in names:
        lines.append(f"date: {formatdate(usegmt=True)}")
    body = response.body
    no_body = status in (204, 304) or 100 <= status < 200
    sized = no_body or head_only or isinstance(body, bytes | bytearray) or "content-length" in names
    if http_10 and not sized:
        response.close = True
    if response.close and not http_10:
        lines.append("connection: close")
    elif not response.close and http_10:
        lines.append("connection: keep-alive")
    if isinstance(body, bytes | bytearray):
        if not no_body and "content-length" not in names:
            lines.append(f"content-length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        conn.sendall(head if head_only or no_body else head + bytes(body))
        return
    if no_body or head_only:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return
    if "content-length" in names or http_10:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        for chunk in body:
            conn.sendall(chunk)
        return
    lines.append("transfer-encoding: chunked")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    for chunk in body:
        if chunk:
            conn.sendall(b"".join((b"%x\r\n" % len(chunk), chunk, b"\r\n")))
    conn.sendall(b"0\r\n\r\n")
