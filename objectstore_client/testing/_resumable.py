"""Resumable uploads on the object routes, as today's server serves them (protocol §23).

After the route's dispatcher has classified the query (`_upload_query`, §23.1), `create`,
`write` (a chunk or an offset query) and `cancel` handle the request, each checking in the
server's order (§23.2, §23.4, §23.6). Sessions and their bytes
are kept by `_upload_sessions`; the object is published through the storage layer's atomic
write with the metadata stamped at creation.

Where the addendum leaves an error text open (its §15: the 404, 409, 501 and
chunk-beyond-length details), the texts below are ours; clients key on the status.
"""

from __future__ import annotations

import base64
import re
import uuid
from urllib.parse import parse_qsl

from objectstore_client._protocol import decimal
from objectstore_client.testing._body import BodyError
from objectstore_client.testing._context import Context
from objectstore_client.testing._http import Request, Response
from objectstore_client.testing._objects import WRITE, stamp, write_metadata
from objectstore_client.testing._responses import (
    HTTPFailure,
    empty,
    json_detail,
    json_ok,
    text_error,
)
from objectstore_client.testing._upload_sessions import (
    Session,
    SessionInfo,
    Target,
    UploadSessions,
)

_U64_MAX = 2**64 - 1
_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


def _params(query: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        found.setdefault(name, []).append(value)
    return found


# --- request parts --------------------------------------------------------------------------


def _digits_header(request: Request, name: str, *, star: bool = False) -> int | None:
    """One `name` header of ASCII digits (a u64), or `None` for `*` when `star` is allowed.

    Raises the typed-header rejections of §23.2 / §23.4 (plain text 400).
    """
    values = [value for key, value in request.headers if key == name]
    if not values:
        raise HTTPFailure(text_error(400, f"Header of type `{name}` was missing"))
    value = values[0]
    if len(values) == 1 and star and value == "*":
        return None
    number = decimal(value) if len(values) == 1 else None
    if number is None or number > _U64_MAX:
        raise HTTPFailure(text_error(400, f"invalid HTTP header ({name})"))
    return number


def _require_empty_body(request: Request, message: str) -> None:
    """400 `client error: <message>` for a declared non-zero length or any streamed byte."""
    body = request.body
    if body.content_length:
        raise HTTPFailure(json_detail(400, f"client error: {message}"))
    try:
        if body.chunked and body.read(1):
            raise HTTPFailure(json_detail(400, f"client error: {message}"))
    except (BodyError, OSError):
        raise HTTPFailure(json_detail(400, f"client error: {message}")) from None


def _session_id(request: Request) -> bytes:
    """The `session` parameter decoded: canonical unpadded base64url, else 400 (§23.3)."""
    values = _params(request.query or "").get("session")
    if not values:
        raise HTTPFailure(
            text_error(400, "Failed to deserialize query string: missing field `session`")
        )
    token = values[0]
    invalid = HTTPFailure(json_detail(400, "client error: invalid session token"))
    if not _TOKEN.fullmatch(token) or len(token) % 4 == 1:
        raise invalid
    data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != token:
        raise invalid  # non-zero trailing bits: not the canonical form
    return data


def _target(context: Context) -> Target:
    return Target(context.usecase, context.scopes, context.key)


def _unknown_session() -> Response:
    # 404 for unknown, cancelled, completed or foreign sessions (§23.3, §23.7).
    return json_detail(404, "service error: upload session not found")


def _sessions(context: Context) -> UploadSessions:
    return context.services.upload_sessions


# --- create (§23.2) -------------------------------------------------------------------------


def create(context: Context) -> Response:
    """Creates a session: 200 `{"key","session","granularity"}`, or 400/403/501."""
    request = context.request
    length = _digits_header(request, "upload-length")
    assert length is not None
    _require_empty_body(request, "resumable session creation must be sent with an empty body")
    meta = write_metadata(context)
    services = context.services
    if length == 0:
        # Zero-length objects are never resumable: the client falls back to a plain upload.
        return json_detail(501, "service error: resumable uploads are not supported")
    key = str(uuid.uuid4()) if request.method == "POST" else context.key
    with services.backend_slot():
        context.oid(key, "write")  # the filesystem semantics' path conflicts fail here (500)
        stamped = stamp(context, meta)
        target = Target(context.usecase, context.scopes, key)
        token = _sessions(context).create(SessionInfo(target, length, stamped))
    granularity = services.config.resumable_granularity
    return json_ok(200, {"key": key, "session": token, "granularity": granularity})


# --- chunk writes and offset queries (§23.4, §23.5) -----------------------------------------


def write(context: Context) -> Response:
    """A chunk at `upload-offset: n` (204/201/409/400) or an offset query with `*` (204/201)."""
    request = context.request
    session_id = _session_id(request)
    offset = _digits_header(request, "upload-offset", star=True)
    if offset is None:
        _require_empty_body(request, "Upload-Offset: * must be sent with an empty body")
        size = 0
    else:
        declared = request.body.content_length
        if declared is None:
            raise HTTPFailure(json_detail(400, "client error: content-length header is required"))
        size = declared
    context.authorize(WRITE)
    with context.services.backend_slot(), _sessions(context).open(session_id) as session:
        if session is None or session.info.target != _target(context):
            return _unknown_session()
        if offset is None or size == 0:
            return _progress(context, session_id, session)
        return _append(context, session_id, session, offset, size)


def _append(
    context: Context, session_id: bytes, session: Session, offset: int, size: int
) -> Response:
    length = session.info.length
    if offset + size > length:
        return json_detail(
            400, f"client error: chunk exceeds the upload length ({offset} + {size} > {length})"
        )
    current = session.offset
    if offset != current:
        response = json_detail(
            409, f"client error: upload offset mismatch: expected {current}, got {offset}"
        )
        response.headers.append(("upload-offset", str(current)))
        return response
    granularity = context.services.config.resumable_granularity
    final = offset + size == length
    if granularity and not final and size < granularity:
        return json_detail(
            400, f"client error: non-final chunk shorter than the granularity {granularity}"
        )
    body = context.request.body
    try:
        session.append(body)
    except (BodyError, OSError):
        # What arrived is kept (aligned to the granularity), so the client can continue.
        _align(session, offset, granularity, length)
        return json_detail(400, "client error: client stream broken")
    finally:
        context.services.count_bytes(body.bytes_read)
    _align(session, offset, granularity, length)
    return _progress(context, session_id, session)


def _align(session: Session, start: int, granularity: int, length: int) -> None:
    """With a granularity, keeps only whole units of a non-final write (protocol §23.4)."""
    end = session.offset
    if granularity and end < length:
        session.truncate(start + (end - start) // granularity * granularity)


def _progress(context: Context, session_id: bytes, session: Session) -> Response:
    """204 with the offset while incomplete; with every byte staged, publish and 201."""
    current = session.offset
    if current < session.info.length:
        return empty(204, ("upload-offset", str(current)))
    oid = context.oid(access="write")
    # One atomic write with the metadata fixed at creation: readers see the old object (or
    # none) until the whole new one is in place. If it fails the session stays, and a later
    # offset query retries the publication.
    storage = context.services.storage
    storage.put(oid, session.info.meta, session.chunks(), context.write_guard(oid))
    _sessions(context).remove(session_id, session)
    return json_ok(201, {"key": session.info.target.key})


# --- cancel (§23.6) -------------------------------------------------------------------------


def cancel(context: Context) -> Response:
    """Discards a session: 204, or 404 for an unknown one."""
    session_id = _session_id(context.request)
    context.authorize(WRITE)  # the addendum assumes write permission for cancel (§15)
    with context.services.backend_slot(), _sessions(context).open(session_id) as session:
        if session is None or session.info.target != _target(context):
            return _unknown_session()
        _sessions(context).remove(session_id, session)
    return empty(204)
