"""The request target as hyper 1 and the `http` crate read it (protocol §1).

httparse takes a target of visible ASCII and obs-text that is valid UTF-8 as a whole (else a
400). Once the whole head is read, hyper answers 414 to a target longer than 65,534 bytes
(and 431 to a header name of 64 KiB or more, `_http._read_head`), then hands the target to
`http::Uri`, whose parser of an origin-form target (`/path?query#fragment`) drops the
fragment and refuses, with a 400, the ASCII bytes its path and query maps leave out: `<`,
`>` and a backtick in the path, `"`, `<` and `>` in the query. UTF-8 in the path or query is
refused by `http` before 1.3 and accepted since; which the real server runs is not known,
so it is refused here, the conservative choice (clients percent-encode it). Other target
forms (absolute, authority, `*`) are passed on as they are, ASCII only: clients do not send
them to an origin server.
"""

from __future__ import annotations

from objectstore_client.testing._httparse import URI, HeadError

__all__ = ["MAX_URI_LEN", "httparse_accepts", "read_target"]

MAX_URI_LEN = 65_534
"""hyper's `MAX_URI_LEN` (and the `http` crate's `MAX_LEN`): `u16::MAX - 1`."""

# The `http` crate's `PATH_MAP` and `QUERY_MAP` (1.6; the same ASCII bytes in 1.2).
_PATH = frozenset(
    b'!"={}|~' + bytes(range(0x24, 0x3C)) + bytes(range(0x40, 0x60)) + bytes(range(0x61, 0x7B))
)
_QUERY = frozenset(b"!=" + bytes(range(0x24, 0x3C)) + bytes(range(0x3F, 0x7F)))


def httparse_accepts(target: bytes) -> bool:
    """Httparse's `parse_uri`: bytes of its `URI_MAP` that are valid UTF-8 as a whole."""
    if not URI.issuperset(target):
        return False
    try:
        target.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_target(target: bytes, *, long_header_name: bool = False) -> bytes:
    """The target without its fragment, once the head is read (after `httparse_accepts`).

    hyper's order: the target's length, then the header names, then `http::Uri`.

    Raises:
        HeadError: 414 for a target over `MAX_URI_LEN` bytes; 431 if a header name was 64 KiB
            or more; 400 for a byte the URI parser refuses in the path or query, or one from
            0x80 there.
    """
    if len(target) > MAX_URI_LEN:
        raise HeadError(414)
    if long_header_name:
        raise HeadError(431)
    if not target.startswith(b"/"):
        if not target.isascii():
            raise HeadError(400)
        return target
    target = target.partition(b"#")[0]
    path, _, query = target.partition(b"?")
    if not _PATH.issuperset(path) or not _QUERY.issuperset(query):
        raise HeadError(400)
    return target
