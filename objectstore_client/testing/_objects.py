"""Single-object endpoints (protocol §6): writes, reads with ranges (§7), expiry on reads (§9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from objectstore_client.testing._context import Context, PolicyError, Services
from objectstore_client.testing._http import Response
from objectstore_client.testing._memory import Chunk
from objectstore_client.testing._metadata import (
    MetadataError,
    ObjectMeta,
    metadata_headers,
    parse_metadata,
    to_us,
)
from objectstore_client.testing._ranges import RangeError, parse_range, resolve_range
from objectstore_client.testing._responses import (
    HTTPFailure,
    empty,
    json_detail,
    json_error,
    json_ok,
)
from objectstore_client.testing._storage import ObjectId, StoredObject

READ, WRITE, DELETE = "object.read", "object.write", "object.delete"


# --- writes ------------------------------------------------------------------------------


def write_metadata(context: Context) -> ObjectMeta:
    """Metadata headers, then the usecase policy, then permission: stage 8 of §3."""
    try:
        meta = parse_metadata(context.request.headers, current=context.current)
    except MetadataError as exc:
        raise HTTPFailure(metadata_failure(context, exc)) from None
    try:
        context.services.check_policy(context.usecase, meta.policy)
    except PolicyError as exc:
        raise HTTPFailure(policy_failure(context, exc)) from None
    context.authorize(WRITE)
    return meta


def metadata_failure(context: Context, exc: MetadataError) -> Response:
    """The 400 for invalid metadata (protocol §4.1).

    Today's `client error: invalid metadata` with the specific causes, or the 0.2.0
    release's `service error: metadata error: ...` chain.
    """
    if context.current:
        return json_detail(400, "client error: invalid metadata", *exc.causes)
    return json_error(400, "service error", "metadata error", str(exc))


def policy_failure(context: Context, exc: PolicyError) -> Response:
    """The 400 for a policy the usecase forbids (protocol §9.6)."""
    if context.current:
        return json_detail(400, "client error: use case policy violation", str(exc))
    return json_error(400, "client error", str(exc))


def stamp(context: Context, meta: ObjectMeta) -> ObjectMeta:
    """Sets the creation time and deadline from the request time (protocol §5.5).

    A current server refuses a deadline past year 9999 with its 400; the 0.2.0 release
    answered a deadline past its clock's range with a 500.
    """
    try:
        return meta.stamped(context.now(), current=context.current)
    except MetadataError as exc:
        raise HTTPFailure(metadata_failure(context, exc)) from None
    except OverflowError:
        raise HTTPFailure(
            json_error(500, "service error", "expiration time is out of range")
        ) from None


def _store(context: Context, key: str, status: int) -> Response:
    meta = write_metadata(context)
    with context.services.backend_slot():
        oid = context.oid(key, "write")
        stamped = stamp(context, meta)
        body = context.request.body
        context.services.storage.put(oid, stamped, iter(body), context.write_guard(oid))
        context.services.count_bytes(body.bytes_read)
    return json_ok(status, {"key": key})


def post(context: Context) -> Response:
    """POST: create with a server-generated UUIDv4 key; 201 (§6.1)."""
    return _store(context, str(uuid.uuid4()), 201)


def put(context: Context) -> Response:
    """PUT: create or overwrite; always 200 (§6.2)."""
    return _store(context, context.key, 200)


# --- reads -------------------------------------------------------------------------------


def open_for_read(context: Context, oid: ObjectId) -> StoredObject | None:
    """Opens an object for a read: hides expired objects and bumps TTI (§9.2, §9.3).

    The 0.2.0 release's filesystem backend did neither; today's does both.
    """
    services = context.services
    stored = services.storage.open(oid)
    if stored is None:
        return None
    if legacy_filesystem(context):
        return stored
    now = context.now()
    if stored.meta.expired(now):
        stored.blob.close()
        return None
    _bump_tti(context, oid, stored, now)
    return stored


def legacy_filesystem(context: Context) -> bool:
    """Whether the 0.2.0 filesystem backend's quirks apply: no expiry, missing-delete 500."""
    return not context.services.production and not context.current


def _bump_tti(context: Context, oid: ObjectId, stored: StoredObject, now: datetime) -> None:
    meta = stored.meta
    if meta.policy.kind != "tti" or meta.expires_us is None:
        return
    duration = meta.policy.nanos // 1000
    if context.current:
        duration = -(-duration // 1_000_000) * 1_000_000  # whole seconds, rounded up
    window = min(duration // 4, 24 * 3600 * 1_000_000)
    if meta.expires_us < to_us(now) + duration - window:
        # Best effort, like the server: a concurrent replace wins and the bump is dropped.
        bumped = replace(meta, expires_us=to_us(now) + duration)
        context.services.storage.update_meta(oid, stored.version, bumped)


class _Body:
    """A streamed object body that closes its blob when done, or when never iterated."""

    def __init__(self, services: Services, stored: StoredObject, start: int, end: int) -> None:
        self._services, self._stored, self._start, self._end = services, stored, start, end

    def __iter__(self) -> Iterator[Chunk]:
        for chunk in self._stored.blob.iter_range(self._start, self._end):
            self._services.count_bytes(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stored.blob.close()


def get(context: Context) -> Response:
    """GET: 200, 206 for a range, 416, or 404 (§6.3, §7).

    The 0.2.0 release streams a 200 chunked; today's server sends `content-length` and,
    on 200 and 206, `x-sn-size` with the whole stored size (protocol §6.3).
    """
    raw_range = context.request.header("range")
    try:
        byte_range = parse_range(raw_range) if raw_range is not None else None
    except RangeError as exc:
        if not exc.causes:
            return json_detail(400, f"client error: invalid Range header: {exc}")
        return json_error(400, "client error", f"invalid Range header: {exc}")
    context.authorize(READ)
    with context.services.backend_slot():
        stored = open_for_read(context, context.oid())
    if stored is None:
        return empty(404)
    headers = read_headers(context, stored)
    size = str(stored.size)
    if byte_range is None:
        if context.current:
            headers += [("content-length", size), ("x-sn-size", size)]
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
    if context.current:
        headers.append(("x-sn-size", size))
    return Response(206, headers, _Body(context.services, stored, start, last + 1))


def head(context: Context) -> Response:
    """HEAD: the metadata headers, or 404; `range` is ignored (§6.4).

    Today's server answers 200 with `content-length` and `x-sn-size` (the stored size);
    the 0.2.0 release answered 204 with `content-length: 0`.
    """
    context.authorize(READ)
    with context.services.backend_slot():
        stored = open_for_read(context, context.oid())
    if stored is None:
        return empty(404)
    stored.blob.close()
    headers = read_headers(context, stored)
    if context.current:
        size = str(stored.size)
        return Response(200, [*headers, ("content-length", size), ("x-sn-size", size)])
    return Response(204, [*headers, ("content-length", "0")])


def read_headers(context: Context, stored: StoredObject) -> list[tuple[str, str]]:
    """Single-object read headers; a deadline past year 9999 cannot be rendered: 500."""
    try:
        headers = metadata_headers(stored.meta, single_object=True, current=context.current)
    except OverflowError:
        stored.blob.close()
        raise HTTPFailure(unrenderable_deadline()) from None
    return [*headers, ("accept-ranges", "bytes")]


def unrenderable_deadline() -> Response:
    """The 500 for an object whose deadline is past year 9999 (protocol §5.4.1)."""
    return json_error(500, "service error", "expiration time cannot be formatted")


def delete(context: Context) -> Response:
    """DELETE: 204; a missing key is 204, but 500 on the 0.2.0 filesystem backend (§6.5)."""
    context.authorize(DELETE)
    with context.services.backend_slot():
        oid = context.oid(access="delete")
        existed = context.services.storage.delete(oid, context.delete_guard(oid))
    if not existed and legacy_filesystem(context):
        return missing_file_error()
    return empty(204)


def missing_file_error() -> Response:
    """The filesystem backend's error for a missing file (protocol §6.5)."""
    return json_error(500, "service error", "i/o error", "No such file or directory (os error 2)")
