"""Plans of the single-object operations: put, get, head, delete (protocol §6)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import IO, cast

import urllib3

from objectstore_client import _protocol, _validation
from objectstore_client._download import GetResponse, Payload, Reopen, Translate
from objectstore_client._plans.ranges import check_answered, parse_content_range
from objectstore_client._plans.request import BodyPlan, RequestPlan
from objectstore_client._plans.upload_headers import plan_upload_headers
from objectstore_client.errors import (
    IntegrityError,
    InvalidArgument,
    InvalidArgumentType,
    ProtocolError,
    UnsupportedCompression,
)
from objectstore_client.metadata import Compression, Metadata
from objectstore_client.ranges import ByteRange
from objectstore_client.usecase import Usecase

__all__ = [
    "GetPlan",
    "PutPlan",
    "new_key",
    "plan_delete",
    "plan_get",
    "plan_head",
    "plan_put",
    "plan_resume_get",
    "read_get",
    "read_head",
    "read_put",
]


@dataclass(frozen=True, slots=True)
class PutPlan:
    """An upload: its request, and how its bytes are encoded (for metrics and spans)."""

    request: RequestPlan
    """The PUT (with the caller's key or one chosen here) or POST (`server_key`) to send."""

    compression: Compression
    """How the stored object is encoded (`"zstd"` also when sent precompressed)."""

    precompressed: bool
    """The contents were already compressed: what is read is the compressed size."""


def new_key() -> str:
    """A new object key in the server's format (protocol §2.7).

    A random UUID version 4, lower-case and hyphenated: 36 characters.
    """
    return str(uuid.uuid4())


def plan_put(
    usecase: Usecase,
    contents: object,
    key: object,
    *,
    compression: object,
    compress: object,
    precompressed: object,
    content_type: object,
    metadata: object,
    expiration_policy: object,
    origin: object,
    filename: object,
    server_key: object = False,
) -> PutPlan:
    """Validates the arguments of `Session.put` and plans its request (protocol §6.1, §6.2).

    The upload is always a PUT of a known key unless `server_key` asks for the POST:
    without a key, one is chosen here (`new_key`), exactly as the server would choose it,
    so that the request can be replayed and a failure names the object it may have
    stored. With `server_key` (and no key) it is a POST to the collection and the server
    picks the key. Defaults come from `usecase`.

    Raises:
        InvalidArgument: An argument breaks a rule.
        InvalidArgumentType: An argument has the wrong type.
    """
    checked_contents = _validation.check_contents(contents)
    checked_key = _validation.check_optional_key(key)
    if not isinstance(server_key, bool):
        raise InvalidArgumentType("server_key", f"must be a bool, got {type(server_key).__name__}")
    if server_key and checked_key is not None:
        raise InvalidArgument("server_key", "asks the server to choose the key; give no key")
    if checked_key is None and not server_key:
        checked_key = new_key()
    if compress is not None and compression is not None:
        raise InvalidArgument("compress", "is the new name of compression; give only one")
    requested = compress if compress is not None else compression
    chosen: Compression
    if precompressed is None:
        chosen = _validation.check_compression(
            requested or usecase.compression,
            "compress" if compress is not None else "compression",
        )
        to_compress = chosen
    elif requested:
        raise InvalidArgument(
            "precompressed", "excludes compression/compress: the contents are sent as they are"
        )
    else:
        chosen = _validation.check_precompressed(checked_contents, precompressed)
        to_compress = "none"
    headers = plan_upload_headers(
        usecase,
        compression=chosen,
        content_type=content_type,
        metadata=metadata,
        expiration_policy=expiration_policy,
        origin=origin,
        filename=filename,
    )
    _validation.check_request_head(headers, checked_key)
    request = RequestPlan(
        "put",
        "POST" if checked_key is None else "PUT",
        checked_key,
        headers,
        BodyPlan(checked_contents, to_compress),
    )
    return PutPlan(request, chosen, chosen != to_compress)


def read_put(response: urllib3.BaseHTTPResponse, request: RequestPlan, path: str) -> str:
    """The key the server stored an upload under, from its `{"key": ...}` answer.

    A PUT's answer must name the key sent (the server returns the decoded key, protocol
    §2.6, §6.2): any other key means the answer was corrupted or came from something
    else, and returning it would hand the caller a key that names another object.

    Raises:
        ProtocolError: The answer is not such a document.
        IntegrityError: A PUT's answer names another key.
    """
    returned = _protocol.parse_key_response(response.data, request.method, path)
    if request.key is not None and returned != request.key:
        raise IntegrityError(
            f"{request.method} {path}: the server's answer names key {returned[:200]!r}, "
            f"not the key sent"
        )
    return returned


@dataclass(frozen=True, slots=True)
class GetPlan:
    """A download: its request, and what to do with the stored encoding."""

    request: RequestPlan
    """The streaming GET to send."""

    decompress: bool
    """Decode zstd payloads (unless the encoding is accepted as it is)."""

    accepted: frozenset[str]
    """Encodings the caller takes as stored (lower case); `*` takes any."""

    range: ByteRange | None = None
    """The stored bytes asked for (protocol §7); `None` for the whole object."""


def plan_get(
    key: object, decompress: object, accept_encoding: object, byte_range: object = None
) -> GetPlan:
    """Validates the arguments of `Session.get` and plans its request (protocol §6.3, §7).

    Raises:
        InvalidArgument: The key or the range breaks a rule.
        InvalidArgumentType: `accept_encoding` is not a list of strings, or the range is
            not a range.
    """
    checked_key = _validation.check_key(key)
    accepted = _validation.check_accept_encoding(accept_encoding) or frozenset()
    checked_range = None if byte_range is None else _validation.check_range(byte_range)
    headers = {} if checked_range is None else {"Range": checked_range.header}
    request = RequestPlan("get", "GET", checked_key, headers, stream=True)
    return GetPlan(request, bool(decompress), accepted, checked_range)


def plan_resume_get(plan: GetPlan, first: int, last: int | None) -> RequestPlan:
    """The GET that resumes a broken download: stored bytes `first` to `last` (protocol §7).

    `last` is inclusive; `None` asks for everything to the end.
    """
    wanted = ByteRange(first, None if last is None else last + 1)
    headers = {**plan.request.headers, "Range": wanted.header}
    return dataclasses.replace(plan.request, headers=headers)


def read_get(
    response: urllib3.BaseHTTPResponse,
    plan: GetPlan,
    path: str,
    translate: Translate,
    reopen: Reopen | None = None,
) -> GetResponse:
    """Wraps a successful GET's streaming response as a `GetResponse` (protocol §8).

    zstd payloads are decoded as they are read unless the caller accepts zstd (then
    `metadata.compression` says so) or the answer is a part of the object (a 206 that
    does not cover it all: returned as stored); the returned metadata says `None` for a
    payload decoded here. `translate` turns network errors while reading into the SDK's;
    `reopen` (see `plan_resume_get`) lets the payload resume after a broken connection.

    Raises:
        ProtocolError: A ranged GET was answered with other bytes than those asked for
            (or a 200); the connection is closed.
        UnsupportedCompression: The payload uses an encoding other than zstd and is to be
            decoded; the connection is closed.
    """
    metadata = Metadata.from_headers(response.headers)
    # A wildcard accepts whatever is stored: decompressing it would be wasted work.
    passthrough = "*" in plan.accepted or metadata.compression in plan.accepted
    decompressing = plan.decompress and metadata.compression is not None and not passthrough
    try:
        content_range = parse_content_range(response.status, response.headers)
        if plan.range is not None:
            check_answered(plan.range, content_range, path)
    except ProtocolError:
        # Unread bytes would corrupt the next request on this connection: drop it.
        response.close()
        response.release_conn()
        raise
    if content_range is not None and not content_range.whole:
        # Part of a compressed object cannot be decoded on its own (protocol §7).
        decompressing = False
    if decompressing:
        if metadata.compression != "zstd":
            response.close()
            response.release_conn()
            raise UnsupportedCompression(
                f"GET {path}: cannot decompress {metadata.compression!r}; use decompress=False"
            )
        # A new Metadata, not the one read changed (cheaper than `dataclasses.replace`).
        metadata = Metadata(**{**vars(metadata), "compression": None})
    payload = Payload(response, decompress=decompressing, translate=translate, reopen=reopen)
    return GetResponse(metadata, cast(IO[bytes], payload))


def plan_head(key: object) -> RequestPlan:
    """Validates the key of `Session.head` and plans its request (protocol §6.4).

    Raises:
        InvalidArgument: The key breaks a rule.
    """
    return RequestPlan("head", "HEAD", _validation.check_key(key))


def read_head(response: urllib3.BaseHTTPResponse) -> Metadata:
    """An object's metadata from a HEAD answer (204 of 0.2.0 servers, 200 of newer ones)."""
    return Metadata.from_headers(response.headers)


def plan_delete(key: object) -> RequestPlan:
    """Validates the key of `Session.delete` and plans its request (protocol §6.5).

    Raises:
        InvalidArgument: The key breaks a rule.
    """
    return RequestPlan("delete", "DELETE", _validation.check_key(key))
