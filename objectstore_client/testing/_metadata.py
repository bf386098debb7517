"""Object metadata on the wire: validation on writes (spec §5.1, §5.3) and echo on reads (§5.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from objectstore_client.testing._duration import (
    MANUAL,
    DurationError,
    Policy,
    parse_policy,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"

_TOKEN = r"[A-Za-z0-9*][A-Za-z0-9!#$&\-^_.+%*']{0,126}"
_VALUE = r"(?:[A-Za-z0-9!#$&\-^_.+%*']+|\"(?:[^\"\\\r\n]|\\[^\r\n])*\")"
_OWS = r"[ \t]*"
_CONTENT_TYPE = re.compile(
    rf"{_TOKEN}/{_TOKEN}(?:{_OWS};{_OWS}{_TOKEN}={_VALUE})*(?:{_OWS};)?{_OWS}", re.ASCII
)
_VISIBLE = re.compile(r"[\x20-\x7e\t]*")


class MetadataError(ValueError):
    """A metadata header the real server rejects with 400; `str()` is the innermost cause."""


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
    deadlines past year 9999 that it then cannot render (spec §5.4.1)."""

    def stamped(self, now: datetime) -> ObjectMeta:
        """A copy with `time_created = now` and the deadline computed from the policy (§5.4.1).

        Raises `OverflowError` for a deadline past the server clock's range (its write is 500).
        """
        expires = None
        if self.policy.kind != "manual":
            expires = to_us(now) + self.policy.nanos // 1000
            if expires // 1_000_000 > _I64_MAX:
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
        """Production semantics: ttl/tti objects whose deadline has passed (spec §9.2)."""
        return self.expires_us is not None and self.expires_us < to_us(now)


_I64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def format_timestamp(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ`: UTC, always six fractional digits (spec §5.5)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_metadata(headers: list[tuple[str, str]]) -> ObjectMeta:
    """Validates and collects the metadata headers of a write (spec §5.1).

    Every occurrence of a header is validated; the last one wins. Raises `MetadataError`.
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
        if not _VISIBLE.fullmatch(value):
            raise MetadataError("error dealing with http headers")
        if name == "content-type":
            if not _CONTENT_TYPE.fullmatch(value):
                raise MetadataError("invalid content type")
            content_type = value
        elif name == "content-encoding":
            if value != "zstd":
                raise MetadataError("invalid compression value")
            encoding = value
        elif name == "x-sn-expiration":
            try:
                policy = parse_policy(value)
            except DurationError:
                raise MetadataError("invalid expiration policy") from None
        elif name == "x-sn-origin":
            origin = value
        elif name == "x-sn-filename":
            filename = value
        else:
            custom[name[len("x-snme-") :]] = value
    return ObjectMeta(content_type, encoding, policy, origin, filename, custom)


def content_disposition(filename: str) -> str:
    """`attachment; filename="..."` with the sanitising of spec §5.7."""
    safe = filename.replace("/", "-").replace("\\", "-")
    if safe and set(safe) == {"."}:
        safe = "-" * len(safe)
    safe = safe.replace('"', '\\"')
    return f'attachment; filename="{safe}"'


def metadata_headers(meta: ObjectMeta, *, single_object: bool) -> list[tuple[str, str]]:
    """The metadata headers of a read (spec §5.2).

    `single_object` adds what only single-object GET/HEAD carry (`content-disposition`); the
    caller adds `accept-ranges`. Raises `OverflowError` for a deadline past year 9999.
    """
    headers = [("content-type", meta.content_type)]
    if meta.content_encoding:
        headers.append(("content-encoding", meta.content_encoding))
    if meta.policy.kind != "manual":
        headers.append(("x-sn-expiration", meta.policy.render()))
    if meta.time_created is not None:
        headers.append(("x-sn-time-created", format_timestamp(meta.time_created)))
    expires = meta.time_expires  # raises OverflowError past year 9999, like the server's 500
    if expires is not None:
        headers.append(("x-sn-time-expires", format_timestamp(expires)))
    if meta.origin is not None:
        headers.append(("x-sn-origin", meta.origin))
    if meta.filename is not None:
        headers.append(("x-sn-filename", meta.filename))
    for name in sorted(meta.custom, key=lambda n: n.encode()):
        headers.append((f"x-snme-{name}", meta.custom[name]))
    if single_object and meta.filename is not None:
        headers.append(("content-disposition", content_disposition(meta.filename)))
    return headers
