"""Durations in `x-sn-expiration`: one writer, one lenient reader (protocol §5.4)."""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

from objectstore_client.errors import InvalidArgument, InvalidArgumentType

_NS_PER_SECOND = 1_000_000_000

# humantime's units (protocol §5.4.1), which cover everything a server has ever written:
# humantime output (`1year 2months 3days 4h 5m 6s 7ms 8us 9ns`), objectstore-client 0.0.19's
# `N days M seconds` and 0.2.10's `Nd Nh Nm Ns`. Case matters: `M` is a month, `m` a minute.
# In nanoseconds, so that whole numbers, all a server writes, add up as integers: Fraction
# arithmetic made parsing the header of every download ten times slower.
_UNIT_NANOS: dict[str, int] = {}
for _names, _nanos in (
    (("ns", "nsec", "nanos"), 1),
    (("us", "usec", "\u00b5s", "\u03bcs"), 1000),
    (("ms", "msec", "millis"), 1_000_000),
    (("s", "sec", "secs", "second", "seconds"), _NS_PER_SECOND),
    (("m", "min", "mins", "minute", "minutes"), 60 * _NS_PER_SECOND),
    (("h", "hr", "hrs", "hour", "hours"), 3600 * _NS_PER_SECOND),
    (("d", "day", "days"), 86_400 * _NS_PER_SECOND),
    (("w", "wk", "wks", "week", "weeks"), 7 * 86_400 * _NS_PER_SECOND),
    (("M", "month", "months"), 2_630_016 * _NS_PER_SECOND),
    (("y", "yr", "yrs", "year", "years"), 31_557_600 * _NS_PER_SECOND),
):
    for _name in _names:
        _UNIT_NANOS[_name] = _nanos

_ITEM = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([^\W\d_]+)\s*")


def ceil_seconds(delta: timedelta) -> int:
    """Returns `delta` in whole seconds, rounded up (exactly, without float rounding)."""
    return -(-(delta // timedelta(microseconds=1)) // 1_000_000)


def format_timedelta(delta: timedelta) -> str:
    """Formats a duration as `Nd Nh Nm Ns` for the `x-sn-expiration` header.

    Zero components are left out and a zero duration is `0s`; every server version
    accepts this form. Sub-second parts are rounded *up* to a whole second, so an object
    never expires earlier than asked.

    Raises:
        InvalidArgumentType: `delta` is not a `timedelta`.
        InvalidArgument: `delta` is negative.
    """
    if not isinstance(delta, timedelta):
        raise InvalidArgumentType("delta", f"must be a timedelta, got {type(delta).__name__}")
    if delta < timedelta(0):
        raise InvalidArgument("delta", f"must not be negative, got {delta}")
    seconds = ceil_seconds(delta)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [
        f"{value}{unit}"
        for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s"))
        if value
    ]
    return " ".join(parts) or "0s"


def parse_timedelta(delta: str) -> timedelta:
    """Parses a duration in any form an Objectstore server writes or accepts.

    Accepts humantime items such as `1year 2months`, `1day 1h`, `1h 30m`, `1s 500ms`,
    `2h37min`, `1.5h` and `0`, objectstore-client 0.0.19's `1 days 3600 seconds` and
    0.2.10's `1d 2h`. Months are 30.44 days and years 365.25 days, as on the server.
    Precision is one microsecond.

    Raises:
        ValueError: The text is empty, has an unknown unit or a number without unit, or
            the duration is out of range. Nothing is silently misread.
    """
    # The parameter keeps its 0.0.19 name, `delta`, for keyword callers.
    text = delta
    stripped = text.strip()
    if stripped == "0":
        return timedelta(0)
    position = 0
    nanos: int | Fraction = 0  # exact: a Fraction only once a decimal number was seen
    while position < len(stripped):
        match = _ITEM.match(stripped, position)
        if match is None:
            raise ValueError(f"invalid duration {text!r}: expected <number><unit> items")
        number, unit = match.groups()
        unit_nanos = _UNIT_NANOS.get(unit)
        if unit_nanos is None:
            raise ValueError(f"invalid duration {text!r}: unknown unit {unit!r}")
        nanos += (Fraction(number) if "." in number else int(number)) * unit_nanos
        position = match.end()
    if position == 0:
        raise ValueError(f"invalid duration {text!r}: empty")
    try:
        return timedelta(microseconds=nanos // 1000)
    except OverflowError as exc:
        raise ValueError(f"invalid duration {text!r}: out of range") from exc
