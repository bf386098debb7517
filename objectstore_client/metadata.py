"""Object metadata: compression, expiration policies and the headers that carry them."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from objectstore_client._duration import format_timedelta, parse_timedelta
from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.utils import decode_header_value

__all__ = [
    "HEADER_EXPIRATION",
    "HEADER_FILENAME",
    "HEADER_META_PREFIX",
    "HEADER_ORIGIN",
    "HEADER_SIZE",
    "HEADER_TIME_CREATED",
    "HEADER_TIME_EXPIRES",
    "TIME_SPLIT",
    "Compression",
    "ExpirationPolicy",
    "Manual",
    "Metadata",
    "TimeToIdle",
    "TimeToLive",
    "format_expiration",
    "format_timedelta",
    "itertools_batched",
    "parse_expiration",
    "parse_timedelta",
]

logger = logging.getLogger(__name__)

Compression = Literal["zstd"] | Literal["none"]
"""How an upload is compressed: `"zstd"` (the default) or `"none"`."""

HEADER_EXPIRATION = "x-sn-expiration"
HEADER_TIME_CREATED = "x-sn-time-created"
HEADER_TIME_EXPIRES = "x-sn-time-expires"
HEADER_ORIGIN = "x-sn-origin"
HEADER_FILENAME = "x-sn-filename"
HEADER_SIZE = "x-sn-size"
HEADER_META_PREFIX = "x-snme-"


@dataclass
class _DurationPolicy:
    """A policy with a duration; validates it on construction."""

    delta: timedelta

    def __post_init__(self) -> None:
        if not isinstance(self.delta, timedelta):
            raise InvalidArgumentType(
                "expiration_policy",
                f"delta must be a timedelta, got {type(self.delta).__name__}",
            )
        if self.delta < timedelta(0):
            raise InvalidArgument(
                "expiration_policy", f"delta must not be negative, got {self.delta}"
            )


@dataclass
class TimeToIdle(_DurationPolicy):
    """Expire the object after `delta` without any read (GET or HEAD).

    Raises:
        InvalidArgumentType: `delta` is not a `timedelta`.
        InvalidArgument: `delta` is negative.
    """


@dataclass
class TimeToLive(_DurationPolicy):
    """Expire the object `delta` after it was written.

    Raises:
        InvalidArgumentType: `delta` is not a `timedelta`.
        InvalidArgument: `delta` is negative.
    """


@dataclass(frozen=True)
class Manual:
    """Never expire the object; it stays until deleted.

    Pass it to `Session.put(expiration_policy=...)` to store one object without the
    usecase's default expiration. Written as `manual` on the wire (protocol §5.4.1).
    """


ExpirationPolicy = TimeToIdle | TimeToLive
"""An automatic expiration policy, as reported in `Metadata.expiration_policy`.

Uploads also accept `Manual()`; objects without automatic expiration report `None`.
"""


@dataclass
class Metadata:
    """The metadata of a stored object, as read from response headers.

    The first seven fields and their order are those of objectstore-client 0.0.19;
    later fields are appended with defaults so positional construction keeps working.
    """

    content_type: str | None
    """The media type given on upload; `application/octet-stream` when none was."""

    compression: Compression | None
    """How the payload is stored (`"zstd"`), or `None` if stored uncompressed.

    `Session.get` sets it to `None` when it decompresses the payload for you.
    """

    expiration_policy: ExpirationPolicy | None
    """The automatic expiration policy, or `None` if the object never expires."""

    time_created: datetime | None
    """When the object was created or last replaced (computed by the server)."""

    time_expires: datetime | None
    """When the object will expire (computed by the server).

    For a time-to-idle policy this is the deadline before the current access.
    """

    origin: str | None
    """Where the payload came from, typically the IP address of the original source."""

    custom: dict[str, str]
    """Custom metadata; the server lower-cases the names."""

    filename: str | None = None
    """The file name for downloads, if one was set on upload."""

    size: int | None = None
    """Size of the stored (possibly compressed) object in bytes, if the server reports it."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Metadata:
        """Builds metadata from response headers, matching header names case-insensitively.

        Values written percent-encoded are decoded; raw values from older writers are kept
        as they are. A header that cannot be parsed (an unknown duration unit, a malformed
        timestamp) is logged and left out instead of failing the whole download.
        """
        fields: dict[str, Any] = dict(_NO_FIELDS)
        custom: dict[str, str] = {}
        # Names only: urllib3 builds every (name, value) pair of items() with a lookup of
        # its own, and most headers (date, server, ...) are of no interest here.
        for raw_name in headers:
            name = raw_name.lower()
            if name.startswith(HEADER_META_PREFIX):
                value = _last_value(headers, raw_name)
                custom[name[len(HEADER_META_PREFIX) :]] = decode_header_value(value)
            elif name in _HEADER_FIELDS:
                value = _last_value(headers, raw_name)
                field_name, parse = _HEADER_FIELDS[name]
                try:
                    fields[field_name] = parse(value)
                except ValueError:
                    logger.warning("ignoring unparsable %s header: %r", name, value)
        return cls(**fields, custom=custom)


def _last_value(headers: Mapping[str, str], name: str) -> str:
    # urllib3 joins a repeated header's values with ", "; the last one counts, as it
    # always has (earlier versions went through every value in turn).
    # Duck-typed (urllib3's `HTTPHeaderDict` has `getlist`): importing urllib3 here would
    # make `import objectstore_client` pay for it.
    getlist = getattr(headers, "getlist", None)
    if getlist is not None:
        return str(getlist(name)[-1])
    return headers[name]


def format_expiration(expiration_policy: ExpirationPolicy | Manual) -> str:
    """Formats a policy for the `x-sn-expiration` header: `ttl:1d`, `tti:1h 30m`, `manual`.

    Raises:
        InvalidArgumentType: `expiration_policy` is not a policy.
    """
    if isinstance(expiration_policy, TimeToIdle):
        return f"tti:{format_timedelta(expiration_policy.delta)}"
    if isinstance(expiration_policy, TimeToLive):
        return f"ttl:{format_timedelta(expiration_policy.delta)}"
    if isinstance(expiration_policy, Manual):
        return "manual"
    raise InvalidArgumentType(
        "expiration_policy",
        f"must be TimeToLive, TimeToIdle or Manual, got {type(expiration_policy).__name__}",
    )


def parse_expiration(value: str) -> ExpirationPolicy | None:
    """Parses an `x-sn-expiration` value; `manual` and unknown kinds give `None`.

    Raises:
        ValueError: The duration of a `ttl:`/`tti:` value cannot be parsed.
    """
    value = value.strip()
    if value.startswith("tti:"):
        return TimeToIdle(parse_timedelta(value[4:]))
    if value.startswith("ttl:"):
        return TimeToLive(parse_timedelta(value[4:]))
    return None


T = TypeVar("T")

# objectstore-client 0.0.19 split durations with this pattern; kept for code importing it.
TIME_SPLIT = re.compile(r"[^\W\d_]+|\d+")


def itertools_batched(
    iterable: Iterable[T], n: int, strict: bool = False
) -> Iterator[tuple[T, ...]]:
    """Batches `iterable` into tuples of length `n` (`itertools.batched` of Python 3.12).

    Kept from objectstore-client 0.0.19. The last batch may be shorter, unless `strict`.

    Raises:
        ValueError: `n` is less than one, or `strict` and the last batch is short.
    """
    if n < 1:
        raise ValueError("n must be at least one")
    iterator = iter(iterable)
    while batch := tuple(itertools.islice(iterator, n)):
        if strict and len(batch) < n:
            raise ValueError("final batch is shorter than n")
        yield batch


def _parse_compression(value: str) -> str | None:
    return value.strip().lower() or None


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.strip())


# The fields of metadata read from no header at all (custom metadata aside).
_NO_FIELDS: dict[str, Any] = {
    "content_type": "application/octet-stream",
    "compression": None,
    "expiration_policy": None,
    "time_created": None,
    "time_expires": None,
    "origin": None,
}

# Response header (lower case) -> (Metadata field, parser). Parsers raise ValueError.
_HEADER_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "content-type": ("content_type", str.strip),
    "content-encoding": ("compression", _parse_compression),
    HEADER_EXPIRATION: ("expiration_policy", parse_expiration),
    HEADER_TIME_CREATED: ("time_created", _parse_time),
    HEADER_TIME_EXPIRES: ("time_expires", _parse_time),
    HEADER_ORIGIN: ("origin", decode_header_value),
    HEADER_FILENAME: ("filename", decode_header_value),
    HEADER_SIZE: ("size", int),
}
