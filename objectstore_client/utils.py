"""Helpers for callers: MIME type guessing and the metadata header value codec."""

from __future__ import annotations

from typing import IO
from urllib.parse import quote, unquote

import filetype

__all__ = ["decode_header_value", "encode_header_value", "guess_mime_type"]

# Everything visible in ASCII except `%` stays as is; `%` is escaped so that a literal
# percent sign is never mistaken for an escape when decoding. Same set as 0.2.10.
_HEADER_VALUE_SAFE = "".join(chr(b) for b in range(0x21, 0x7F) if b != ord("%")) + " "

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
    kind = filetype.guess(header)
    return kind.mime if kind else None


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
