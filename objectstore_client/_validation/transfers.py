"""Checks on the arguments of ranged reads and file transfers (ranges, sizes, paths)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path

from objectstore_client._protocol import U64_LIMIT
from objectstore_client._validation.arguments import type_name
from objectstore_client._validation.settings import check_count
from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.ranges import ByteRange

__all__ = ["check_range", "check_ranges", "check_size", "check_target_path"]


def _check_int(value: object, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentType(argument, f"must be an int, got {type_name(value)}")
    return value


def check_range(value: object, argument: str = "range") -> ByteRange:
    """Checks a byte range: a `ByteRange` or `(start, end)` read like `data[start:end]`.

    Raises:
        InvalidArgument: A reversed or empty range, a negative end, a negative start
            with an end (only `(-n, None)`, the last `n` bytes, may be negative), or a
            bound the server cannot read (2**64 or more bytes).
        InvalidArgumentType: Not a range, or bounds that are not ints.
    """
    if isinstance(value, ByteRange):
        start, end = value.start, value.end
    elif isinstance(value, tuple) and len(value) == 2:
        start, end = value
    else:
        raise InvalidArgumentType(
            argument, f"must be a ByteRange or a (start, end) tuple, got {type_name(value)}"
        )
    start = _check_int(start, f"{argument} start")
    # The server reads range bounds as unsigned 64-bit numbers (protocol §7): a larger one
    # is a 400, not a range.
    if not -U64_LIMIT < start < U64_LIMIT:
        raise InvalidArgument(argument, f"start must be below 2**64 in size, got {start}")
    if end is None:
        return ByteRange(start, None)
    end = _check_int(end, f"{argument} end")
    if end > U64_LIMIT:
        raise InvalidArgument(argument, f"end must be at most 2**64, got {end}")
    if start < 0:
        raise InvalidArgument(
            argument, f"a negative start (a suffix) takes no end: ({start}, {end})"
        )
    if end <= start:
        raise InvalidArgument(
            argument, f"end must be past start (reversed or empty range): ({start}, {end})"
        )
    return ByteRange(start, end)


def check_ranges(values: object) -> list[ByteRange]:
    """Checks the ranges of `get_ranges`: at least one, valid, none overlapping another.

    Two suffixes always overlap (both hold the last byte); a suffix and an absolute range
    cannot be compared without the object's size, so they are left to the server.

    Raises:
        InvalidArgument: No ranges, an invalid range, or overlapping ranges (both named).
        InvalidArgumentType: Not a sequence of ranges.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidArgumentType("ranges", f"must be a list of ranges, got {type_name(values)}")
    if not values:
        raise InvalidArgument("ranges", "must not be empty")
    ranges = [check_range(value, f"ranges[{index}]") for index, value in enumerate(values)]
    suffixes = [r for r in ranges if r.start < 0]
    if len(suffixes) > 1:
        raise InvalidArgument("ranges", f"suffix ranges {suffixes[0]} and {suffixes[1]} overlap")
    absolute = sorted((r for r in ranges if r.start >= 0), key=lambda r: r.start)
    for before, after in itertools.pairwise(absolute):
        if before.end is None or before.end > after.start:
            raise InvalidArgument("ranges", f"ranges {before} and {after} overlap")
    return ranges


def check_size(value: object, argument: str, minimum: int = 1) -> int:
    """Checks a size or count: an int of at least `minimum` (see `settings.check_count`)."""
    return check_count(value, argument, minimum)


def check_target_path(path: object) -> Path:
    """Checks where a download goes: a path whose directory exists and which is no directory.

    Raises:
        InvalidArgument: The directory is missing, or the path is a directory.
        InvalidArgumentType: Not a `str` or `os.PathLike`.
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidArgumentType("path", f"must be a str or a path, got {type_name(path)}")
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidArgument("path", f"its directory does not exist: {target.parent}")
    if target.is_dir():
        raise InvalidArgument("path", f"is a directory: {target}")
    return target
