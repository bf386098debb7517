"""The bytes httparse 1.10 allows in header names and values (what hyper and multer parse with).

The real server's HTTP/1 requests (hyper) and batch part headers (multer) are parsed by
httparse, which refuses a header whose name is not a token (RFC 9110 §5.6.2) or whose value
holds a byte other than tab, visible ASCII, space or obs-text (0x80 and above).
"""

from __future__ import annotations

__all__ = ["TARGET", "TOKEN", "VALUE"]

TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~")
"""httparse's `TOKEN_MAP`: the bytes of a header name."""

VALUE = frozenset(b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100)))
"""httparse's `HEADER_VALUE_MAP`: the bytes of a header value."""

TARGET = frozenset(range(0x21, 0x7F))
"""The bytes this server takes in a request target: visible ASCII. httparse's `URI_MAP` also
lets obs-text (0x80 and above) through, which the `http` crate's URI parser refuses or
checks as UTF-8 depending on its version (1.3 began accepting it); protocol §1 does not
say which the real server runs, so this server keeps the conservative 400."""
