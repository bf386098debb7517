"""Byte-exact HTTP/1.1 helpers for the conformance suite.

urllib3 would normalise some of what these tests must control (paths with `%2F`, `//` or
`..`, duplicated headers, header values that are not ASCII), so requests go through
`http.client` with `putrequest`/`putheader`, which put the request line and the headers on
the wire exactly as given. Response header names are kept exactly as received, in order,
with duplicates, so tests can check that the server emits lower-case names.

Every socket has a timeout: a misbehaving server fails a test, it never hangs the suite.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 15.0

HeaderValue = str | bytes
Headers = Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]]


@dataclass
class Response:
    """A response as received: status, raw header pairs in wire order, the whole body."""

    status: int
    reason: str
    version: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool

    def header(self, name: str) -> str | None:
        """The value of header `name`, matched case-sensitively (the wire must be lower-case).

        Fails the test if the header occurs more than once.
        """
        values = self.all(name)
        assert len(values) <= 1, f"header {name!r} occurs {len(values)} times: {values}"
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        """Every value of header `name`, matched case-sensitively."""
        return [v for k, v in self.headers if k == name]

    def has(self, name: str) -> bool:
        """Whether header `name` (case-insensitively) is present at all."""
        return any(k.lower() == name.lower() for k, _ in self.headers)

    @property
    def names(self) -> list[str]:
        """Header names as received."""
        return [k for k, _ in self.headers]

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def __repr__(self) -> str:
        body = self.body if len(self.body) < 400 else self.body[:400] + b"..."
        return f"<Response {self.status} {self.reason} headers={self.headers} body={body!r}>"


def _pairs(headers: Headers | None) -> list[tuple[str, HeaderValue]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: Headers | None = None,
    body: bytes | None = None,
    *,
    chunks: Iterable[bytes] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_body: int | None = None,
) -> Response:
    """Send one request on a fresh connection and read the response.

    `path` goes on the wire verbatim (it may contain a query). Headers are sent in the given
    order, duplicates included; values may be bytes (sent as-is). If `body` is given and no
    `content-length` header is, one is added. `chunks` sends a chunked body instead. No
    `accept-encoding` header is added. `max_body` stops reading after that many body bytes
    (for responses that may not end).
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        pairs = _pairs(headers)
        names = {k.lower() for k, _ in pairs}
        for name, value in pairs:
            conn.putheader(name, value)
        try:
            if chunks is not None:
                if "transfer-encoding" not in names:
                    conn.putheader("transfer-encoding", "chunked")
                conn.endheaders(message_body=chunks, encode_chunked=True)
            else:
                if body is not None and "content-length" not in names:
                    conn.putheader("content-length", str(len(body)))
                conn.endheaders(message_body=body)
        except (BrokenPipeError, ConnectionResetError):
            # The server answered (and closed) before taking the whole body: read the answer.
            pass
        resp = conn.getresponse()
        return read_response(resp, max_body=max_body)
    finally:
        conn.close()


def read_response(resp: http.client.HTTPResponse, *, max_body: int | None = None) -> Response:
    """Turn an `http.client` response into a `Response`, reading (at most `max_body` of) it."""
    chunked = bool(resp.chunked)
    headers = [(k, v) for k, v in resp.getheaders()]
    if max_body is None:
        body = resp.read()
    else:
        parts: list[bytes] = []
        got = 0
        while got < max_body:
            piece = resp.read1(max_body - got)
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        body = b"".join(parts)
    return Response(resp.status, resp.reason, resp.version, headers, body, chunked)


class RawConnection:
    """A plain socket for requests that `http.client` cannot express, or that stay open."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def send(self, data: bytes) -> bool:
        """Send bytes; False if the server already closed the connection (RST/EPIPE)."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def read_until(self, marker: bytes, limit: int = 65536) -> bytes:
        """Receive until `marker` has been seen (or EOF/limit); returns everything read."""
        data = b""
        while marker not in data and len(data) < limit:
            piece = self.sock.recv(4096)
            if not piece:
                break
            data += piece
        return data

    def response(self, method: str = "GET", *, max_body: int | None = None) -> Response:
        """Read one response (skipping interim 1xx responses) from the socket."""
        resp = http.client.HTTPResponse(self.sock, method=method)
        resp.begin()
        try:
            return read_response(resp, max_body=max_body)
        finally:
            resp.close()

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_exchange(
    host: str, port: int, data: bytes, *, method: str = "GET", timeout: float = DEFAULT_TIMEOUT
) -> Response:
    """Send `data` (a complete request, bytes as given) and read one response."""
    with RawConnection(host, port, timeout) as conn:
        conn.send(data)
        return conn.response(method)
