"""Helpers for callers: MIME types, `Accept-Encoding` parsing, the header value codec."""

from __future__ import annotations

from typing import IO
from urllib.parse import quote, unquote

__all__ = [
    "decode_header_value",
    "encode_header_value",
    "encode_path",
    "encode_query",
    "guess_mime_type",
    "parse_accept_encoding",
]

# Everything visible in ASCII except `%` stays as is; `%` is escaped so that a literal
# percent sign is never mistaken for an escape when decoding. Same set as 0.2.10.
_HEADER_VALUE_SAFE = "".join(chr(b) for b in range(0x21, 0x7F) if b != ord("%")) + " "

# Left unescaped in paths besides RFC 3986's unreserved set: sub-delims, `:`, `@` and `/`,
# the set urllib3 leaves alone, so the encoding survives on the wire verbatim. Queries
# also keep `?`. The same sets as 0.2.10 (and as `_protocol`'s key encoding).
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?"

# The encodings `Session.get` can store and pass through; `*` stands for these when some
# other coding is refused (`parse_accept_encoding`).
_KNOWN_ENCODINGS = ("zstd",)

# `filetype` inspects at most this many leading bytes.
_SNIFF_BYTES = 261


def guess_mime_type(contents: bytes | bytearray | memoryview | IO[bytes]) -> str | None:
    """Guesses a MIME type from the magic bytes at the start of `contents`.

    Reads up to 261 bytes. A seekable stream is read from its current position and put
    back there; a non-seekable stream (a pipe) is not touched and gives `None`. To guess
    from a file name, use `mimetypes.guess_type` from the standard library.

    Returns:
        The MIME type, or `None` if it cannot be recognised.
    """
    if isinstance(contents, bytes | bytearray | memoryview):
        header = bytes(memoryview(contents).cast("B")[:_SNIFF_BYTES])
    else:
        if not contents.seekable():
            return None
        position = contents.tell()
        header = contents.read(_SNIFF_BYTES)
        contents.seek(position)
    import filetype  # on first use: it loads dozens of modules

    kind = filetype.guess(header)
    return kind.mime if kind else None


def parse_accept_encoding(header: str) -> list[str]:
    """Parses an `Accept-Encoding` header into a list for `Session.get(accept_encoding=)`.

    A service proxying downloads to its own clients can pass their header through, so
    objects stored compressed are sent on compressed when the client can decode them.
    Names are lower-cased, parameters dropped, and codings refused with `q=0` left out
    (RFC 9110 §12.5.3). `*` is kept, unless a coding is refused explicitly: then it is
    replaced by the encodings this SDK knows that are not refused, because a refusal
    overrides `*` (`zstd;q=0, *` must not return zstd bytes), and `*;q=0` drops it.
    `identity;q=0` is ignored, as the uncompressed form is always available.

    Args:
        header: The header's value, e.g. `"gzip, zstd;q=0.8, br"`.

    Returns:
        The accepted encodings in header order, e.g. `["gzip", "zstd", "br"]`.
    """
    accepted: list[str] = []
    refused: set[str] = set()
    for item in header.split(","):
        name, *parameters = item.split(";")
        name = name.strip().lower()
        if not name:
            continue
        if any(_is_zero_quality(parameter) for parameter in parameters):
            refused.add(name)
        else:
            accepted.append(name)
    if "*" in accepted and refused - {"identity"}:
        # Only the first `*` is expanded; the others would add nothing.
        position = accepted.index("*")
        wildcard = [e for e in _KNOWN_ENCODINGS if e not in refused and e not in accepted]
        accepted = [name for name in accepted if name != "*"]
        accepted[position:position] = [] if "*" in refused else wildcard
    return accepted


def _is_zero_quality(parameter: str) -> bool:
    name, _, value = parameter.partition("=")
    if name.strip().lower() != "q":
        return False
    try:
        return float(value.strip()) == 0.0
    except ValueError:
        # An unparsable weight is ignored, as a server would ignore it.
        return False


def encode_header_value(value: str) -> str:
    """Percent-encodes a metadata value so it survives as an HTTP header value.

    Header values carry only visible ASCII, so every other character (as UTF-8) and `%`
    itself become `%XX`. Leading and trailing spaces are escaped too, because HTTP parsers
    strip them. Plain ASCII values without `%` are unchanged.
    """
    encoded = quote(value, safe=_HEADER_VALUE_SAFE)
    body = encoded.strip(" ")
    if body == encoded:
        return encoded
    leading = len(encoded) - len(encoded.lstrip(" "))
    trailing = len(encoded) - leading - len(body)
    return "%20" * leading + body + "%20" * trailing


def decode_header_value(value: str) -> str:
    """Decodes a value written by `encode_header_value`, tolerating anything else.

    Values written by older clients are raw text. If decoding fails (an escape that is not
    valid UTF-8), the raw value is returned unchanged. A raw value that happens to contain
    a valid escape such as `%20` cannot be told apart from an encoded one and is decoded.
    """
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return value


def encode_path(path: str) -> str:
    """Percent-encodes a request path as it goes on the wire (as in 0.2.x).

    The input is literal text: every character outside RFC 3986's unreserved set,
    sub-delims, `:`, `@` and `/` is escaped as UTF-8 `%XX`, including `%` itself.
    """
    return quote(path, safe=_PATH_SAFE)


def encode_query(query: str) -> str:
    """Percent-encodes a query string as it goes on the wire (as in 0.2.x).

    Like `encode_path`, and `?` is also left as is; `=` and `&` are kept, so a whole
    `name=value&name=value` string can be passed.
    """
    return quote(query, safe=_QUERY_SAFE)
