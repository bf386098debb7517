"""Range requests (protocol §7): what a ranged GET's answer covers, decided without I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import urllib3

from objectstore_client._protocol import U64_LIMIT, header_number
from objectstore_client.errors import ProtocolError, RangeNotSatisfiable, RequestError
from objectstore_client.ranges import ByteRange

__all__ = [
    "ContentRange",
    "check_answered",
    "download_total",
    "parse_content_range",
    "unsatisfiable",
]

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


def check_answered(byte_range: ByteRange, answered: ContentRange | None, path: str) -> None:
    """Checks that a ranged GET's answer carries exactly the stored bytes asked for.

    A satisfiable range is always answered with a 206 for the bytes it selects, the end
    clipped to the object's and a suffix longer than the object covering all of it
    (protocol §7). A 200 (a proxy that dropped the header, or made the server ignore it)
    or another range would otherwise be returned as the range.

    Raises:
        ProtocolError: The answer is a 200, or covers other bytes.
    """
    if answered is None:
        raise ProtocolError(
            f"GET {path}: the server ignored the Range header ({byte_range.header}): a 200"
        )
    total = answered.total
    if byte_range.start < 0:
        first, end = max(0, total + byte_range.start), total
    else:
        first = byte_range.start
        end = total if byte_range.end is None else min(byte_range.end, total)
    if (answered.first, answered.last) != (first, end - 1):
        raise ProtocolError(
            f"GET {path}: asked for bytes {first}-{end - 1} ({byte_range.header}) of "
            f"{total}, got bytes {answered.first}-{answered.last}"
        )


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
