"""Today's percent codec for free-form metadata values and batch keys (protocol §5.8).

The current server stores the *logical* value: it percent-decodes what a client writes and
percent-encodes what it echoes, so any Unicode text round-trips through ASCII headers. The
0.2.0 release stored and echoed the raw header value; it never calls these.
"""

from __future__ import annotations

import re

from objectstore_client.testing._httparse import is_visible_text

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
# What `encode_value` leaves as it is: visible ASCII (and space) but `%`.
_ESCAPE_FREE = re.compile(r"[ -$&-~]*")

# RFC 8187 attr-char: what `filename*` leaves unescaped (protocol §5.7).
_ATTR_CHARS = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~"
)


class ValueCodecError(ValueError):
    """A raw value the current server refuses; `str()` is its reason."""


def decode_value(raw: str) -> str:
    """The logical value of a header: `%XX` decoded, a lone `%` and `+` kept as they are.

    Raises:
        ValueCodecError: The raw value is not visible ASCII, or decodes to invalid UTF-8.
    """
    if not is_visible_text(raw):
        raise ValueCodecError("header value is not visible ASCII")
    if "%" not in raw:
        return raw
    data = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw.encode("ascii"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueCodecError("header value is not valid percent-encoded UTF-8") from None


def encode_value(value: str) -> str:
    """The header form of a logical value: controls, DEL, `%` and non-ASCII as `%XX`."""
    if _ESCAPE_FREE.fullmatch(value):
        return value
    out: list[str] = []
    for char in value:
        if char == "%" or char < " " or char == "\x7f" or not char.isascii():
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        else:
            out.append(char)
    return "".join(out)


def content_disposition(filename: str) -> str:
    r"""Today's `content-disposition`: a sanitised quoted name plus `filename*` when needed.

    The quoted fallback turns `/` and `\` into `-`, an all-dots name into dashes, and every
    control or non-ASCII character into one `_`; a non-ASCII name also gets the RFC 8187
    `filename*=UTF-8''...` form of the original (protocol §5.7).
    """
    safe = filename.replace("/", "-").replace("\\", "-")
    if safe and set(safe) == {"."}:
        safe = "-" * len(safe)
    safe = "".join("_" if not c.isascii() or c < " " or c == "\x7f" else c for c in safe)
    header = 'attachment; filename="{}"'.format(safe.replace('"', '\\"'))
    if not filename.isascii():
        encoded = "".join(
            chr(b) if b in _ATTR_CHARS else f"%{b:02X}" for b in filename.encode("utf-8")
        )
        header += f"; filename*=UTF-8''{encoded}"
    return header
