"""The request target as hyper 1 and the `http` crate read it, after httparse (protocol §1).

hyper answers 414 to a target longer than 65,534 bytes and hands the rest to `http::Uri`,
whose parser of an origin-form target (`/path?query#fragment`) drops the fragment and
refuses, with a 400, the ASCII bytes its path and query maps leave out: `<`, `>` and a
backtick in the path, `"`, `<` and `>` in the query. What it does with bytes from 0x80
depends on its version (refused in the path and query before 1.3; since, the whole target
must be UTF-8) and is not known for the real server: they are refused anywhere in the
target here, the conservative choice (clients percent-encode them).
Other target forms (absolute, authority, `*`) are passed on as they are: clients do not
send them to an origin server.
"""

from __future__ import annotations

from objectstore_client.testing._httparse import HeadError

__all__ = ["MAX_URI_LEN", "origin_target"]

MAX_URI_LEN = 65_534
"""hyper's `MAX_URI_LEN` (and the `http` crate's `MAX_LEN`): `u16::MAX - 1`."""

# The `http` crate's `PATH_MAP` and `QUERY_MAP` (1.6; the same ASCII bytes since 0.2).
_PATH = frozenset(
    b'!"{}|~'
    + bytes(range(0x24, 0x3C))
    + b"="
    + bytes(range(0x40, 0x60))
    + bytes(range(0x61, 0x7B))
)
_QUERY = frozenset(b"!=" + bytes(range(0x24, 0x3C)) + bytes(range(0x3F, 0x7F)))


def origin_target(target: bytes) -> bytes:
    """The target without its fragment, once hyper and `http::Uri` have accepted it.

    Raises:
        HeadError: 414 for a target over `MAX_URI_LEN` bytes, 400 for a byte from 0x80 or
            one the URI parser refuses before the fragment.
    """
    if len(target) > MAX_URI_LEN:
        raise HeadError(414)
    if not target.isascii():
        raise HeadError(400)
    if not target.startswith(b"/"):
        return target
    target = target.partition(b"#")[0]
    path, _, query = target.partition(b"?")
    if not _PATH.issuperset(path) or not _QUERY.issuperset(query):
        raise HeadError(400)
    return target
