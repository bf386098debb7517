"""Range requests (protocol §7): what a ranged GET's answer covers, decided without I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import urllib3

from objectstore_client._protocol import U64_LIMIT, header_number
from objectstore_client.errors import ProtocolError, RangeNotSatisfiable, RequestError
from objectstore_client.ranges import ByteRange

__all__ = ["ContentRange", "download_total", "parse_content_range", "unsatisfiable"]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class ContentRange:
    """The stored bytes a 206 answer carries: `first` to `last` inclusive, of `total`."""

    first: int
    last: int
    total: int

    @property
    def whole(self) -> bool:
        """Whether the answer carries every stored byte of the object."""
        return self.first == 0 and self.last == self.total - 1


def parse_content_range(status: int, headers: Mapping[str, str]) -> ContentRange | None:
    """The range a GET answer carries: `None` for a whole-object 200 (no `content-range`).

    Raises:
        ProtocolError: A 206 without a valid `content-range: bytes A-B/T`.
    """
    if status != 206:
        return None
    value = headers.get("content-range", "")
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        raise ProtocolError(f"206 answer with an unusable content-range: {value!r}")
    first, last, total = (int(group) for group in match.groups())
    # What the server sends (`first <= last < total`, 64-bit numbers, protocol §7); anything
    # else would make the bytes to expect negative or wrong.
    if not first <= last < total < U64_LIMIT:
        raise ProtocolError(f"206 answer with an impossible content-range: {value!r}")
    return ContentRange(first, last, total)


def unsatisfiable(error: RequestError, byte_range: ByteRange, path: str) -> RangeNotSatisfiable:
    """The 416 of a ranged GET as a `RangeNotSatisfiable` naming the range asked for."""
    return RangeNotSatisfiable(
        f"GET {path}: range {byte_range} ({byte_range.header}) is not satisfiable: it starts"
        " at or past the end of the stored bytes (status 416)",
        error.status,
        error.response,
    )


def download_total(
    response: urllib3.BaseHTTPResponse, size: int | None, decoded: bool
) -> int | None:
    """The payload bytes a GET answer will yield, if known and not decoded.

    Its `content-length`, or else the stored size (`x-sn-size`, `size`) of a whole-object
    answer: servers stream whole objects without a length (protocol §19.3).
    """
    if decoded:
        return None
    length = header_number(response.headers.get("content-length"))
    if length is not None:
        return length
    return size if response.status == 200 else None
