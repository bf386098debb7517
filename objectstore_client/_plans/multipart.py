"""Plans of a multipart upload: initiate, put a part, list, complete, abort (protocol §11).

How parts are encoded is decided once, when the upload is initiated (`PartEncoding`):
the client compresses each part on its own into complete zstd frames (a concatenation of
frames is one valid zstd stream), sends parts as they are, or sends parts the caller
compressed. The object's recorded encoding always matches, so a part sent uncompressed is
never recorded as zstd: the trap of objectstore-client 0.2.x, which recorded the usecase's
zstd by default while sending parts as given. Parts its callers compressed themselves (as
0.2.x documented) are whole zstd frames, and go as they are.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import urllib3

from objectstore_client import _validation
from objectstore_client._plans.request import BodyPlan, RequestPlan
from objectstore_client._plans.upload_headers import plan_upload_headers
from objectstore_client._zstd import compress
from objectstore_client._zstd_frames import is_whole_frames
from objectstore_client.errors import (
    InvalidArgument,
    InvalidArgumentType,
    MultipartCompleteError,
    ProtocolError,
)
from objectstore_client.metadata import Compression
from objectstore_client.usecase import Usecase

__all__ = [
    "CompletePart",
    "PartEncoding",
    "PartInfo",
    "check_parts",
    "part_encoding",
    "plan_abort",
    "plan_complete",
    "plan_initiate",
    "plan_list_parts",
    "plan_put_part",
    "read_complete",
    "read_initiate",
    "read_list_parts",
    "read_put_part",
]

PartEncoding = Literal["compress", "as-is", "precompressed"]
"""What happens to each part: compressed here (object recorded zstd), sent as it is
(recorded uncompressed), or sent as the caller compressed it (recorded zstd)."""


@dataclass(frozen=True)
class CompletePart:
    """An uploaded part, as `MultipartUpload.complete` needs it: its number and etag."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class PartInfo:
    """An uploaded part as the server lists it (`MultipartUpload.list_parts`)."""

    part_number: int
    etag: str
    last_modified: datetime
    size: int
    """The part's size in bytes as it was sent (compressed, if compressed)."""


def part_encoding(usecase: Usecase, compression: object, precompressed: object) -> PartEncoding:
    """Checks how an upload's parts are encoded; `None` compression: the usecase's default.

    Raises:
        InvalidArgument: `compression` or `precompressed` is not `"zstd"`/`"none"`, or both
            are given.
    """
    if precompressed is not None:
        if compression is not None:
            raise InvalidArgument(
                "precompressed", "excludes compression: the parts are sent as they are"
            )
        if _validation.check_compression(precompressed, "precompressed") == "zstd":
            return "precompressed"
        return "as-is"
    chosen = _validation.check_compression(compression or usecase.compression)
    return "compress" if chosen == "zstd" else "as-is"


def _recorded(encoding: PartEncoding) -> Compression:
    return "none" if encoding == "as-is" else "zstd"


def plan_initiate(
    usecase: Usecase,
    key: object,
    encoding: PartEncoding,
    *,
    content_type: object,
    metadata: object,
    expiration_policy: object,
    origin: object,
    filename: object,
) -> RequestPlan:
    """Plans the request that starts an upload (protocol §11.1).

    Without a key the server picks one (POST). The metadata, including the encoding, is
    the final object's. Never replayed: each attempt would start another upload.
    """
    checked_key = _validation.check_optional_key(key)
    headers = plan_upload_headers(
        usecase,
        compression=_recorded(encoding),
        content_type=content_type,
        metadata=metadata,
        expiration_policy=expiration_policy,
        origin=origin,
        filename=filename,
    )
    _validation.check_request_head(headers, checked_key)
    return RequestPlan(
        "multipart.initiate",
        "POST" if checked_key is None else "PUT",
        checked_key,
        headers,
        endpoint="objects:multipart",
        idempotent=False,
    )


def _document(response: urllib3.BaseHTTPResponse, path: str) -> dict[str, object]:
    try:
        document = json.loads(response.data)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ProtocolError(f"{path}: the answer is not a JSON object: {response.data[:200]!r}")
    return document


def _field(document: dict[str, object], name: str, kind: type, path: str) -> object:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProtocolError(f"{path}: the answer has no valid {name!r}: {document!r:.200}")
    return value


def read_initiate(response: urllib3.BaseHTTPResponse, path: str) -> tuple[str, str]:
    """The key and upload id from an initiate answer `{"key", "upload_id"}`.

    Raises:
        ProtocolError: The answer is not such a document.
    """
    document = _document(response, path)
    return str(_field(document, "key", str, path)), str(_field(document, "upload_id", str, path))


def _check_md5(content_md5: object, data: bytes | bytearray | memoryview) -> bytes | None:
    digest = _validation.check_content_md5(content_md5)
    if digest is not None and hashlib.md5(data, usedforsecurity=False).digest() != digest:
        raise InvalidArgument("content_md5", "does not match the part's contents")
    return digest


def plan_put_part(
    key: str,
    upload_id: str,
    data: bytes | bytearray | memoryview,
    encoding: PartEncoding,
    part_number: object,
    content_md5: object,
) -> RequestPlan:
    """Plans the upload of one part (protocol §11.2); `data` is the caller's whole part.

    With the `"compress"` encoding the part becomes one zstd frame here (the server needs
    its length before the body), unless it already is whole zstd frames: 0.2.x had its
    callers compress parts themselves, and such a part is sent as it is. `Content-MD5`,
    if the caller gave the digest of `data`, is that of the bytes sent. Replayable: a part
    sent again replaces itself.

    Raises:
        InvalidArgument: A bad part number or digest, or a part of a `"precompressed"`
            upload that is not whole zstd frames.
        InvalidArgumentType: An argument has the wrong type.
    """
    number = _validation.check_part_number(part_number)
    md5 = _check_md5(content_md5, data)
    # A part of whole zstd frames is one the caller compressed, as 0.2.x required: sent
    # as it is, it keeps the object valid. Anything else is compressed here.
    whole_frames = encoding != "as-is" and is_whole_frames(data)
    if encoding == "precompressed" and not whole_frames:
        raise InvalidArgument(
            "contents", "the upload is precompressed='zstd', but this part is not whole zstd frames"
        )
    compressing = encoding == "compress" and not whole_frames
    wire = compress(memoryview(data), len(data)) if compressing else data
    headers = {}
    if md5 is not None:
        digest = md5 if wire is data else hashlib.md5(wire, usedforsecurity=False).digest()
        headers["Content-MD5"] = base64.b64encode(digest).decode("ascii")
    return RequestPlan(
        "multipart.put_part",
        "PUT",
        key,
        headers,
        BodyPlan(wire, "none"),
        query=(("upload_id", upload_id), ("part_number", str(number))),
        endpoint="objects:multipart:parts",
        idempotent=True,
    )


def read_put_part(response: urllib3.BaseHTTPResponse, part_number: int, path: str) -> CompletePart:
    """The uploaded part's reference, from the answer `{"etag": ...}`.

    Raises:
        ProtocolError: The answer is not such a document.
    """
    etag = _field(_document(response, path), "etag", str, path)
    return CompletePart(part_number, str(etag))


def plan_list_parts(key: str, upload_id: str, marker: int | None) -> RequestPlan:
    """Plans one page of the part listing, after part `marker` (protocol §11.3)."""
    query: tuple[tuple[str, str], ...] = (("upload_id", upload_id),)
    if marker is not None:
        query += (("part_number_marker", str(marker)),)
    return RequestPlan(
        "multipart.list_parts",
        "GET",
        key,
        query=query,
        endpoint="objects:multipart:parts",
    )


def read_list_parts(
    response: urllib3.BaseHTTPResponse, path: str
) -> tuple[list[PartInfo], int | None]:
    """One page of parts, and the marker of the next page (`None` after the last).

    Raises:
        ProtocolError: The answer is not a part listing, or says there is more without
            saying where it continues.
    """
    document = _document(response, path)
    raw_parts = _field(document, "parts", list, path)
    parts = []
    for raw in raw_parts if isinstance(raw_parts, list) else ():
        if not isinstance(raw, dict):
            raise ProtocolError(f"{path}: a listed part is not an object: {raw!r:.200}")
        try:
            modified = datetime.fromisoformat(str(_field(raw, "last_modified", str, path)))
        except ValueError:
            raise ProtocolError(
                f"{path}: a part has an invalid last_modified: {raw!r:.200}"
            ) from None
        parts.append(
            PartInfo(
                int(str(_field(raw, "part_number", int, path))),
                str(_field(raw, "etag", str, path)),
                modified,
                int(str(_field(raw, "size", int, path))),
            )
        )
    if document.get("is_truncated") is not True:
        return parts, None
    marker = document.get("next_part_number_marker")
    if not isinstance(marker, int) or isinstance(marker, bool):
        raise ProtocolError(f"{path}: a truncated listing without next_part_number_marker")
    return parts, marker


def check_parts(parts: object) -> list[CompletePart | PartInfo]:
    """Checks the parts to complete with: a non-empty sequence, each part number once.

    Returns them sorted by part number, which is how the object's bytes are ordered.
    """
    if isinstance(parts, str | bytes) or not isinstance(parts, Sequence):
        raise InvalidArgumentType(
            "parts", f"must be a sequence of CompletePart or PartInfo, got {type(parts).__name__}"
        )
    if not parts:
        raise InvalidArgument("parts", "must not be empty")
    seen: set[int] = set()
    for part in parts:
        if not isinstance(part, CompletePart | PartInfo):
            raise InvalidArgumentType(
                "parts", f"items must be CompletePart or PartInfo, got {type(part).__name__}"
            )
        number = _validation.check_part_number(part.part_number)
        if number in seen:
            raise InvalidArgument("parts", f"part number {number} is listed twice")
        seen.add(number)
    return sorted(parts, key=lambda part: part.part_number)


def plan_complete(
    key: str, upload_id: str, parts: Sequence[CompletePart | PartInfo]
) -> RequestPlan:
    """Plans the request that assembles the listed (checked, sorted) parts (protocol §11.4).

    Never replayed: a second completion of a completed upload fails.
    """
    body = json.dumps(
        {"parts": [{"part_number": p.part_number, "etag": p.etag} for p in parts]}
    ).encode()
    return RequestPlan(
        "multipart.complete",
        "POST",
        key,
        {"Content-Type": "application/json"},
        BodyPlan(body, "none"),
        query=(("upload_id", upload_id),),
        endpoint="objects:multipart:complete",
        idempotent=False,
    )


def read_complete(response: urllib3.BaseHTTPResponse, path: str) -> str:
    """The stored key from a completion answer, always a 200 (protocol §11.4).

    The server sends a space every second while it works, then one JSON document.

    Raises:
        MultipartCompleteError: The document is `{"error": {"code", "message"}}`.
        ProtocolError: It is neither that nor `{"key": ...}`.
    """
    text = response.data.decode("utf-8", "replace").lstrip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        error = document["error"]
        raise MultipartCompleteError(str(error.get("code", "")), str(error.get("message", "")))
    if isinstance(document, dict) and isinstance(document.get("key"), str):
        return str(document["key"])
    raise ProtocolError(f"{path}: the completion answer is not a result document: {text[:200]!r}")


def plan_abort(key: str, upload_id: str) -> RequestPlan:
    """Plans the request that discards an upload and its parts (protocol §11.5).

    Replayable: aborting an unknown upload succeeds too.
    """
    return RequestPlan(
        "multipart.abort",
        "DELETE",
        key,
        query=(("upload_id", upload_id),),
        endpoint="objects:multipart",
        idempotent=True,
    )
