"""A fault-injecting HTTP/1.1 proxy on loopback, between a client and a local server.

`FaultProxy(upstream, fault)` listens on 127.0.0.1 and forwards requests to `upstream`
(`host`, `port`), injecting `fault` into `fault.times` requests after the first
`fault.skip` it sees (counted across connections); the others pass through untouched.
It parses just enough HTTP to find the ends of request and response bodies
(`Content-Length`, chunked, or until close), so faults land at precise points: before
the request, in the middle of an upload, after the server answered, in the middle of a
download.

It is bounded: every socket operation times out after `IO_TIMEOUT` seconds, a connection
carries at most `MAX_BYTES` per direction, a stall lasts at most `STALL_SECONDS` (and ends
early when the proxy closes), and only loopback addresses are accepted as upstream.

Faults on bodies act on the content (de-chunked) and re-frame it: a chunked response is
sent on as one chunk. Whether a fault found its target (a body to cut or flip) is recorded
in `applied`, so a report can tell an untouched case from one that survived the fault.

Every request that arrives whole is logged in `exchanges` (method, target, headers, body
content, and the status answered), so that with `fault=None` the proxy is a
recorder: tests see what went over the wire to a real local server.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass

IO_TIMEOUT = 10.0
"""Seconds any socket operation of the proxy may wait."""

MAX_BYTES = 64 * 1024 * 1024
"""Bytes one connection may carry in each direction before the proxy cuts it."""

STALL_SECONDS = 3.0
"""How long a stall holds the connection before closing it (tests time out well before)."""

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Fault:
    """One fault: what to do to a request and its response.

    Attributes:
        name: The fault's name in the matrix.
        action: What happens (see `FaultProxy._exchange`).
        status: For `"status"` and `"status_after_store"`: the status to answer.
        retry_after: The `Retry-After` header to send with it, if any.
        times: How many requests the fault hits.
        skip: How many requests pass untouched before it does.
        description: One line for the report.
    """

    name: str
    action: str
    description: str
    status: int = 0
    retry_after: str | None = None
    times: int = 1
    skip: int = 0


@dataclass
class Exchange:
    """One request the proxy received whole, and the status it answered (if it did)."""

    method: str
    target: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    """The content, de-chunked."""
    status: int | None = None
    """The server's status, or the fault's where the proxy answered instead; `None`
    when no answer came (a reset or stall before the response)."""


def _status(code: int, retry_after: str | None) -> Fault:
    suffix = "" if retry_after is None else f"_retry_after_{retry_after}"
    said = "" if retry_after is None else f" with `Retry-After: {retry_after}`"
    return Fault(
        f"status_{code}{suffix}",
        "status",
        f"the first request is answered {code}{said} by the proxy (not forwarded)",
        status=code,
        retry_after=retry_after,
    )


FAULTS: tuple[Fault, ...] = (
    Fault("refuse", "refuse", "nothing listens: every connection is refused"),
    Fault(
        "reset_before_request",
        "reset_before",
        "reset as the request arrives: nothing reaches the server",
    ),
    Fault(
        "reset_after_request",
        "reset_after",
        "the server handled the request; the client's connection is reset instead of answered",
    ),
    Fault("reset_mid_upload", "reset_mid_upload", "reset after half the request body"),
    Fault("reset_mid_download", "reset_mid_download", "reset after half the response body"),
    Fault(
        "stall_before_response",
        "stall_before_response",
        "the server answered; the proxy holds the answer back, then closes",
    ),
    Fault("stall_mid_upload", "stall_mid_upload", "stops reading after half the request body"),
    Fault("stall_mid_download", "stall_mid_download", "stops after half the response body"),
    Fault(
        "truncated_framed",
        "truncated_framed",
        "half the response body, framed as complete (length or chunks adjusted)",
    ),
    Fault(
        "truncated_unframed",
        "truncated_unframed",
        "half the response body, then close (the framing announced more)",
    ),
    Fault("close_after_headers", "close_after_headers", "response headers, then close"),
    *(_status(code, None) for code in (429, 500, 502, 503, 504)),
    *(_status(code, "1") for code in (429, 500, 502, 503, 504)),
    Fault(
        "status_502_after_store",
        "status_after_store",
        "the server handled the request; the proxy answers 502 instead",
        status=502,
    ),
    Fault("byte_flip", "byte_flip", "one response body byte inverted (middle of the body)"),
    Fault("bit_flip", "bit_flip", "one response body bit flipped (middle of the body)"),
)
"""Every fault of the matrix."""

_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}
_REASONS |= {503: "Service Unavailable", 504: "Gateway Timeout"}


class _Closed(Exception):
    """The peer closed, a bound was hit, or the proxy is closing."""


class _Stream:
    """Buffered reads from one socket, bounded in bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.total = 0

    def _fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError as exc:
            raise _Closed(str(exc)) from exc
        self.total += len(data)
        if not data or self.total > MAX_BYTES:
            raise _Closed("closed" if not data else "byte limit")
        self.buffer += data

    def take(self, count: int) -> bytes:
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def ready(self) -> bool:
        """Waits for the next byte; `False` if the peer closed (or failed) first."""
        if not self.buffer:
            try:
                self._fill()
            except _Closed:
                return False
        return True

    def head(self) -> bytes | None:
        """The next message head (through the blank line); `None` at a clean end."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD:
                raise _Closed("head too long")
            try:
                self._fill()
            except _Closed:
                if not self.buffer:
                    return None
                raise
        return self.take(self.buffer.index(b"\r\n\r\n") + 4)

    def exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        return self.take(count)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        return self.take(self.buffer.index(b"\r\n") + 2)

    def upto(self, count: int) -> bytes:
        """At least one byte, at most `count`."""
        if not self.buffer:
            self._fill()
        return self.take(min(count, len(self.buffer)))

    def rest(self) -> bytes:
        """Everything until the peer closes."""
        with contextlib.suppress(_Closed):
            while True:
                self._fill()
        return self.take(len(self.buffer))


@dataclass
class _Message:
    head: bytes
    first_line: str
    headers: dict[str, str]

    @classmethod
    def parse(cls, head: bytes) -> _Message:
        lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return cls(head, lines[0], headers)

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    def with_length(self, length: int) -> bytes:
        """The head with its body framed by `Content-Length: length` (not chunked)."""
        kept = [
            line
            for line in self.head.decode("latin-1").split("\r\n")[1:]
            if line
            and line.split(":", 1)[0].strip().lower() not in ("content-length", "transfer-encoding")
        ]
        lines = [self.first_line, *kept, f"Content-Length: {length}", "", ""]
        return "\r\n".join(lines).encode("latin-1")


def _read_body(stream: _Stream, message: _Message, until_close: bool) -> tuple[bytes, bytes]:
    """Reads a body; returns its raw bytes (as framed) and its content."""
    if message.chunked:
        raw, content = bytearray(), bytearray()
        while True:
            size_line = stream.line()
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = stream.line()
                    raw += trailer
                    if trailer == b"\r\n":
                        return bytes(raw), bytes(content)
            chunk = stream.exact(size)
            raw += chunk + stream.exact(2)
            content += chunk
    if "content-length" in message.headers:
        body = stream.exact(int(message.headers["content-length"]))
        return body, body
    body = stream.rest() if until_close else b""
    return body, body


def _half_body(stream: _Stream, request: _Message) -> bytes:
    """Reads about half of a request body, as raw bytes, leaving the rest unread.

    Half the `Content-Length`; for a chunked body of unknown length, what arrives up to
    64 KiB, or half of it if the whole body (its last chunk) came within that.
    """
    length = int(request.headers.get("content-length", "0") or 0)
    if length:
        return stream.exact(length // 2)
    raw = bytearray()
    while len(raw) < 64 * 1024 and not raw.endswith(b"0\r\n\r\n"):
        raw += stream.upto(64 * 1024 - len(raw))
    return bytes(raw[: len(raw) // 2] if raw.endswith(b"0\r\n\r\n") else raw)


def _reset(sock: socket.socket) -> None:
    """Closes with an RST rather than a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


class FaultProxy:
    """Forwards loopback HTTP/1.1 traffic to `upstream`, injecting `fault` (see module).

    Use as a context manager; `url` is where clients connect.
    """

    def __init__(self, upstream: tuple[str, int], fault: Fault | None) -> None:
        if upstream[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback")
        self.upstream = upstream
        self.fault = fault
        self.requests = 0
        self.applied: list[str] = []
        """Per faulted request: `"applied"`, or why the fault found nothing to act on."""
        self.exchanges: list[Exchange] = []
        """Every request received whole, in arrival order (see the module docstring)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread: threading.Thread | None = None
        if fault is None or fault.action != "refuse":
            self._listener.listen(64)
            self._listener.settimeout(0.05)
            self._thread = threading.Thread(target=self._accept_loop, daemon=True)
            self._thread.start()
        else:
            self.applied.append("applied")

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops accepting, ends stalls and closes every connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        _close(self._listener)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)

    def _track(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(IO_TIMEOUT)
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _next_fault(self) -> Fault | None:
        with self._lock:
            index = self.requests
            self.requests += 1
        fault = self.fault
        if fault is None or not fault.skip <= index < fault.skip + fault.times:
            return None
        return fault

    def _note(self, what: str) -> None:
        with self._lock:
            self.applied.append(what)

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            stream = _Stream(client)
            # A request is counted (and faulted) when its first byte arrives.
            while not self._stop.is_set() and stream.ready():
                fault = self._next_fault()
                if fault is not None and fault.action == "reset_before":
                    self._note("applied")
                    _reset(client)
                    return
                if upstream is None:
                    upstream = self._track(socket.create_connection(self.upstream, IO_TIMEOUT))
                keep = self._exchange(stream, client, upstream, fault)
                if keep is None:
                    return
                if not keep:
                    _close(upstream)
                    upstream = None
        except (_Closed, OSError, ValueError):
            pass
        finally:
            _close(client)
            _close(upstream)

    def _stall(self) -> None:
        self._stop.wait(STALL_SECONDS)

    def _exchange(
        self, stream: _Stream, client: socket.socket, upstream: socket.socket, fault: Fault | None
    ) -> bool | None:
        """Relays one request and its response, applying `fault`.

        Returns `None` when the client connection is finished, else whether the upstream
        connection can carry the next request.
        """
        raw_head = stream.head()
        if raw_head is None:
            return None
        request = _Message.parse(raw_head)
        method = request.first_line.split(" ", 1)[0]
        action = fault.action if fault is not None else ""
        has_body = request.chunked or int(request.headers.get("content-length", "0") or 0) > 0
        if action in ("reset_mid_upload", "stall_mid_upload"):
            if not has_body:
                self._note("n/a: no request body")
                action = ""
            else:
                self._note("applied")
                upstream.sendall(raw_head + _half_body(stream, request))
                if action == "reset_mid_upload":
                    _reset(client)
                    _reset(upstream)
                else:
                    self._stall()
                return None
        raw_body, content = _read_body(stream, request, until_close=False)
        target = request.first_line.split(" ")[1]
        exchange = Exchange(method, target, dict(request.headers), content)
        with self._lock:
            self.exchanges.append(exchange)
        if action == "status":
            assert fault is not None
            self._note("applied")
            exchange.status = fault.status
            client.sendall(_status_reply(fault, method))
            return True
        upstream_stream = _Stream(upstream)
        upstream.sendall(raw_head + raw_body)
        response_head = upstream_stream.head()
        if response_head is None:
            raise _Closed("upstream closed")
        response = _Message.parse(response_head)
        status = int(response.first_line.split(" ")[1])
        exchange.status = status
        bodiless = method == "HEAD" or status in (204, 304) or status < 200
        raw, content = (b"", b"") if bodiless else _read_body(upstream_stream, response, True)
        reusable = "close" not in response.headers.get("connection", "").lower()
        if action in ("reset_after", "stall_before_response", "status_after_store"):
            self._note("applied")
            if action == "reset_after":
                _reset(client)
                return None
            if action == "stall_before_response":
                self._stall()
                return None
            assert fault is not None
            exchange.status = fault.status
            client.sendall(_status_reply(fault, method))
            return reusable
        if action and not content:
            # Every remaining fault acts on the response body; this one has none.
            self._note("n/a: no response body")
            if action == "close_after_headers":
                client.sendall(response_head + raw)
                return None
            action = ""
        if not action:
            client.sendall(response_head + raw)
            return reusable
        self._note("applied")
        return self._body_fault(action, client, response, response_head, content)

    def _body_fault(
        self,
        action: str,
        client: socket.socket,
        response: _Message,
        response_head: bytes,
        content: bytes,
    ) -> bool | None:
        half = content[: len(content) // 2]
        if action == "close_after_headers":
            client.sendall(response_head)
            return None
        if action in ("reset_mid_download", "stall_mid_download", "truncated_unframed"):
            # The head as sent announces the whole body; only half of it follows.
            client.sendall(_frame(response, content, announce_only=True) + half)
            if action == "reset_mid_download":
                _reset(client)
            elif action == "stall_mid_download":
                self._stall()
            return None
        if action == "truncated_framed":
            client.sendall(_frame(response, half))
            return True
        flipped = bytearray(content)
        middle = len(flipped) // 2
        flipped[middle] ^= 0xFF if action == "byte_flip" else 0x01
        client.sendall(_frame(response, bytes(flipped)))
        return True


def _frame(response: _Message, content: bytes, *, announce_only: bool = False) -> bytes:
    """The response head and `content`, framed as the original was (chunked or length).

    With `announce_only`, returns what precedes the content of a body of `len(content)`
    bytes: the head (with its length) and, if chunked, the first chunk's size line.
    """
    if response.chunked:
        head = response.head + f"{len(content):x}\r\n".encode()
        return head if announce_only else head + content + b"\r\n0\r\n\r\n"
    head = response.with_length(len(content))
    return head if announce_only else head + content


_STATUS_BODY = b'{"detail":"injected by the fault proxy"}'


def _status_reply(fault: Fault, method: str) -> bytes:
    lines = [
        f"HTTP/1.1 {fault.status} {_REASONS.get(fault.status, 'Error')}",
        "Content-Type: application/json",
        f"Content-Length: {len(_STATUS_BODY)}",
    ]
    if fault.retry_after is not None:
        lines.append(f"Retry-After: {fault.retry_after}")
    # A HEAD answer announces the length a GET would have, without the body.
    return ("\r\n".join([*lines, "", ""])).encode() + (b"" if method == "HEAD" else _STATUS_BODY)
