"""Single-object endpoints (spec §6), ranges (§7), expiry reads (§9) and extend-expiry (§18.2)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from objectstore_client.testing._context import Context, PolicyError, Services
from objectstore_client.testing._duration import DurationError, Policy, parse_duration
from objectstore_client.testing._http import Response
from objectstore_client.testing._metadata import (
    MetadataError,
    ObjectMeta,
    metadata_headers,
    parse_metadata,
    to_us,
)
from objectstore_client.testing._responses import (
    HTTPFailure,
    empty,
    json_error,
    json_ok,
    text_error,
)
from objectstore_client.testing._storage import ObjectId, StoredObject

READ, WRITE, DELETE = "object.read", "object.write", "object.delete"
_U64_MAX = 2**64 - 1


# --- writes ------------------------------------------------------------------------------


def write_metadata(context: Context) -> ObjectMeta:
    """Metadata headers, then the usecase policy, then permission: stage 8 of §3."""
    try:
        meta = parse_metadata(context.request.headers)
    except MetadataError as exc:
        raise HTTPFailure(json_error(400, "service error", "metadata error", str(exc))) from None
    try:
        context.services.check_policy(context.usecase, meta.policy)
    except PolicyError as exc:
        raise HTTPFailure(json_error(400, "client error", str(exc))) from None
    context.authorize(WRITE)
    return meta


def stamp(services: Services, meta: ObjectMeta) -> ObjectMeta:
    """Sets the creation time and deadline; a deadline past the clock's range is a 500."""
    try:
        return meta.stamped(services.now())
    except OverflowError:
        raise HTTPFailure(
            json_error(500, "service error", "expiration time is out of range")
        ) from None


def _store(context: Context, key: str, status: int) -> Response:
    meta = write_metadata(context)
    with context.services.backend_slot():
        oid = context.oid(key, "write")
        stamped = stamp(context.services, meta)
        body = context.request.body
        context.services.storage.put(oid, stamped, iter(body))
        context.wrote(oid)
        context.services.count_bytes(body.bytes_read)
    return json_ok(status, {"key": key})


def post(context: Context) -> Response:
    """POST: create with a server-generated UUIDv4 key; 201 (§6.1)."""
    return _store(context, str(uuid.uuid4()), 201)


def put(context: Context) -> Response:
    """PUT: create or overwrite; always 200 (§6.2)."""
    return _store(context, context.key, 200)


# --- reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ByteRange:
    """A parsed `Range`: `first-last`, `first-`, or a suffix `-length`."""

    first: int | None
    last: int | None


class RangeError(ValueError):
    """An invalid `Range` header: 400 `client error: invalid Range header: <message>`."""


def parse_range(value: str) -> ByteRange | None:
    """Parses a `Range` value as the server does (§7); `None` means "ignored, serve all"."""
    if not all(" " <= c <= "~" or c == "\t" for c in value):
        raise RangeError("invalid byte range")
    lowered = value.lower()
    if not lowered.startswith("bytes="):
        unit = lowered.split("=", 1)[0]
        raise RangeError(f"invalid range unit: {unit}, expected: bytes")
    rest = lowered[len("bytes=") :]
    if "," in rest:
        return None  # multi-range: not supported, and not rejected either
    first_text, sep, last_text = rest.partition("-")
    if not sep:
        raise RangeError("invalid byte range")
    first = _u64(first_text) if first_text else None
    last = _u64(last_text) if last_text else None
    if first is None and last is None:
        raise RangeError("invalid byte range")
    if first is None and last == 0:
        raise RangeError("invalid byte range")
    if first is not None and last is not None and first > last:
        raise RangeError("invalid byte range")
    return ByteRange(first, last)


def _u64(text: str) -> int:
    digits = text[1:] if text.startswith("+") else text  # Rust's u64 parser takes one "+"
    if not digits.isdigit() or not digits.isascii() or int(digits) > _U64_MAX:
        raise RangeError("invalid byte range")
    return int(digits)


def resolve_range(byte_range: ByteRange, size: int) -> tuple[int, int] | None:
    """`(start, end_inclusive)` within an object of `size` bytes, `None` if unsatisfiable."""
    if size == 0:
        return None
    if byte_range.first is None:
        assert byte_range.last is not None
        return max(0, size - byte_range.last), size - 1
    if byte_range.first >= size:
        return None
    last = size - 1 if byte_range.last is None else min(byte_range.last, size - 1)
    return byte_range.first, last


def open_for_read(context: Context, oid: ObjectId) -> StoredObject | None:
    """Opens an object for a read: hides expired objects and bumps TTI (production, §9)."""
    services = context.services
    stored = services.storage.open(oid)
    if stored is None:
        return None
    now = services.now()
    if not services.production:
        return stored  # the filesystem backend never checks expiry nor bumps TTI (§9.2)
    if stored.meta.expired(now):
        stored.blob.close()
        return None
    _bump_tti(services, oid, stored, now)
    return stored


def _bump_tti(services: Services, oid: ObjectId, stored: StoredObject, now: datetime) -> None:
    meta = stored.meta
    if meta.policy.kind != "tti" or meta.expires_us is None:
        return
    duration = meta.policy.nanos // 1000
    window = min(duration // 4, 24 * 3600 * 1_000_000)
    if meta.expires_us < to_us(now) + duration - window:
        # Best effort, like the server: a concurrent replace wins and the bump is dropped.
        bumped = replace(meta, expires_us=to_us(now) + duration)
        services.storage.update_meta(oid, stored.version, bumped)


class _Body:
    """A streamed object body that closes its blob when done, or when never iterated."""

    def __init__(self, services: Services, stored: StoredObject, start: int, end: int) -> None:
        self._services, self._stored, self._start, self._end = services, stored, start, end

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stored.blob.iter_range(self._start, self._end):
            self._services.count_bytes(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stored.blob.close()


def get(context: Context) -> Response:
    """GET: 200 streamed chunked, 206 for a range, 416, or 404 (§6.3, §7)."""
    raw_range = context.request.header("range")
    try:
        byte_range = parse_range(raw_range) if raw_range is not None else None
    except RangeError as exc:
        return json_error(400, "client error", f"invalid Range header: {exc}")
    context.authorize(READ)
    with context.services.backend_slot():
        stored = open_for_read(context, context.oid())
    if stored is None:
        return empty(404)
    headers = read_headers(stored)
    if byte_range is None:
        return Response(200, headers, _Body(context.services, stored, 0, stored.size))
    span = resolve_range(byte_range, stored.size)
    if span is None:
        stored.blob.close()
        return empty(416, ("content-range", f"bytes */{stored.size}"), ("accept-ranges", "bytes"))
    start, last = span
    headers += [
        ("content-range", f"bytes {start}-{last}/{stored.size}"),
        ("content-length", str(last - start + 1)),
    ]
    return Response(206, headers, _Body(context.services, stored, start, last + 1))


def head(context: Context) -> Response:
    """HEAD: 204 with the metadata headers, or 404; `range` is ignored (§6.4)."""
    context.authorize(READ)
    with context.services.backend_slot():
        stored = open_for_read(context, context.oid())
    if stored is None:
        return empty(404)
    stored.blob.close()
    return Response(204, read_headers(stored))


def read_headers(stored: StoredObject) -> list[tuple[str, str]]:
    """Single-object read headers; a deadline past year 9999 cannot be rendered: 500."""
    try:
        headers = metadata_headers(stored.meta, single_object=True)
    except OverflowError:
        stored.blob.close()
        raise HTTPFailure(unrenderable_deadline()) from None
    return [*headers, ("accept-ranges", "bytes")]


def unrenderable_deadline() -> Response:
    """The 500 for an object whose deadline is past year 9999 (spec §5.4.1)."""
    return json_error(500, "service error", "expiration time cannot be formatted")


def delete(context: Context) -> Response:
    """DELETE: 204; a missing key is 204 (production) or 500 (filesystem) (§6.5)."""
    context.authorize(DELETE)
    with context.services.backend_slot():
        oid = context.oid(access="delete")
        existed = context.services.storage.delete(oid)
        context.deleted(oid)
    if not existed and not context.services.production:
        return missing_file_error()
    return empty(204)


def missing_file_error() -> Response:
    """The filesystem backend's error for a missing file (spec §6.5)."""
    return json_error(500, "service error", "i/o error", "No such file or directory (os error 2)")


# --- extend expiry (newer servers, spec §18.2) ------------------------------------------


def read_json_body(context: Context, limit: int = 2 * 1024 * 1024) -> object:
    """Reads a JSON body as axum's `Json` extractor does: 415, 413, 400 (spec §4.2)."""
    content_type = (context.request.header("content-type") or "").split(";")[0].strip().lower()
    essence_ok = content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )
    if not essence_ok:
        raise HTTPFailure(text_error(415, "Expected request with `Content-Type: application/json`"))
    body = context.request.body
    data = body.read(limit + 1)
    while len(data) <= limit and (more := body.read(limit + 1 - len(data))):
        data += more
    if len(data) > limit:
        raise HTTPFailure(
            text_error(413, "Failed to buffer the request body: length limit exceeded")
        )
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPFailure(
            text_error(400, f"Failed to parse the request body as JSON: {exc}")
        ) from None


def _shape_error(detail: str) -> HTTPFailure:
    return HTTPFailure(
        text_error(422, f"Failed to deserialize the JSON body into the target type: {detail}")
    )


def _extension_target(document: object, meta: ObjectMeta, now: datetime) -> datetime:
    spec = document.get("extend_expiry") if isinstance(document, dict) else None
    if not isinstance(spec, dict):
        raise _shape_error("missing field `extend_expiry`")
    if set(spec) == {"at"} and isinstance(spec["at"], str):
        try:
            at = datetime.fromisoformat(spec["at"])
        except ValueError:
            raise _shape_error("invalid `at` timestamp") from None
        if at.utcoffset() is None:
            raise _shape_error("`at` needs a UTC offset")
        # Absolute deadlines round up to whole seconds (the 0.2.10 client documents this).
        seconds = math.ceil(at.timestamp())
        return datetime.fromtimestamp(seconds, UTC)
    if set(spec) == {"after", "from"} and spec["from"] in ("creation", "now"):
        try:
            after = timedelta(microseconds=parse_duration(str(spec["after"])) // 1000)
        except (DurationError, OverflowError):
            raise _shape_error("invalid `after` duration") from None
        base = meta.time_created if spec["from"] == "creation" else now
        if base is None:
            raise HTTPFailure(json_error(409, "client error", "object has no creation time"))
        return base + after
    raise _shape_error("expected `at`, or `after` with `from`")


def patch(context: Context) -> Response:
    """PATCH extend-expiry: 204, 404 missing, 409 for objects that never expire (§18.2).

    The wire format comes from the 0.2.10 client; where it is silent we chose: success is
    204 with no body, a deadline is never shortened (an already-sufficient one is a
    success), a TTL's duration is adjusted to the new lifetime, a TTI's is kept.
    """
    context.authorize(WRITE)
    document = read_json_body(context)
    services = context.services
    with services.backend_slot():
        stored = open_for_read(context, context.oid())
        if stored is None:
            return empty(404)
        stored.blob.close()
        meta = stored.meta
        if meta.policy.kind == "manual" or meta.expires_us is None:
            return json_error(409, "client error", "object does not expire")
        try:
            target = to_us(_extension_target(document, meta, services.now()))
        except OverflowError:
            return json_error(400, "client error", "deadline out of range")
        if target <= meta.expires_us:
            return empty(204)
        policy = meta.policy
        if policy.kind == "ttl" and meta.time_created is not None:
            lifetime_us = target - to_us(meta.time_created)
            policy = Policy("ttl", lifetime_us // 1_000_000 * 1_000_000_000)
        updated = replace(meta, expires_us=target, policy=policy)
        if not services.storage.update_meta(context.oid(), stored.version, updated):
            return json_error(409, "client error", "object changed concurrently")
    return empty(204)
