"""Multipart upload endpoints (protocol §11): initiate, upload part, list, complete, abort."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from objectstore_client._protocol import decimal
from objectstore_client.testing._auth import AuthFailure
from objectstore_client.testing._context import Context
from objectstore_client.testing._http import Response
from objectstore_client.testing._jsonbody import read_json_body
from objectstore_client.testing._objects import WRITE, stamp, write_metadata
from objectstore_client.testing._responses import (
    JSON,
    HTTPFailure,
    empty,
    json_detail,
    json_error,
    json_ok,
    text_error,
)
from objectstore_client.testing._storage import InvalidPart, UploadNotFound

_U32_MAX = 2**32 - 1
# While a completion runs, the real server sends one space per second to keep the
# connection alive (§11.4).
KEEPALIVE_INTERVAL = 1.0


def _query_error(detail: str) -> HTTPFailure:
    return HTTPFailure(text_error(400, f"Failed to deserialize query string: {detail}"))


def _query(
    context: Context, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """Parses the query as serde_urlencoded into a struct of the given fields."""
    values: dict[str, str] = {}
    for piece in (context.request.query or "").split("&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        name = unquote_plus(raw_name)
        if name not in required and name not in optional:
            continue  # unknown parameters (e.g. os_auth) are ignored
        if name in values:
            raise _query_error(f"duplicate field `{name}`")
        values[name] = unquote_plus(raw_value)
    for name in required:
        if name not in values:
            raise _query_error(f"missing field `{name}`")
    upload_id = values.get("upload_id")
    if upload_id is not None and not _valid_upload_id(upload_id):
        raise _query_error("invalid upload id")
    return values


def _valid_upload_id(upload_id: str) -> bool:
    if not upload_id or upload_id.startswith("/"):
        return False
    return all(part not in (".", "..") for part in upload_id.split("/") if part)


def _u32(values: dict[str, str], name: str, *, nonzero: bool) -> int | None:
    text = values.get(name)
    if text is None:
        return None
    number = decimal(text)
    if number is None:
        raise _query_error(f"{name}: invalid digit found in string")
    if number > _U32_MAX:
        raise _query_error(f"{name}: number too large to fit in target type")
    if nonzero and number == 0:
        raise _query_error(f"{name}: number would be zero for non-zero type")
    return number


def _not_found() -> Response:
    return json_error(500, "service error", "storage backend error", "multipart upload not found")


def initiate(context: Context) -> Response:
    """Initiate: 200 `{"key", "upload_id"}`, also for POST (§11.1)."""
    meta = write_metadata(context)
    key = context.key or str(uuid.uuid4())
    with context.services.backend_slot():
        upload_id = context.services.storage.initiate(context.raw_oid(key), stamp(context, meta))
    return json_ok(200, {"key": key, "upload_id": upload_id})


def put_part(context: Context) -> Response:
    """Upload part: requires `content-length`; 200 `{"etag"}` (§11.2)."""
    values = _query(context, ("upload_id", "part_number"))
    number = _u32(values, "part_number", nonzero=True)
    assert number is not None
    body = context.request.body
    # The length the framing read from `content-length` (none for a chunked body).
    length = body.content_length
    if length is None or body.chunked:
        # A plain client error with no `causes`; today's text has a lower-case name.
        name = "content-length" if context.current else "Content-Length"
        return json_detail(400, f"client error: {name} header is required")
    context.authorize(WRITE)
    with context.services.backend_slot():
        try:
            etag = context.services.storage.put_part(
                context.raw_oid(), values["upload_id"], number, length, iter(body)
            )
        except UploadNotFound:
            return _not_found()
    context.services.count_bytes(body.bytes_read)
    return json_ok(200, {"etag": etag})


def _rfc3339(nanos: int) -> str:
    seconds, rest = divmod(nanos, 1_000_000_000)
    stamp_text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp_text}Z" if rest == 0 else f"{stamp_text}.{rest:09d}Z"


def list_parts(context: Context) -> Response:
    """List parts: filesystem-backend paging semantics (§11.3)."""
    values = _query(context, ("upload_id",), ("max_parts", "part_number_marker"))
    max_parts = _u32(values, "max_parts", nonzero=False)
    marker = _u32(values, "part_number_marker", nonzero=False)
    context.authorize(WRITE)
    with context.services.backend_slot():
        try:
            parts = context.services.storage.parts(context.raw_oid(), values["upload_id"])
        except UploadNotFound:
            return _not_found()
    if marker is not None:
        parts = [p for p in parts if p.part_number > marker]
    truncated = max_parts is not None and len(parts) > max_parts
    if truncated:
        assert max_parts is not None
        parts = parts[:max_parts]
    document: dict[str, object] = {
        "parts": [
            {
                "part_number": p.part_number,
                "etag": p.etag,
                "last_modified": _rfc3339(p.last_modified_ns),
                "size": p.size,
            }
            for p in parts
        ],
        "is_truncated": truncated,
    }
    if truncated and parts:
        document["next_part_number_marker"] = parts[-1].part_number
    return json_ok(200, document)


def _completion_parts(document: object) -> list[tuple[int, str]]:
    def shape(detail: str) -> HTTPFailure:
        return HTTPFailure(
            text_error(422, f"Failed to deserialize the JSON body into the target type: {detail}")
        )

    if not isinstance(document, dict) or "parts" not in document:
        raise shape("missing field `parts`")
    entries = document["parts"]
    if not isinstance(entries, list):
        raise shape("parts: invalid type, expected a sequence")
    parts = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise shape("parts: invalid type, expected struct CompletePart")
        number, etag = entry.get("part_number"), entry.get("etag")
        if isinstance(number, bool) or not isinstance(number, int):
            raise shape("parts: missing or invalid field `part_number`")
        if not 1 <= number <= _U32_MAX:
            raise shape("parts: invalid value for `part_number`, expected a nonzero u32")
        if not isinstance(etag, str):
            raise shape("parts: missing or invalid field `etag`")
        parts.append((number, etag))
    return parts


def complete(context: Context) -> Response:
    """Complete: always 200 once the body parses; the outcome is the JSON document (§11.4)."""
    values = _query(context, ("upload_id",))
    parts = _completion_parts(read_json_body(context.request))
    services = context.services
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            context.authorize(WRITE)
            with services.backend_slot():
                target = context.oid(access="write")
                services.storage.complete(
                    context.raw_oid(),
                    values["upload_id"],
                    parts,
                    target,
                    context.write_guard(target),
                )
            outcome["doc"] = {"key": context.key}
        except InvalidPart as exc:
            outcome["doc"] = {"error": {"code": "InvalidPart", "message": str(exc)}}
        except UploadNotFound:
            message = "service error: storage backend error: multipart upload not found"
            outcome["doc"] = {"error": {"code": "internal error", "message": message}}
        except HTTPFailure as failure:
            message = json.loads(failure.response.body)["detail"]  # type: ignore[arg-type]
            outcome["doc"] = {"error": {"code": "internal error", "message": message}}
        except Exception as exc:  # the auth failure, or anything the backend raises
            text = f"auth error: {exc}" if isinstance(exc, AuthFailure) else f"service error: {exc}"
            outcome["doc"] = {"error": {"code": "internal error", "message": text}}

    worker = threading.Thread(target=run, daemon=True)
    worker.start()

    def stream() -> Iterator[bytes]:
        while True:
            worker.join(KEEPALIVE_INTERVAL)
            if not worker.is_alive():
                break
            yield b" "
        yield json.dumps(outcome["doc"], separators=(",", ":")).encode()

    return Response(200, [JSON], stream())


def abort(context: Context) -> Response:
    """Abort: 204, also for unknown uploads (§11.5)."""
    values = _query(context, ("upload_id",))
    context.authorize(WRITE)
    with context.services.backend_slot():
        context.services.storage.abort(context.raw_oid(), values["upload_id"])
    return empty(204)
