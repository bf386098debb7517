"""The bytes httparse 1.10 allows in request heads (what hyper and multer parse with).

The real server's HTTP/1 requests (hyper) and batch part headers (multer) are parsed by
httparse, which refuses a header whose name is not a token (RFC 9110 §5.6.2) or whose value
holds a byte other than tab, visible ASCII, space or obs-text (0x80 and above).
"""

from __future__ import annotations

import re

__all__ = ["TOKEN", "URI", "VALUE", "HeadError", "is_visible_text"]

TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")
"""httparse's `TOKEN_MAP`: the bytes of a header name."""

VALUE = frozenset(b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100)))
"""httparse's `HEADER_VALUE_MAP`: the bytes of a header value."""

URI = frozenset(bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100)))
"""httparse's `URI_MAP`: the bytes of a request target (what the `http` crate then reads is
`_uri.py`'s)."""


class HeadError(Exception):
    """A request head refused as hyper refuses it: answered with `status`, then closed.

    Status 0 closes the connection without an answer (the head never ended).
    """

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status


_VISIBLE_TEXT = re.compile(r"[\t -~]*")


def is_visible_text(value: str) -> bool:
    """Whether `value` is only tab, space and visible ASCII.

    What the `http` crate's `HeaderValue::to_str` takes, and what the current server's
    percent codec reads.
    """
    return _VISIBLE_TEXT.fullmatch(value) is not None
