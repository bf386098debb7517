"""The batch endpoint's multipart/form-data reader (protocol §10.1), as the real server reads it.

The real server reads batch bodies with the Rust crate multer 3.1, which takes a part's
header block as everything up to the first CRLF CRLF and parses it with httparse 1.10 (the
parser hyper uses for request heads). Both are followed here, quirks included: a bare LF
ends a header line and an empty line ends the headers (whatever is left of the block is
ignored), control bytes refuse the whole body, and a repeated header keeps its last value.
Framing errors carry multer's texts (checked against multer itself by
tools/upstream_oracles/).
"""

from __future__ import annotations

import re

from objectstore_client.testing._body import BodyReader
from objectstore_client.testing._httparse import TOKEN, VALUE

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_PART_HEADERS",
    "FormParts",
    "FramingError",
    "parse_header_block",
]

MAX_BODY_BYTES = 1_073_741_824
MAX_PART_HEADERS = 32
# Not a limit of the real server (multer reads until CRLF CRLF, bounded only by the body
# limit): the local server's guard against holding a huge header block.
_HEAD_LIMIT = 64 * 1024
_READ_HEADERS_FAILED = "failed to read headers"


class FramingError(Exception):
    """The multipart body is malformed; ends the batch with one 400 part."""


def _byte_class(allowed: frozenset[int]) -> bytes:
    return b"[" + b"".join(rb"\x%02x" % byte for byte in sorted(allowed)) + b"]"


# A block of well-formed header lines (a token, a colon, value bytes, CRLF or LF) up to an
# empty line: the common case, read with two regular expressions instead of byte by byte.
_NAME, _VALUE = _byte_class(TOKEN) + b"+", _byte_class(VALUE) + b"*"
_FIELD = re.compile(rb"(%b):(%b)\r?\n" % (_NAME, _VALUE))
# At most MAX_PART_HEADERS lines: a longer block is refused by the byte-by-byte reading,
# which stops at the first header too many instead of reading them all.
_WELL_FORMED = re.compile(rb"(?:%b:%b\r?\n){0,%d}\r?\n" % (_NAME, _VALUE, MAX_PART_HEADERS))


def parse_header_block(block: bytes) -> list[tuple[str, str]]:
    """A part's headers as httparse's `parse_headers` reads them: lower-case names, last wins.

    Raises:
        FramingError: A byte outside a header name or value, a line break other than CRLF
            or LF, more than `MAX_PART_HEADERS` headers, or no empty line to end them.
    """
    well_formed = _WELL_FORMED.match(block)
    if well_formed is not None:
        # `HeaderMap::insert`: the last value replaces the others, in the first one's place
        # (the order decides which metadata error is reported first).
        found = {
            name.decode("latin-1").lower(): value.strip(b" \t").decode("latin-1")
            for name, value in _FIELD.findall(block, 0, well_formed.end())
        }
        return list(found.items())
    # Anything else takes the byte-by-byte reading, which finds httparse's error, if any.
    return _parse_byte_by_byte(block)


def _parse_byte_by_byte(block: bytes) -> list[tuple[str, str]]:
    headers: dict[str, str] = {}
    count = 0
    position, end = 0, len(block)

    def next_byte() -> int:
        nonlocal position
        if position >= end:
            # httparse's `Status::Partial`: multer's "failed to read field complete headers".
            raise FramingError("failed to read field complete headers")
        position += 1
        return block[position - 1]

    while True:
        byte = next_byte()
        if byte in b"\r\n":
            if byte == 0x0D and next_byte() != 0x0A:
                raise FramingError(_READ_HEADERS_FAILED)
            return list(headers.items())
        if byte not in TOKEN:
            raise FramingError(_READ_HEADERS_FAILED)
        name_start = position - 1
        while (byte := next_byte()) != 0x3A:  # ":"
            if byte not in TOKEN:
                raise FramingError(_READ_HEADERS_FAILED)
        name = block[name_start : position - 1]
        while (byte := next_byte()) in b" \t":
            pass
        value_start = position - 1
        if byte in b"\r\n":
            value_end = value_start
        else:
            if byte not in VALUE:
                raise FramingError(_READ_HEADERS_FAILED)
            while (byte := next_byte()) in VALUE:
                pass
            value_end = position - 1
        if byte == 0x0D:
            if next_byte() != 0x0A:
                raise FramingError(_READ_HEADERS_FAILED)
        elif byte != 0x0A:
            raise FramingError(_READ_HEADERS_FAILED)
        count += 1
        if count > MAX_PART_HEADERS:
            raise FramingError(_READ_HEADERS_FAILED)
        value = block[value_start:value_end].rstrip(b" \t")
        headers[name.decode("latin-1").lower()] = value.decode("latin-1")


_ASCII_SPACE = b" \t\n\x0c\r"  # Rust's `u8::is_ascii_whitespace`


def _disposition_name(value: str) -> str | None:
    """The field name multer reads from a `content-disposition` value (`name=...`)."""
    header = value.encode("latin-1")
    while (index := header.find(b"name")) >= 0:
        rest = header[index + 4 :]
        # `filename=` and other words ending in "name" do not count.
        if index > 0 and not (header[index - 1] in _ASCII_SPACE or header[index - 1] == 0x3B):
            header = rest
            continue
        rest = rest.lstrip(_ASCII_SPACE)
        if not rest.startswith(b"="):
            return None
        rest = rest[1:].lstrip(_ASCII_SPACE)
        escaped = False
        if rest.startswith(b'"'):
            rest = rest[1:]
            end = rest.find(b'"')
            if end < 0:
                return None
            while end > 0 and rest[end - 1] == 0x5C:  # a quote escaped by a backslash
                escaped = True
                following = rest.find(b'"', end + 1)
                if following < 0:
                    return None
                end = following
            raw = rest[:end]
        else:
            stops = [i for i in (rest.find(b";"), rest.find(b" ")) if i >= 0]
            raw = rest[: min(stops)] if stops else rest
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return name.replace('\\"', '"') if escaped else name
    return None


def _rust_debug(text: str) -> str:
    """`text` as Rust's `{:?}` writes a string (printable characters approximated)."""
    escapes = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        else:
            out.append(f"\\u{{{ord(char):x}}}")
    return '"' + "".join(out) + '"'


class FormParts:
    """A streaming multipart/form-data reader over a request body."""

    def __init__(self, body: BodyReader, boundary: bytes) -> None:
        self._body = body
        self._delimiter = b"--" + boundary
        self._buffer = bytearray()
        self._total = 0
        self._field: str | None = None

    def _fill(self, *, in_body: bool = False) -> None:
        chunk = self._body.read(64 * 1024)
        if not chunk:
            if in_body:
                name = "<unknown>" if self._field is None else self._field
                raise FramingError(f"field {_rust_debug(name)} received with incomplete data")
            raise FramingError("incomplete multipart stream")
        self._total += len(chunk)
        if self._total > MAX_BODY_BYTES:
            raise FramingError("stream size exceeded limit: 1073741824 bytes")
        self._buffer += chunk

    def _need(self, count: int) -> None:
        while len(self._buffer) < count:
            self._fill()

    def start(self) -> bool:
        """Skips the preamble and the first delimiter; whether a part follows."""
        while (index := self._buffer.find(self._delimiter)) < 0:
            if len(self._buffer) > len(self._delimiter):
                del self._buffer[: len(self._buffer) - len(self._delimiter)]
            self._fill()
        del self._buffer[: index + len(self._delimiter)]
        return self._after_delimiter()

    def _after_delimiter(self) -> bool:
        """After `--boundary`: `--` ends the body; else any spaces and tabs, then CRLF."""
        self._need(2)
        if self._buffer[:2] == b"--":
            return False
        # multer's `advance_past_transport_padding`: no limit, so padding is dropped as it
        # comes instead of being held.
        while not (padding := self._buffer.lstrip(b" \t")):
            self._buffer.clear()
            self._fill()
        self._buffer = padding
        self._need(2)
        if self._buffer[:2] != b"\r\n":
            raise FramingError("incomplete multipart stream")
        del self._buffer[:2]
        return True

    def headers(self) -> list[tuple[str, str]]:
        """Reads one part's header block: everything up to the first CRLF CRLF.

        As in multer, that is so even for a part without headers: its block runs to the
        next CRLF CRLF, wherever that is, and its body starts after it.
        """
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > _HEAD_LIMIT:
                raise FramingError("part headers too large")
            self._fill()
        block = bytes(self._buffer[: end + 4])
        del self._buffer[: end + 4]
        headers = parse_header_block(block)
        disposition = next((v for k, v in headers if k == "content-disposition"), None)
        self._field = None if disposition is None else _disposition_name(disposition)
        return headers

    def body(self, limit: int) -> tuple[bytes, bool]:
        """Reads one part's body up to the next delimiter: (first `limit` bytes, too large)."""
        marker = b"\r\n" + self._delimiter
        kept = bytearray()
        too_large = False
        while (index := self._buffer.find(marker)) < 0:
            safe = len(self._buffer) - len(marker)
            if safe > 0:
                too_large = too_large or len(kept) + safe > limit
                if not too_large:
                    kept += self._buffer[:safe]
                del self._buffer[:safe]
            self._fill(in_body=True)
        too_large = too_large or len(kept) + index > limit
        if not too_large:
            kept += self._buffer[:index]
        del self._buffer[: index + len(marker)]
        return bytes(kept), too_large

    def more(self) -> bool:
        """After a part's body: whether another part follows (False at the close delimiter)."""
        return self._after_delimiter()
