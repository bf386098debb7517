"""Byte ranges of stored objects: `ByteRange`, for `Session.get(range=...)` and `get_ranges`.

A range is written like a Python slice of the stored bytes, as a `(start, end)` tuple or a
`ByteRange`: `(10, 20)` is `data[10:20]` (end exclusive), `(10, None)` is `data[10:]`
(to the end) and `(-100, None)` is `data[-100:]` (the last 100 bytes). Ranges address
the **stored** bytes (protocol §7): for a zstd-compressed object that is the compressed
data, returned as it is stored unless the range covers the whole object.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ByteRange", "RangeSpec"]


@dataclass(frozen=True, slots=True)
class ByteRange:
    """The stored bytes `data[start:end]` of an object; validated by the operations.

    `end=None` reads to the end; a negative `start` with `end=None` reads the last
    `-start` bytes.
    """

    start: int
    """The first byte (0-based), or minus the length of a suffix."""

    end: int | None = None
    """One past the last byte; `None` for the end of the object."""

    @property
    def header(self) -> str:
        """The `Range` header value (protocol §7): `bytes=A-B` (inclusive), `A-` or `-N`."""
        if self.start < 0:
            return f"bytes={self.start}"
        if self.end is None:
            return f"bytes={self.start}-"
        return f"bytes={self.start}-{self.end - 1}"

    def __str__(self) -> str:
        end = "" if self.end is None else str(self.end)
        return f"[{self.start}:{end}]"


RangeSpec = ByteRange | tuple[int, int | None]
"""A `ByteRange`, or `(start, end)` meaning the same."""
