"""The batch endpoint (protocol §10): multipart/form-data in, a streamed multipart response out.

Operations run one at a time in request order, so "completion order" (which clients must
not rely on) happens to equal request order here. The response is produced lazily while
the request body is still being read, as the real server does.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator

from objectstore_client.testing._auth import AuthFailure
from objectstore_client.testing._context import Context, PolicyError
from objectstore_client.testing._form_data import FormParts, FramingError
from objectstore_client.testing._fskeys import Access
from objectstore_client.testing._http import Response, reason
from objectstore_client.testing._metadata import (
    MetadataError,
    ObjectMeta,
    metadata_headers,
    parse_metadata,
)
from objectstore_client.testing._objects import (
    DELETE,
    READ,
    WRITE,
    legacy_filesystem,
    missing_file_error,
    open_for_read,
    policy_failure,
    stamp,
    unrenderable_deadline,
)
from objectstore_client.testing._pct import ValueCodecError, decode_value, encode_value
from objectstore_client.testing._responses import HTTPFailure, error_document, nested, text_error
from objectstore_client.testing._routing import PathError, decode_param

MAX_OPERATIONS = 1000
MAX_INSERT_BYTES = 1_048_576
_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION = b"content-disposition: form-data; name=part\r\n\r\n"
_PERMISSION = {"get": READ, "head": READ, "insert": WRITE, "delete": DELETE}


def _encode_key(key: str, current: bool) -> str:
    """The key header of a result part (protocol §10.3).

    The 0.2.0 release escapes every byte that is not an ASCII letter or digit; today's
    server uses the metadata value encoder (controls, DEL, `%`, non-ASCII only).
    """
    if current:
        return encode_value(key)
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}" for b in key.encode()
    )


def _decode_key(context: Context, raw: str) -> str:
    """A request part's key, percent-decoded (protocol §10.1).

    The 0.2.0 release decodes it as a path parameter; today's server as a metadata value,
    which also refuses raw non-ASCII.
    """
    return decode_value(raw) if context.current else decode_param(raw, "key")


def _status(code: int) -> str:
    return f"{code} {reason(code)}"


def _error_part(index: int, status: int, *chain: str) -> tuple[list[tuple[str, str]], bytes]:
    headers = [
        ("x-sn-batch-operation-index", str(index)),
        ("x-sn-batch-operation-status", _status(status)),
    ]
    return headers, json.dumps(error_document(*nested(*chain)), separators=(",", ":")).encode()


def _response_part(index: int, response: Response) -> tuple[list[tuple[str, str]], bytes]:
    """An error part carrying an already built JSON error response's status and body."""
    headers = [
        ("x-sn-batch-operation-index", str(index)),
        ("x-sn-batch-operation-status", _status(response.status)),
    ]
    assert isinstance(response.body, bytes)
    return headers, response.body


def _ok_part(
    context: Context,
    index: int,
    status: int,
    kind: str,
    key: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[tuple[str, str]]:
    return [
        ("x-sn-batch-operation-index", str(index)),
        ("x-sn-batch-operation-key", _encode_key(key, context.current)),
        ("x-sn-batch-operation-kind", kind),
        ("x-sn-batch-operation-status", _status(status)),
        *(extra or []),
    ]


def handle(context: Context) -> Response:
    """POST batch: 400 text for a bad content type, else 200 and one part per operation."""
    match = _BOUNDARY.search(context.request.header("content-type") or "")
    essence = (context.request.header("content-type") or "").split(";")[0].strip().lower()
    if essence != "multipart/form-data" or match is None or not (match.group(1) or match.group(2)):
        return text_error(400, "Invalid `boundary` for `multipart/form-data` request")
    boundary = (match.group(1) or match.group(2)).encode("latin-1")
    out = f"os-boundary-{secrets.token_hex(16)}"
    parts = FormParts(context.request.body, boundary)
    return Response(
        200,
        [("content-type", f'multipart/form-data; boundary="{out}"')],
        _stream(context, parts, out.encode()),
    )


def _stream(context: Context, parts: FormParts, boundary: bytes) -> Iterator[bytes]:
    delimiter = b"--" + boundary + b"\r\n"
    for headers, body in _results(context, parts):
        head = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("latin-1")
        # One write (one HTTP chunk) per part: its framing, headers and body together.
        yield b"".join((delimiter, head, _DISPOSITION, body, b"\r\n"))
    yield b"--" + boundary + b"--"


def _results(context: Context, parts: FormParts) -> Iterator[tuple[list[tuple[str, str]], bytes]]:
    index = 0
    try:
        more = parts.start()
        while more:
            headers = parts.headers()
            kind = next((v for k, v in headers if k == "x-sn-batch-operation-kind"), None)
            limit = MAX_INSERT_BYTES if (kind or "").lower() == "insert" else 0
            payload, too_large = parts.body(limit)
            more = parts.more()
            if index >= MAX_OPERATIONS:
                yield _error_part(
                    index,
                    413,
                    "batch error",
                    "batch limit exceeded",
                    f"exceeded {MAX_OPERATIONS} operations per batch request",
                )
            else:
                yield _operation(context, index, headers, payload, too_large)
            index += 1
    except FramingError as exc:
        yield _error_part(index, 400, "batch error", "multipart error", str(exc))


def _operation(
    context: Context, index: int, headers: list[tuple[str, str]], payload: bytes, too_large: bool
) -> tuple[list[tuple[str, str]], bytes]:
    def bad(*chain: str) -> tuple[list[tuple[str, str]], bytes]:
        return _error_part(index, 400, "batch error", "bad request", *chain)

    raw_kind = next((v for k, v in headers if k == "x-sn-batch-operation-kind"), None)
    if raw_kind is None:
        return bad("missing x-sn-batch-operation-kind header")
    kind = raw_kind.lower()
    if kind not in _PERMISSION:
        return bad(f"invalid operation kind: {raw_kind}")
    raw_key = next((v for k, v in headers if k == "x-sn-batch-operation-key"), None)
    if raw_key is None and kind != "insert":
        return bad(f"missing x-sn-batch-operation-key header for {kind} operation")
    try:
        key = _decode_key(context, raw_key) if raw_key is not None else str(uuid.uuid4())
    except PathError:
        return bad("invalid x-sn-batch-operation-key header: invalid UTF-8")
    except ValueCodecError:
        return bad("unable to percent-decode x-sn-batch-operation-key header value")
    meta = None
    if kind == "insert":
        try:
            meta = parse_metadata(headers, current=context.current)
        except MetadataError as exc:
            return _error_part(index, 400, "batch error", "metadata error", str(exc))
        if too_large:
            return _error_part(
                index,
                413,
                "batch error",
                "batch limit exceeded",
                f"individual request in batch exceeds body size limit of {MAX_INSERT_BYTES} bytes",
            )
    services = context.services
    if not services.take_rate_token():
        return _error_part(index, 429, "batch error", "rate limited")
    try:
        context.authorize(_PERMISSION[kind])
    except AuthFailure as failure:
        return _error_part(index, failure.status, "auth error", *failure.chain)
    if meta is not None:
        try:
            services.check_policy(context.usecase, meta.policy)
        except PolicyError as exc:
            return _response_part(index, policy_failure(context, exc))
    if not services.try_backend_slot():
        return _error_part(index, 429, "service error", "concurrency limit reached")
    try:
        return _execute(context, index, kind, key, meta, payload)
    except HTTPFailure as failure:
        return _response_part(index, failure.response)
    finally:
        services.release_slot()


def _execute(
    context: Context, index: int, kind: str, key: str, meta: ObjectMeta | None, payload: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    services = context.services
    access: Access = "write" if kind == "insert" else "delete" if kind == "delete" else "read"
    oid = context.oid(key, access)
    if kind == "insert":
        assert meta is not None
        services.storage.put(oid, stamp(context, meta), [payload], context.write_guard(oid))
        services.count_bytes(len(payload))
        return _ok_part(context, index, 201, kind, key), b""
    if kind == "delete":
        existed = services.storage.delete(oid, context.delete_guard(oid))
        if not existed and legacy_filesystem(context):
            return _response_part(index, missing_file_error())
        return _ok_part(context, index, 204, kind, key), b""
    stored = open_for_read(context, oid)
    if stored is None:
        return _ok_part(context, index, 404, kind, key), b""
    try:
        try:
            meta_headers = metadata_headers(
                stored.meta, single_object=False, current=context.current
            )
        except OverflowError:
            return _response_part(index, unrenderable_deadline())
        if context.current:
            meta_headers.append(("x-sn-size", str(stored.size)))
        if kind == "head":
            return _ok_part(context, index, 204, kind, key, meta_headers), b""
        # Batch get buffers the whole object, as the real server does (protocol §10.2).
        data = b"".join(stored.blob.iter_range(0, stored.size))
    finally:
        stored.blob.close()
    services.count_bytes(len(data))
    return _ok_part(context, index, 200, kind, key, meta_headers), data
