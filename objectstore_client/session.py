"""`Session`: the operations on the objects of one usecase and scope.

A thin facade: each method plans its request (`objectstore_client._plans`), executes the
plan through the session's `RequestContext` inside the operation's span and metrics, and
reads the result. See docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, Literal

import urllib3

from objectstore_client._access import SharingVerbs
from objectstore_client._download import GetResponse
from objectstore_client._measure import record_upload
from objectstore_client._plans import expiry, objects
from objectstore_client.errors import ObjectNotFound
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual, Metadata

__all__ = ["GetResponse", "Session"]

logger = logging.getLogger(__name__)


class Session(SharingVerbs):
    """The objects of one usecase and scope; create it with `Client.session`.

    A session holds no connection of its own and no mutable state: it is cheap to create
    and safe to share between threads. Every operation validates its arguments before
    sending anything (`InvalidArgument`, `InvalidArgumentType`), raises `RequestError`
    subclasses for error statuses and `TransportError` subclasses for network failures.
    See `Client` for what is retried.

    Keys are text, sent percent-encoded, so every character means itself: `a%20b`,
    `a b`, `a#b` and `a?b` are four different objects, and `/` separates nested names.
    A key must not be empty, have `.` or `..` as a segment, or contain control
    characters: any URL normaliser (including browsers following `object_url`) would
    resolve such a key to another object, even percent-encoded, so these are rejected by
    every operation. `put` also rejects keys that start or end with `/` or contain `//`,
    which the filesystem backend would store under the same file as another key; `get`,
    `head`, `delete`, `extend_expiry` and the URL methods accept them, so objects other
    clients stored under such keys can still be read and deleted.

    To let a service or browser without a key read objects, hand it a URL with a token
    (`object_url(key, token_validity=...)`), a presigned URL (`presigned_object_url`) or a
    token (`mint_token`); these need a `TokenGenerator` (`SecretKey`) on the client.

    The constructor is that of objectstore-client 0.0.19. A session built directly from a
    pool uses that pool's settings, its `Retry` bounding replays (see `_retry`).
    """

    def put(
        self,
        contents: bytes | bytearray | memoryview | IO[bytes],
        key: str | None = None,
        compression: Compression | Literal["none"] | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expiration_policy: ExpirationPolicy | Manual | None = None,
        origin: str | None = None,
        *,
        filename: str | None = None,
        compress: Compression | Literal["none"] | None = None,
        precompressed: Compression | Literal["none"] | None = None,
    ) -> str:
        """Uploads `contents` and returns the key it is stored under.

        With a `key`, the object is created or replaced (PUT), including all its metadata.
        Without one (`None` or `""`), the server picks a new key (POST).

        `contents` may be `bytes`, `bytearray`, `memoryview` (sent with `Content-Length`)
        or a readable binary file object, including non-seekable pipes (streamed in
        chunks, never read into memory as a whole, read from its current position to the
        end). The stream is not closed, and after the upload its position is not looked at.

        Retries: a PUT is sent again after a dropped connection, a timeout or a 429/5xx
        answer (see `Client`) if `contents` is bytes-like or a seekable stream (rewound to
        where it started). A POST is never sent twice.

        Args:
            contents: The object's bytes.
            key: The key to store under; `None` or `""` lets the server choose.
            compression: `"zstd"` or `"none"`; `None` uses the usecase's default.
                Compression happens on this thread.
                Also accepted as `compress`, its name in objectstore-client 0.2.x.
            content_type: The media type, e.g. `"text/plain"`; see `utils.guess_mime_type`.
            metadata: Custom `name: value` pairs (names are header tokens; the server
                lower-cases them). Values may be any text.
            expiration_policy: `TimeToLive`, `TimeToIdle`, or `Manual()` to keep this
                object forever even if the usecase has a default; `None` uses the default.
            origin: Where the payload came from, e.g. the uploader's IP address.
            filename: A file name for downloads: the server answers reads with
                `Content-Disposition: attachment; filename="..."`.
            compress: The same as `compression` (give one of them).
            precompressed: `"zstd"` if `contents` is already zstd-compressed: it is sent
                as is and recorded as zstd, so `get` decompresses it. Excludes
                `compression`/`compress`. Bytes-like contents must start with a zstd frame.

        Raises:
            InvalidArgument: An argument breaks a rule (for keys, see `Session`).
            InvalidArgumentType: An argument has the wrong type.
            RequestError: The server rejected the upload.
            TransportError: The upload failed on the network (a timeout, a dropped
                connection). Without a `key`, the server may still have stored the
                object, under a key the caller never received and cannot delete: give
                uploads that must not be lost or leaked a key chosen by the caller.
                With a `key`, sending the same `put` again is safe; it replaces the
                object if it was stored.
        """
        plan = objects.plan_put(
            self._context.usecase,
            contents,
            key,
            compression=compression,
            compress=compress,
            precompressed=precompressed,
            content_type=content_type,
            metadata=metadata,
            expiration_policy=expiration_policy,
            origin=origin,
            filename=filename,
        )
        request = plan.request
        context = self._context
        with context.measure("put", request.key) as (span, emitter):
            path = context.target(request)
            response, body = context.send(request, path)
            stored_key = objects.read_put(response, request, path)
            record_upload(span, emitter, body, plan.compression, plan.precompressed, stored_key)
        return stored_key

    def get(
        self,
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
    ) -> GetResponse:
        """Downloads an object; its bytes stream in as `payload` is read.

        zstd-compressed objects are decompressed on the fly (across frames) unless
        `decompress=False`, which returns the stored bytes with `metadata.compression` set.
        `accept_encoding` does the same for the encodings it lists: a service that
        forwards objects to clients able to decode zstd passes their `Accept-Encoding`
        (through `utils.parse_accept_encoding`) and sends the stored bytes on untouched;
        `metadata.compression` then says how they are encoded. `"*"` accepts any encoding.
        Uncompressed objects are returned as they are either way.

        Read the payload to the end, close it or use the response as a context manager to
        release the connection. The request is retried as described in `Client`; a
        connection that breaks while the payload is read is resumed where it broke with a
        `Range` request (up to 3 times), after checking that the object did not change.

        Raises:
            ObjectNotFound: The object does not exist or has expired (status 404, also a
                `RequestError`, as in 0.0.19). Use `get_or_none` to get `None` instead.
            UnsupportedCompression: The object uses an encoding other than zstd and
                `decompress` is true.
            InvalidArgument: The key breaks a rule.
            RequestError: Another error status.
            TransportError: The request failed on the network.
        """
        plan = objects.plan_get(key, decompress, accept_encoding)
        context = self._context
        path = context.target(plan.request)
        with context.measure("get", plan.request.key):
            response, _ = context.send(plan.request, path)

        def reopen(offset: int) -> urllib3.BaseHTTPResponse:
            return context.send(objects.plan_resume_get(plan, offset), path)[0]

        return objects.read_get(response, plan, path, context.translator("GET", path), reopen)

    def get_or_none(
        self,
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
    ) -> GetResponse | None:
        """Like `get`, but returns `None` when the object does not exist or has expired."""
        try:
            return self.get(key, decompress, accept_encoding)
        except ObjectNotFound:
            return None

    def head(self, key: str) -> Metadata:
        """Returns an object's metadata without its payload.

        Counts as an access: it extends a time-to-idle expiration. Accepts the 204 of
        the server described in the spec and the 200 (with the size) of newer servers.

        Raises:
            ObjectNotFound: The object does not exist or has expired (status 404).
            InvalidArgument: The key breaks a rule.
            RequestError: Another error status.
            TransportError: The request failed on the network.
        """
        request = objects.plan_head(key)
        with self._context.measure("head", request.key):
            response, _ = self._context.send(request)
        return objects.read_head(response)

    def head_or_none(self, key: str) -> Metadata | None:
        """Like `head`, but returns `None` when the object does not exist or has expired."""
        try:
            return self.head(key)
        except ObjectNotFound:
            return None

    def delete(self, key: str) -> None:
        """Deletes an object. Deleting a missing object succeeds on production servers.

        Raises:
            InvalidArgument: The key breaks a rule.
            RequestError: The server refused (e.g. `PermissionDenied`).
            TransportError: The request failed on the network.
        """
        request = objects.plan_delete(key)
        with self._context.measure("delete", request.key):
            self._context.send(request)

    def extend_expiry(
        self,
        key: str,
        at: datetime | None = None,
        from_creation: timedelta | None = None,
        from_now: timedelta | None = None,
    ) -> None:
        """Moves an object's expiration deadline later, keeping its payload and metadata.

        Give exactly one target: `at`, an aware datetime (rounded up to a second by the
        server); `from_creation`, a lifetime counted from when the object was created or
        last replaced; or `from_now`, counted from when the server handles the request.
        Durations are rounded up to whole seconds; zero is valid. A deadline is never
        shortened: if it is already late enough, nothing changes and the call succeeds,
        so success does not tell whether it moved. A time-to-live policy's duration grows
        to match; a time-to-idle policy's is kept. Needs the `object.write` permission.

        Only newer servers have this endpoint (a `PATCH`, spec §18.2); older ones answer
        405, raised as `ExpiryExtensionUnsupported`.

        Retries: the request is retried like a PUT (see `Client`). That is harmless:
        `at` and `from_creation` name the same deadline every time, and a retried
        `from_now` counts from the retry, which is what "keep it `from_now` longer" asks.

        Raises:
            ObjectNotFound: The object does not exist or has expired.
            ExpiryExtensionRejected: 409: the object never expires, or changed while its
                deadline was being moved (it may not exist any more).
            ExpiryExtensionUnsupported: 405: the server cannot extend expiry.
            InvalidArgument: Not exactly one target, a naive `at`, a negative duration,
                or a bad key.
            InvalidArgumentType: A target has the wrong type.
            RequestError: Another error status (e.g. `PermissionDenied`).
            TransportError: The request failed on the network.
        """
        request = expiry.plan_extend_expiry(key, at, from_creation, from_now)
        with self._context.measure("extend_expiry", request.key):
            self._context.send(request)
