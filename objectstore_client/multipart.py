"""Multipart uploads: one object from parts uploaded separately (protocol §11).

The names and call patterns of objectstore-client 0.2.x: `Session.initiate_multipart_upload`
returns a `MultipartUpload`, whose `put_part` returns a `CompletePart` for `complete`::

    upload = session.initiate_multipart_upload(key="archive.zip", compression="none")
    try:
        parts = [upload.put_part(chunk, part_number=n, content_length=len(chunk))
                 for n, chunk in enumerate(chunks, start=1)]
        upload.complete(parts)
    except Exception:
        upload.abort()
        raise

Unlike 0.2.x, the upload's compression is applied by the client: with `"zstd"` (the
usecase's default) every part is compressed on its own into a complete zstd frame, so the
object is one valid zstd stream, and a part sent uncompressed is never recorded as zstd;
with `"none"` parts are sent as they are. A part that already is whole zstd frames (0.2.x
had callers compress parts themselves) is sent as it is. See
`Session.initiate_multipart_upload`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import IO, Literal

from objectstore_client import _validation
from objectstore_client._context import RequestContext
from objectstore_client._outcome import upload_outcome
from objectstore_client._plans import multipart as plans
from objectstore_client._plans.multipart import CompletePart, PartEncoding, PartInfo
from objectstore_client._session_base import SessionBase
from objectstore_client._upload import flat
from objectstore_client.errors import (
    IntegrityError,
    InvalidArgument,
    InvalidArgumentType,
    MultipartCompleteError,
    RequestError,
    raise_for_status,
)
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual
from objectstore_client.metrics import measure_storage_operation
from objectstore_client.tracing import storage_span

# 0.2.x's multipart module also had `RequestError`, `raise_for_status`,
# `measure_storage_operation` and `storage_span` at module level.
__all__ = [
    "CompletePart",
    "MultipartCompleteError",
    "MultipartUpload",
    "MultipartVerbs",
    "PartInfo",
    "RequestError",
    "measure_storage_operation",
    "raise_for_status",
    "storage_span",
]

# How much of a part stream is read at a time.
_READ_SIZE = 1024 * 1024


class MultipartUpload:
    """An upload in progress; create it with `Session.initiate_multipart_upload`.

    Thread-safe: parts may be uploaded from several threads at once. The handle tracks
    what it did itself: after `abort` or a successful `complete` it sends nothing more.

    Args:
        session: The session the upload belongs to. Built directly (as 0.2.x allows),
            the handle does not know the upload's compression: see
            `Session.resume_multipart_upload`.
        key: The object's key.
        upload_id: The server's id of the upload.
    """

    def __init__(
        self,
        session: MultipartVerbs,
        key: str,
        upload_id: str,
        *,
        _encoding: PartEncoding | Literal["unknown"] = "unknown",
    ) -> None:
        self._context = session._upload_context()
        self._encoding = _encoding
        self._key = key
        self._upload_id = upload_id
        self._state: Literal["open", "completed", "aborted"] = "open"
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        """The object's key (chosen by the server if `initiate` was given none)."""
        return self._key

    @property
    def upload_id(self) -> str:
        """The server's id of this upload; with the key, enough to resume it elsewhere."""
        return self._upload_id

    def __repr__(self) -> str:
        return f"MultipartUpload(key={self._key!r}, upload_id={self._upload_id!r})"

    def _require_open(self) -> None:
        if self._state != "open":
            raise InvalidArgument("upload_id", f"{self._upload_id!r} was {self._state} here")

    def put_part(
        self,
        contents: bytes | bytearray | memoryview | IO[bytes],
        *,
        part_number: int,
        content_length: int,
        content_md5: bytes | None = None,
    ) -> CompletePart:
        """Uploads one part; uploading a part number again replaces that part.

        `content_length` bytes are read from a stream (from its current position), or
        must be the length of bytes-like `contents`. The part is held in memory while it
        is sent, since the server needs its length first. With compression in effect it
        is compressed on its own into a zstd frame, unless it already is whole zstd
        frames. A part may be retried (see `Client`).

        Args:
            contents: The part's bytes, as the caller has them (uncompressed, unless the
                upload is `precompressed`).
            part_number: From 1 to 4294967295; parts are joined in this order.
            content_length: The size of `contents` in bytes.
            content_md5: The 16-byte MD5 digest of `contents`, checked here; the server
                (GCS) checks the digest of what is sent.

        Returns:
            The part's number and etag, for `complete`.

        Raises:
            InvalidArgument: A bad part number, length or digest; a part whose encoding
                does not fit the upload; a handle resumed without its compression; or the
                upload was aborted or completed here.
            InvalidArgumentType: An argument has the wrong type.
            RequestError: The server refused the part.
            TransportError: The request failed on the network.
        """
        self._require_open()
        if self._encoding == "unknown":
            raise InvalidArgument(
                "compression",
                "is unknown for a resumed upload: pass resume_multipart_upload() the "
                "compression (or precompressed) the upload was initiated with",
            )
        data = _read_part(contents, content_length)
        plan = plans.plan_put_part(
            self._key, self._upload_id, data, self._encoding, part_number, content_md5
        )
        context = self._context
        # A part alone never stores the object: only `complete` does.
        with (
            context.measure(plan.operation, self._key) as (span, emitter),
            upload_outcome(self._key, stored=False),
        ):
            span.set_data("objectstore.upload_id", self._upload_id)
            span.set_data("objectstore.part_number", part_number)
            path = context.target(plan)
            response, body = context.send(plan, path)
            part = plans.read_put_part(response, part_number, path)
            if body is not None:
                emitter.record_size(body.uncompressed_size)
                span.set_data("objectstore.size", body.uncompressed_size)
        return part

    def list_parts(self) -> list[PartInfo]:
        """Lists the parts uploaded so far, by part number, fetching every page.

        Raises:
            RequestError: The server refused (an unknown upload is a `ServerError`).
            TransportError: A request failed on the network.
        """
        context = self._context
        parts: list[PartInfo] = []
        marker: int | None = None
        with context.measure("multipart.list_parts", self._key) as (span, _):
            span.set_data("objectstore.upload_id", self._upload_id)
            while True:
                plan = plans.plan_list_parts(self._key, self._upload_id, marker)
                path = context.target(plan)
                response, _ = context.send(plan, path)
                page, marker = plans.read_list_parts(response, path)
                parts += page
                if marker is None:
                    span.set_data("objectstore.part_count", len(parts))
                    return parts

    def complete(self, parts: Sequence[CompletePart | PartInfo]) -> str:
        """Assembles the object from `parts` (sorted by part number) and returns its key.

        Parts not listed are dropped. The server answers only once the object is
        written, which can take a while for large uploads.

        Raises:
            MultipartCompleteError: The server could not assemble the object (e.g. a
                part is missing or its etag differs); the upload stays open.
            InvalidArgument: `parts` is empty or lists a part number twice, or the upload
                was aborted or completed here.
            InvalidArgumentType: `parts` holds something else than parts.
            RequestError: The server refused the request.
            TransportError: The request failed on the network.
        """
        self._require_open()
        plan = plans.plan_complete(self._key, self._upload_id, plans.check_parts(parts))
        context = self._context
        with context.measure(plan.operation, self._key) as (span, _), upload_outcome(self._key):
            span.set_data("objectstore.upload_id", self._upload_id)
            span.set_data("objectstore.part_count", len(parts))
            path = context.target(plan)
            response, _ = context.send(plan, path)
            try:
                key = plans.read_complete(response, path)
            except MultipartCompleteError as exc:
                exc.stored = False  # The server said it could not assemble the object.
                raise
            if key != self._key:
                raise IntegrityError(
                    f"{path}: the answer names key {key[:200]!r}, not the upload's"
                )
        with self._lock:
            self._state = "completed"
        return key

    def abort(self) -> None:
        """Discards the upload and its parts. Aborting twice, or an unknown upload, is fine.

        Raises:
            InvalidArgument: The upload was completed here.
            RequestError: The server refused.
            TransportError: The request failed on the network.
        """
        if self._state == "completed":
            self._require_open()
        plan = plans.plan_abort(self._key, self._upload_id)
        with self._context.measure(plan.operation, self._key) as (span, _):
            span.set_data("objectstore.upload_id", self._upload_id)
            self._context.send(plan)
        with self._lock:
            self._state = "aborted"


class MultipartVerbs(SessionBase):
    """The `Session` methods that start and resume multipart uploads."""

    def _upload_context(self) -> RequestContext:
        # The handles of this module send their requests through their session's context.
        return self._context

    def initiate_multipart_upload(
        self,
        *,
        key: str | None = None,
        compression: Compression | Literal["none"] | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expiration_policy: ExpirationPolicy | Manual | None = None,
        origin: str | None = None,
        filename: str | None = None,
        precompressed: Compression | None = None,
    ) -> MultipartUpload:
        """Starts a multipart upload and returns its handle (protocol §11.1).

        The arguments are those of `Session.put`; the metadata and the expiry are fixed
        now, for the final object. Parts are encoded by `compression` (`None`: the
        usecase's): `"zstd"` compresses each part on its own in `put_part` (a part that
        already is whole zstd frames is sent as it is), `"none"` sends parts as they are.
        `precompressed="zstd"` sends every part as it is and requires whole zstd frames.
        Never retried: each attempt would start another upload.

        Raises:
            InvalidArgument: An argument breaks a rule (as for `put`), or both
                `compression` and `precompressed` are given.
            InvalidArgumentType: An argument has the wrong type.
            RequestError: The server refused (e.g. 501 on backends without multipart).
            TransportError: The request failed on the network.
        """
        context = self._context
        encoding = plans.part_encoding(context.usecase, compression, precompressed)
        plan = plans.plan_initiate(
            context.usecase,
            key,
            encoding,
            content_type=content_type,
            metadata=metadata,
            expiration_policy=expiration_policy,
            origin=origin,
            filename=filename,
        )
        # Initiating stores no object, whatever happens to the request.
        with (
            context.measure(plan.operation, plan.key) as (span, _),
            upload_outcome(plan.key, stored=False),
        ):
            path = context.target(plan)
            response, _ = context.send(plan, path)
            stored_key, upload_id = plans.read_initiate(response, path)
            span.set_data("objectstore.key", stored_key)
            span.set_data("objectstore.upload_id", upload_id)
        return MultipartUpload(self, stored_key, upload_id, _encoding=encoding)

    def resume_multipart_upload(
        self,
        key: str,
        upload_id: str,
        *,
        compression: Compression | Literal["none"] | None = None,
        precompressed: Compression | None = None,
    ) -> MultipartUpload:
        """Returns the handle of an upload started elsewhere; sends nothing.

        To upload parts, give the `compression` or `precompressed` the upload was started
        with: the server cannot tell, and parts encoded otherwise would corrupt the object.
        Without either, `put_part` raises; listing, completing and aborting work.

        Raises:
            InvalidArgument: The key or upload id is invalid or empty, or the compression
                arguments are (as for `initiate_multipart_upload`).
            InvalidArgumentType: An argument has the wrong type.
        """
        checked_key = _validation.check_key(key)
        upload_id = _validation.check_upload_id(upload_id)
        encoding: PartEncoding | Literal["unknown"] = (
            "unknown"
            if compression is None and precompressed is None
            else plans.part_encoding(self._context.usecase, compression, precompressed)
        )
        return MultipartUpload(self, checked_key, upload_id, _encoding=encoding)


def _read_part(contents: object, content_length: object) -> bytes | bytearray | memoryview:
    """The part's bytes: `contents` itself, or `content_length` bytes read from it."""
    content_length = _validation.check_content_length(content_length)
    if isinstance(contents, bytes | bytearray | memoryview):
        data = contents if isinstance(contents, bytes | bytearray) else flat(contents)
        if len(data) != content_length:
            raise InvalidArgument(
                "content_length", f"is {content_length}, but contents has {len(data)} bytes"
            )
        return data
    read = getattr(contents, "read", None)
    if not callable(read) or isinstance(contents, str):
        raise InvalidArgumentType(
            "contents", f"must be bytes or a binary file object, got {type(contents).__name__}"
        )
    buffer = bytearray()
    while len(buffer) < content_length:
        chunk = read(min(_READ_SIZE, content_length - len(buffer)))
        if not isinstance(chunk, bytes | bytearray):
            raise InvalidArgumentType("contents", "read() must return bytes")
        if not chunk:
            raise InvalidArgument(
                "content_length",
                f"is {content_length}, but the stream ended after {len(buffer)} bytes",
            )
        buffer += chunk
    return buffer
