"""Object metadata on the wire: checked on writes (protocol §5.1, §5.3), echoed on reads (§5.2)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from objectstore_client.testing._duration import (
    MANUAL,
    DurationError,
    Policy,
    parse_policy,
)
from objectstore_client.testing._httparse import is_visible_text
from objectstore_client.testing._media_type import is_media_type
from objectstore_client.testing._pct import (
    ValueCodecError,
    content_disposition,
    decode_value,
    encode_value,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class MetadataError(ValueError):
    """A metadata header the real server rejects with 400.

    `str()` is the 0.2.0 release's innermost cause; `causes` is the current server's list.
    """

    def __init__(self, message: str, *causes: str) -> None:
        super().__init__(message)
        self.causes = causes or (message,)


@dataclass(frozen=True)
class ObjectMeta:
    """Everything stored next to an object's bytes."""

    content_type: str = DEFAULT_CONTENT_TYPE
    content_encoding: str | None = None
    policy: Policy = MANUAL
    origin: str | None = None
    filename: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    time_created: datetime | None = None
    expires_us: int | None = None
    """The deadline in microseconds since the epoch: an integer, because the server can store
    deadlines past year 9999 that it then cannot render (protocol §5.4.1)."""

    def stamped(self, now: datetime, *, current: bool = False) -> ObjectMeta:
        """A copy with `time_created = now` and the deadline computed from the policy (§5.4.1).

        `current` (today's server, `now` already whole seconds) rounds a fractional deadline
        up to the next second and refuses one past `9999-12-31T23:59:59Z` with
        `MetadataError` (protocol §5.5). Otherwise a deadline past the server clock's range
        raises `OverflowError` (the 0.2.0 release's write is then a 500).
        """
        expires = None
        if self.policy.kind != "manual":
            expires = to_us(now) + self.policy.nanos // 1000
            if current:
                expires = -(-(to_us(now) * 1000 + self.policy.nanos) // 1_000_000_000) * 1_000_000
                if expires > MAX_TIMESTAMP_US:
                    raise MetadataError("invalid expiration time")
            elif expires // 1_000_000 > _I64_MAX:
                raise OverflowError("expiration time is out of range")
        return replace(self, time_created=now, expires_us=expires)

    @property
    def time_expires(self) -> datetime | None:
        """The deadline as a datetime; `OverflowError` past year 9999."""
        return None if self.expires_us is None else from_us(self.expires_us)

    def to_json(self) -> dict[str, object]:
        """A JSON-able form for storage."""
        return {
            "content_type": self.content_type,
            "content_encoding": self.content_encoding,
            "policy": [self.policy.kind, self.policy.nanos],
            "origin": self.origin,
            "filename": self.filename,
            "custom": self.custom,
            "time_created": _iso(self.time_created),
            "expires_us": self.expires_us,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ObjectMeta:
        """The inverse of `to_json`."""
        kind, nanos = data["policy"]  # type: ignore[misc]
        return cls(
            content_type=str(data["content_type"]),
            content_encoding=data["content_encoding"],  # type: ignore[arg-type]
            policy=Policy(kind, int(str(nanos))),  # type: ignore[has-type]
            origin=data["origin"],  # type: ignore[arg-type]
            filename=data["filename"],  # type: ignore[arg-type]
            custom=dict(data["custom"]),  # type: ignore[call-overload]
            time_created=_from_iso(data["time_created"]),
            expires_us=data["expires_us"],  # type: ignore[arg-type]
        )

    def expired(self, now: datetime) -> bool:
        """Production semantics: ttl/tti objects whose deadline has passed (protocol §9.2)."""
        return self.expires_us is not None and self.expires_us < to_us(now)


_I64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP_US = 253_402_300_799_000_000
"""`9999-12-31T23:59:59Z`, the latest deadline today's server stores (protocol §5.5)."""


def to_us(value: datetime) -> int:
    """Microseconds since the epoch."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    """The inverse of `to_us`; `OverflowError` outside the datetime range (years 1-9999)."""
    return _EPOCH + timedelta(microseconds=value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value is not None else None


def format_timestamp(value: datetime, *, current: bool = False) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` (0.2.0) or whole-second `YYYY-MM-DDTHH:MM:SSZ` (current).

    Today's server only stores whole seconds, so nothing is lost (protocol §5.5).
    """
    form = "%Y-%m-%dT%H:%M:%SZ" if current else "%Y-%m-%dT%H:%M:%S.%fZ"
    return value.astimezone(UTC).strftime(form)


def request_time(now: datetime) -> datetime:
    """Today's request time: the clock rounded up to the next whole second (protocol §5.5)."""
    if now.microsecond == 0:
        return now
    return now.replace(microsecond=0) + timedelta(seconds=1)


def parse_metadata(headers: list[tuple[str, str]], *, current: bool = False) -> ObjectMeta:
    """Validates and collects the metadata headers of a write (protocol §5.1).

    Every occurrence of a header is validated; the last one wins. `current` applies today's
    rules: `gzip` is a valid encoding and free-form values (origin, filename, `x-snme-*`) are
    percent-decoded (protocol §5.1, §5.8). Raises `MetadataError`.
    """
    content_type = DEFAULT_CONTENT_TYPE
    encoding: str | None = None
    policy = MANUAL
    origin: str | None = None
    filename: str | None = None
    custom: dict[str, str] = {}
    for name, value in headers:
        is_meta = name.startswith("x-snme-") or name in (
            "content-type",
            "content-encoding",
            "x-sn-expiration",
            "x-sn-origin",
            "x-sn-filename",
        )
        if not is_meta:
            continue
        if not is_visible_text(value):
            raise MetadataError(
                "error dealing with http headers",
                "invalid metadata header value",
                "header value is not visible ASCII",
            )
        if current and (name in ("x-sn-origin", "x-sn-filename") or name.startswith("x-snme-")):
            try:
                value = decode_value(value)
            except ValueCodecError as exc:
                raise MetadataError(str(exc), "invalid metadata header value", str(exc)) from None
        if name == "content-type":
            if not is_media_type(value):
                raise MetadataError("invalid content type")
            content_type = value
        elif name == "content-encoding":
            if value != "zstd" and not (current and value == "gzip"):
                raise MetadataError("invalid compression value")
            encoding = value
        elif name == "x-sn-expiration":
            try:
                policy = parse_policy(value)
            except DurationError:
                raise MetadataError("invalid expiration policy value") from None
        elif name == "x-sn-origin":
            origin = value
        elif name == "x-sn-filename":
            filename = value
        else:
            custom[name[len("x-snme-") :]] = value
    return ObjectMeta(content_type, encoding, policy, origin, filename, custom)


def legacy_content_disposition(filename: str) -> str:
    """The 0.2.0 release's `attachment; filename="..."` with the sanitising of protocol §5.7."""
    safe = filename.replace("/", "-").replace("\\", "-")
    if safe and set(safe) == {"."}:
        safe = "-" * len(safe)
    safe = safe.replace('"', '\\"')
    return f'attachment; filename="{safe}"'


def metadata_headers(
    meta: ObjectMeta, *, single_object: bool, current: bool = False
) -> list[tuple[str, str]]:
    """The metadata headers of a read (protocol §5.2).

    `single_object` adds what only single-object GET/HEAD carry (`content-disposition`); the
    caller adds `accept-ranges` and sizes. `current` renders today's formats: d/h/m/s
    durations, whole-second timestamps, percent-encoded free-form values, and a
    `content-disposition` on every single-object read (protocol §5.2, §5.7). Raises
    `OverflowError` for a deadline past year 9999.
    """
    echo = encode_value if current else str
    headers = [("content-type", meta.content_type)]
    if meta.content_encoding:
        headers.append(("content-encoding", meta.content_encoding))
    if meta.policy.kind != "manual":
        headers.append(("x-sn-expiration", meta.policy.render(current=current)))
    if meta.time_created is not None:
        created = format_timestamp(meta.time_created, current=current)
        headers.append(("x-sn-time-created", created))
    expires = meta.time_expires  # raises OverflowError past year 9999, like the server's 500
    if expires is not None:
        headers.append(("x-sn-time-expires", format_timestamp(expires, current=current)))
    if meta.origin is not None:
        headers.append(("x-sn-origin", echo(meta.origin)))
    if meta.filename is not None:
        headers.append(("x-sn-filename", echo(meta.filename)))
    for name in sorted(meta.custom, key=lambda n: n.encode()):
        headers.append((f"x-snme-{name}", echo(meta.custom[name])))
    if single_object and current:
        # The newest server sends a bare `attachment` when there is no filename.
        disposition = "attachment" if meta.filename is None else content_disposition(meta.filename)
        headers.append(("content-disposition", disposition))
    elif single_object and meta.filename is not None:
        headers.append(("content-disposition", legacy_content_disposition(meta.filename)))
    return headers
