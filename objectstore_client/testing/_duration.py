"""The server's duration grammar (humantime, protocol §5.4.1) and its canonical output (§5.4.2).

This is deliberately strict: anything the real server rejects must be rejected here. The
SDK's own, lenient parser lives in `objectstore_client.metadata`; they are different rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from objectstore_client._protocol import decimal

NS = 1
US = 1_000
MS = 1_000_000
SEC = 1_000_000_000
_MINUTE = 60 * SEC
_HOUR = 3600 * SEC
_DAY = 86_400 * SEC
_WEEK = 7 * _DAY
_MONTH = 2_630_016 * SEC
_YEAR = 31_557_600 * SEC
_U64_MAX = 2**64 - 1

_UNITS: dict[str, int] = {}
for _names, _ns in (
    (("ns", "nsec", "nanos"), NS),
    (("us", "usec", "µs"), US),
    (("ms", "msec", "millis"), MS),
    (("s", "sec", "secs", "second", "seconds"), SEC),
    (("m", "min", "mins", "minute", "minutes"), _MINUTE),
    (("h", "hr", "hrs", "hour", "hours"), _HOUR),
    (("d", "day", "days"), _DAY),
    (("w", "wk", "wks", "week", "weeks"), _WEEK),
    (("M", "month", "months"), _MONTH),
    (("y", "yr", "yrs", "year", "years"), _YEAR),
):
    for _name in _names:
        _UNITS[_name] = _ns


class DurationError(ValueError):
    """The text is not a duration the real server would accept."""


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_space(char: str) -> bool:
    """Rust's `char::is_whitespace` (Unicode White_Space), which humantime uses.

    Python's `str.isspace` also counts U+001C..U+001F, which Rust does not.
    """
    return char.isspace() and not "\x1c" <= char <= "\x1f"


def _is_unit_char(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z") or char == "µ"


def parse_duration(text: str) -> int:
    """Parses a humantime duration into nanoseconds, as strictly as the real server.

    The real server runs humantime 2.4.0, whose arithmetic is unsigned 64-bit and checked at
    every step: an item's nanoseconds (`18446744073709551615ms`), a fraction's digits (20
    of them), or a fraction's share of its unit that is not a whole number of nanoseconds
    (seconds for hours and longer) is an error, even where the total would fit.
    """
    if text == "0":
        return 0
    pos, end = 0, len(text)
    while pos < end and _is_space(text[pos]):
        pos += 1
    if pos == end:
        raise DurationError("empty duration")
    seconds, nanos = 0, 0
    while pos < end:
        if not _is_digit(text[pos]):
            raise DurationError(f"expected a number at {pos}")
        whole, frac = "", None
        while pos < end:
            char = text[pos]
            if _is_digit(char):
                if frac is None:
                    whole += char
                else:
                    frac += char
            elif char == "." and frac is None:
                frac = ""
            elif _is_space(char):
                pass  # humantime ignores whitespace inside a number: "1 0s" is ten seconds
            elif _is_unit_char(char):
                break
            else:
                raise DurationError(f"invalid character {char!r}")
            pos += 1
        if pos == end:
            raise DurationError("number without a unit")
        if frac == "":
            raise DurationError("a fraction needs at least one digit")
        start = pos
        while pos < end and _is_unit_char(text[pos]):
            pos += 1
        unit = text[start:pos]
        if pos < end and not (_is_space(text[pos]) or _is_digit(text[pos])):
            raise DurationError(f"invalid character {text[pos]!r}")
        scale = _UNITS.get(unit)
        if scale is None:
            raise DurationError(f"unknown unit {unit!r}")
        seconds, nanos = _add_item(seconds, nanos, _number(whole), frac, scale, unit)
        while pos < end and _is_space(text[pos]):
            pos += 1
    return seconds * SEC + nanos


def _number(digits: str) -> int:
    """ASCII `digits` (the caller's scan found only those) as a number that fits 64 bits."""
    return _checked(decimal(digits) or 0)


def _checked(value: int) -> int:
    """`value` if it fits humantime's unsigned 64 bits."""
    if value > _U64_MAX:
        raise DurationError("number overflow")
    return value


def _add_item(
    seconds: int, nanos: int, whole: int, frac: str | None, scale: int, unit: str
) -> tuple[int, int]:
    """One item added as humantime's `parse_unit` does: its whole part, then its fraction."""
    if scale < SEC:
        seconds, nanos = _add_current(seconds, nanos, 0, _checked(whole * scale))
    else:
        seconds, nanos = _add_current(seconds, nanos, _checked(whole * (scale // SEC)), 0)
    if not frac:
        return seconds, nanos
    if scale == NS:
        raise DurationError("fractions are not allowed on nanoseconds")
    # Leading zeros only grow the denominator; both must fit 64 bits.
    numerator, denominator = _number(frac), _checked(10 ** len(frac))
    # Up to minutes the fraction is counted in nanoseconds, from hours on in seconds.
    per_unit = scale if scale <= _MINUTE else scale // SEC
    share, remainder = divmod(_checked(numerator * per_unit), denominator)
    if remainder:
        raise DurationError(f"a fraction of {unit!r} that is not a whole number of its steps")
    if scale <= _MINUTE:
        return _add_current(seconds, nanos, 0, share)
    return _add_current(seconds, nanos, share, 0)


def _add_current(seconds: int, nanos: int, add_seconds: int, add_nanos: int) -> tuple[int, int]:
    """A sum as humantime's `add_current` does it: nanoseconds carried, every sum checked."""
    nanos = _checked(nanos + add_nanos)
    # humantime carries only above one second (a sum of exactly 10**9 stays nanoseconds,
    # and `Duration::new` carries it); the total is the same. When that carry overflows
    # (`18446744073709551615s 1000000000ns`), `Duration::new` panics in the real server,
    # whose answer then is not known; here it is the overflow error.
    if nanos > SEC:
        add_seconds = _checked(add_seconds + nanos // SEC)
        nanos %= SEC
    seconds = _checked(seconds + add_seconds)
    if nanos == SEC:
        seconds, nanos = _checked(seconds + 1), 0
    return seconds, nanos


def format_duration(nanos: int) -> str:
    """Renders nanoseconds in humantime's canonical form (`1day 1h`, `1s 500ms`, `0s`)."""
    seconds, sub = divmod(nanos, SEC)
    if not seconds and not sub:
        return "0s"
    years, rest = divmod(seconds, 31_557_600)
    months, rest = divmod(rest, 2_630_016)
    days, rest = divmod(rest, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for value, singular, plural in (
        (years, "year", "years"),
        (months, "month", "months"),
        (days, "day", "days"),
    ):
        if value:
            parts.append(f"{value}{plural if value > 1 else singular}")
    for value, suffix in (
        (hours, "h"),
        (minutes, "m"),
        (secs, "s"),
        (sub // MS, "ms"),
        (sub // US % 1000, "us"),
        (sub % 1000, "ns"),
    ):
        if value:
            parts.append(f"{value}{suffix}")
    return " ".join(parts)


def format_dhms(nanos: int) -> str:
    """Renders whole seconds as today's server does (`30s`, `1d`, `2d 3h 4s`, protocol §5.4.2).

    The sub-second remainder is truncated and days are the largest unit.
    """
    seconds = nanos // SEC
    if not seconds:
        return "0s"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s"))
    return " ".join(f"{value}{unit}" for value, unit in units if value)


@dataclass(frozen=True)
class Policy:
    """An expiration policy: `manual`, or time-to-live / time-to-idle with a duration."""

    kind: Literal["manual", "ttl", "tti"]
    nanos: int = 0

    def render(self, *, current: bool = False) -> str:
        """The wire form the server emits; `manual` is never emitted.

        `current` selects today's d/h/m/s output (`ttl:1d`) over the 0.2.0 release's
        humantime output (`ttl:1day`).
        """
        if self.kind == "manual":
            return "manual"
        duration = format_dhms(self.nanos) if current else format_duration(self.nanos)
        return f"{self.kind}:{duration}"


MANUAL = Policy("manual")


def parse_policy(text: str) -> Policy:
    """Parses an `x-sn-expiration` value (case-sensitive prefixes, protocol §5.4.1)."""
    if text == "manual":
        return MANUAL
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("ttl", "tti"):
        raise DurationError(f"invalid expiration policy {text!r}")
    return Policy("ttl" if kind == "ttl" else "tti", parse_duration(rest))
