"""Pieces of the loopback proxies that tests put between a client and a local server."""

from __future__ import annotations

import http.client
import http.server

# Framing headers of the upstream answer; the proxy sends the body whole, with its length.
_FRAMING = ("transfer-encoding", "connection", "content-length")


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """An HTTP/1.1 request handler that logs nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def forwarded_headers(self) -> dict[str, str]:
        """The request's headers, but `Host` (the upstream's is set on the way)."""
        return {k: v for k, v in self.headers.items() if k.lower() != "host"}


def fetch(
    host: str, port: int, path: str, headers: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """GETs `path` from the upstream server; its status, headers and whole body."""
    connection = http.client.HTTPConnection(host, port)
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, answer.getheaders(), body


def send_head(
    handler: http.server.BaseHTTPRequestHandler,
    status: int,
    headers: list[tuple[str, str]],
    length: int,
) -> None:
    """Sends an answer's status and headers, framed by `Content-Length: length`."""
    handler.send_response(status)
    for name, value in headers:
        if name.lower() not in _FRAMING:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(length))
    handler.end_headers()
