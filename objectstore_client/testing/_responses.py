"""The response shapes of protocol §4: JSON application errors, plain-text and empty errors."""

from __future__ import annotations

import json

from objectstore_client.testing._http import Response

SERVER = ("server", "objectstore/0.1.0")
JSON = ("content-type", "application/json")
TEXT = ("content-type", "text/plain; charset=utf-8")


class HTTPFailure(Exception):
    """A failure that becomes a complete response (raised anywhere in request handling)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def error_document(*chain: str) -> dict[str, object]:
    """`{"detail": chain[0], "causes": chain[1:]}`, `causes` omitted when empty (§4.1)."""
    document: dict[str, object] = {"detail": chain[0]}
    if len(chain) > 1:
        document["causes"] = list(chain[1:])
    return document


def nested(*messages: str) -> tuple[str, ...]:
    """The message chain of nested errors: `("a", "b", "c")` → `a: b: c`, `b: c`, `c`."""
    return tuple(": ".join(messages[i:]) for i in range(len(messages)))


def json_error(status: int, *messages: str) -> Response:
    """An application error: JSON body with the nested message chain (§4.1)."""
    body = json.dumps(error_document(*nested(*messages)), separators=(",", ":")).encode()
    return Response(status, [JSON], body)


def json_detail(status: int, detail: str, *causes: str) -> Response:
    """An application error whose `causes` are given as they are, not derived from `detail`."""
    document: dict[str, object] = {"detail": detail}
    if causes:
        document["causes"] = list(causes)
    return Response(status, [JSON], json.dumps(document, separators=(",", ":")).encode())


def json_ok(status: int, document: object) -> Response:
    """A JSON success response."""
    return Response(status, [JSON], json.dumps(document, separators=(",", ":")).encode())


def text_error(status: int, message: str) -> Response:
    """A framework error: plain text (§4.2)."""
    return Response(status, [TEXT], message.encode())


def empty(status: int, *headers: tuple[str, str]) -> Response:
    """An empty-bodied response (§4.3)."""
    return Response(status, list(headers))
