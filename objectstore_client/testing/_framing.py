"""A request's body framing and connection handling, as hyper 1.13 reads them (protocol §1).

hyper walks the headers in order: a `transfer-encoding` (refused in HTTP/1.0) makes the body
chunked if its last coding is `chunked` and voids any `content-length`, before or after it;
a `content-length` before any `transfer-encoding` must be ASCII digits fitting 64 bits
(else 400) and below 2**64 - 2 (else 431), and several must agree in value; a
`transfer-encoding` whose last coding is not `chunked` is a 400. A request with both closes
its connection after the response. Any `connection` header with a `close` token closes it;
HTTP/1.0 keeps it only for `keep-alive`. The last `expect` header decides whether a
`100 Continue` is sent, and only for HTTP/1.1 requests with a body. Header values that are
not visible ASCII never match a token here (`HeaderValue::to_str` fails).
"""

from __future__ import annotations

from dataclasses import dataclass

from objectstore_client._protocol import U64_LIMIT, decimal
from objectstore_client.testing._httparse import HeadError, is_visible_text

__all__ = ["Framing", "framing"]

# hyper's `DecodedLength::MAX_LEN`: the two lengths above it stand for chunked and
# close-delimited bodies.
_MAX_LENGTH = U64_LIMIT - 3


@dataclass(frozen=True)
class Framing:
    """What the head says of the body and of the connection."""

    length: int | None
    """The body's length from `content-length`; `None` when chunked or absent (empty)."""
    chunked: bool
    expect_continue: bool
    """Send `100 Continue` before reading the body."""
    keep_alive: bool
    """The connection may serve another request after this one's response."""


def _has_token(value: str, token: str) -> bool:
    """Hyper's `connection_has`: a comma-separated token, trimmed, in any case."""
    return is_visible_text(value) and any(p.strip(" \t").lower() == token for p in value.split(","))


def _digits(value: str) -> int | None:
    """Hyper's `from_digits`: ASCII digits only (leading zeros too), within 64 bits."""
    number = decimal(value)
    return number if number is not None and number < U64_LIMIT else None


def framing(headers: list[tuple[str, str]], version: str) -> Framing:
    """The body framing and connection handling of a request head, as hyper reads them.

    Raises:
        HeadError: 400 for a framing hyper refuses, 431 for a length it cannot represent.
    """
    http_11 = version == "HTTP/1.1"
    keep_alive = http_11
    saw_close = False
    is_te = is_cl = chunked = expect = False
    length: int | None = None
    for name, value in headers:
        if name == "transfer-encoding":
            if not http_11:
                raise HeadError(400)
            is_te = True
            length = None
            chunked = (
                is_visible_text(value)
                and value.rsplit(",", 1)[-1].strip(" \t").lower() == "chunked"
            )
        elif name == "content-length":
            is_cl = True
            if is_te:
                continue
            number = _digits(value)
            if number is None or (length is not None and number != length):
                raise HeadError(400)
            if number > _MAX_LENGTH:
                raise HeadError(431)
            length = number
        elif name == "connection":
            if saw_close or _has_token(value, "close"):
                saw_close, keep_alive = True, False
            elif not keep_alive:
                keep_alive = _has_token(value, "keep-alive")
        elif name == "expect":
            expect = value.isascii() and value.lower() == "100-continue"
    if is_te and not chunked:
        raise HeadError(400)
    has_body = chunked or bool(length)
    return Framing(
        length=None if chunked else length,
        chunked=chunked,
        expect_continue=expect and http_11 and has_body,
        keep_alive=keep_alive and not (is_te and is_cl),
    )
