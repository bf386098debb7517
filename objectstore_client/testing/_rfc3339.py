"""RFC 3339 deadlines as the real server reads them (`extend_expiry.at`, protocol §22.2).

The server parses `at` with the Rust crate humantime 2.4.0 (`parse_rfc3339`, through
objectstore-types' `Timestamp::from_rfc3339`). This is that function step by step, so that
its leniencies stay visible: a leap second `:60` reads as `:59`, a fraction may be empty
(`07.Z`) or longer than nine digits (the rest is ignored), and without a fraction anything
of at most 25 bytes that ends in `Z` and has `Z` at position 19 is accepted (`07Z..Z`).
"""

from __future__ import annotations

from datetime import date

__all__ = ["parse_rfc3339"]

# humantime's largest instant: 9999-12-31T23:59:59Z.
_MAX_SECONDS = 253_402_300_799
_EPOCH = date(1970, 1, 1)


def parse_rfc3339(text: str) -> tuple[int, int]:
    """(seconds, nanoseconds) since the epoch of a UTC timestamp, as humantime reads it.

    Raises:
        ValueError: humantime refuses the text (format, digits or range).
    """
    data = text.encode("utf-8")
    # `parse_rfc3339`: a `T` and a UTC marker at the end, then the "weak" parser.
    if len(data) < 20 or data[10] != 0x54 or not (data.endswith((b"Z", b"+00:00"))):
        raise ValueError("invalid RFC 3339 format")
    if data[4] != 0x2D or data[7] != 0x2D or data[13] != 0x3A or data[16] != 0x3A:
        raise ValueError("invalid RFC 3339 format")
    year = _two_digits(data, 0) * 100 + _two_digits(data, 2)
    month = _two_digits(data, 5)
    day = _two_digits(data, 8)
    hour = _two_digits(data, 11)
    minute = _two_digits(data, 14)
    second = _two_digits(data, 17)
    if year < 1970 or hour > 23 or minute > 59 or second > 60:
        raise ValueError("timestamp out of range")
    second = min(second, 59)  # a leap second, on any day
    # humantime's own month table and leap-year rule are the Gregorian calendar's, which
    # `date` checks (month 1-12, day within its month) and counts days with.
    days = (date(year, month, day) - _EPOCH).days
    nanos = 0
    if data[19] == 0x2E:  # "."
        step = 100_000_000
        for index in range(20, len(data)):
            byte = data[index]
            if byte == 0x5A:  # "Z" must be the last byte
                if index == len(data) - 1:
                    break
                raise ValueError("invalid digit")
            if byte == 0x2B:  # "+" starts the final "+00:00"
                if index == len(data) - 6:
                    break
                raise ValueError("invalid digit")
            if not 0x30 <= byte <= 0x39:
                raise ValueError("invalid digit")
            nanos += step * (byte - 0x30)
            step //= 10
    elif len(data) > 25 or (data[19] != 0x5A and data[19:] != b"+00:00"):
        raise ValueError("invalid RFC 3339 format")
    seconds = second + minute * 60 + hour * 3600 + days * 86_400
    if seconds > _MAX_SECONDS:
        raise ValueError("timestamp out of range")
    return seconds, nanos


def _two_digits(data: bytes, index: int) -> int:
    first, second = data[index], data[index + 1]
    if not (0x30 <= first <= 0x39 and 0x30 <= second <= 0x39):
        raise ValueError("invalid digit")
    return (first - 0x30) * 10 + second - 0x30
