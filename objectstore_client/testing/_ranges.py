"""`Range` headers as the server reads them (protocol §7)."""

from __future__ import annotations

from dataclasses import dataclass

from objectstore_client._protocol import decimal
from objectstore_client.testing._httparse import is_visible_text

_U64_MAX = 2**64 - 1


@dataclass(frozen=True)
class ByteRange:
    """A parsed `Range`: `first-last`, `first-`, or a suffix `-length`."""

    first: int | None
    last: int | None


class RangeError(ValueError):
    """An invalid `Range` header: 400 `client error: invalid Range header: <message>`.

    `causes` is False where the server's error document has no `causes` (a reversed range
    such as `bytes=5-3`).
    """

    def __init__(self, message: str, *, causes: bool = True) -> None:
        super().__init__(message)
        self.causes = causes


def parse_range(value: str) -> ByteRange | None:
    """Parses a `Range` value as the server does (§7); `None` means "ignored, serve all"."""
    if not is_visible_text(value):
        raise RangeError("invalid byte range")
    lowered = value.lower()
    if not lowered.startswith("bytes="):
        unit = lowered.split("=", 1)[0]
        raise RangeError(f"invalid range unit: {unit}, expected: bytes")
    rest = lowered[len("bytes=") :]
    if "," in rest:
        return None  # multi-range: not supported, and not rejected either
    first_text, sep, last_text = rest.partition("-")
    if not sep:
        raise RangeError("invalid byte range")
    first = _u64(first_text) if first_text else None
    last = _u64(last_text) if last_text else None
    if first is None and last is None:
        raise RangeError("invalid byte range")
    if first is None and last == 0:
        raise RangeError("invalid byte range")
    if first is not None and last is not None and first > last:
        raise RangeError("invalid byte range", causes=False)
    return ByteRange(first, last)


def _u64(text: str) -> int:
    digits = text[1:] if text.startswith("+") else text  # Rust's u64 parser takes one "+"
    number = decimal(digits)
    if number is None or number > _U64_MAX:
        raise RangeError("invalid byte range")
    return number


def resolve_range(byte_range: ByteRange, size: int) -> tuple[int, int] | None:
    """`(start, end_inclusive)` within an object of `size` bytes, `None` if unsatisfiable."""
    if size == 0:
        return None
    if byte_range.first is None:
        assert byte_range.last is not None
        return max(0, size - byte_range.last), size - 1
    if byte_range.first >= size:
        return None
    last = size - 1 if byte_range.last is None else min(byte_range.last, size - 1)
    return byte_range.first, last
