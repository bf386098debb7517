"""`Session`: the operations on the objects of one usecase and scope.

A thin facade: each method plans its request (`objectstore_client._plans`), executes the
plan through the session's `RequestContext` inside the operation's span and metrics, and
reads the result. See docs/architecture.md.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, Generic, Literal, cast, overload

from objectstore_client import _resumable, _validation
from objectstore_client._access import SharingVerbs
from objectstore_client._batch import BatchVerbs
from objectstore_client._download import GetResponse
from objectstore_client._missing import MissingMode, MissingT
from objectstore_client._outcome import upload_outcome
from objectstore_client._plans import expiry, objects, ranges
from objectstore_client._progress import ProgressReader
from objectstore_client._put import send_put
from objectstore_client._sources import upload_source
from objectstore_client._transfers import TransferVerbs
from objectstore_client._upload_file import UploadFileVerbs
from objectstore_client.errors import ObjectNotFound, RangeNotSatisfiable
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual, Metadata
from objectstore_client.multipart import MultipartVerbs
from objectstore_client.progress import ProgressCallback
from objectstore_client.ranges import ByteRange, RangeSpec

__all__ = ["GetResponse", "Session"]

logger = logging.getLogger(__name__)


class Session(
    SharingVerbs, BatchVerbs, TransferVerbs, UploadFileVerbs, MultipartVerbs, Generic[MissingT]
):
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

    On a `Client(missing="none")`, `get` and `head` return `None` for a missing object
    (the session is then a `Session[Literal["none"]]`, for type checkers).

    The constructor is that of objectstore-client 0.0.19, and 0.2.x's `spool_dir` (unused:
    see `put`). A session built directly from a pool uses that pool's settings, its `Retry`
    bounding replays (see `_retry`).
    """

    def put(
        self,
        contents: bytes | bytearray | memoryview | IO[bytes] | os.PathLike[str] | Iterator[bytes],
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
        resumable_threshold_bytes: int | Literal["none"] | None = None,
        progress: ProgressCallback | None = None,
        server_key: bool = False,
    ) -> str:
        """Uploads `contents` and returns the key it is stored under.

        With a `key`, the object is created or replaced (PUT), including all its metadata.
        Without one (`None` or `""`), a new key is chosen here, a random UUID in the form
        the server would choose (protocol §2.7), and the object is PUT under it: unlike
        objectstore-client 0.0.19 and 0.2.x, which let the server choose with a POST,
        every upload can be retried and every failure names the object it may have
        stored, so no object is ever left under a key nobody received.

        `contents` may be `bytes`, `bytearray`, `memoryview` (`Content-Length`; from 8 MiB
        chunked, in 4 MiB zstd frames compressed on 2 worker threads as they are sent)
        or a readable binary file object, including non-seekable pipes (streamed in
        chunks, never read into memory as a whole, read from its current position to the
        end). The stream is not closed, and after the upload its position is not looked at.
        A `pathlib.Path` (any `os.PathLike`) is opened, streamed and closed; an iterator of
        byte chunks (a generator, `iter(chunks)`) is streamed as it goes, and never retried.
        For files of many MiB, `upload_file` sends parts in parallel.

        Retries: a PUT is sent again after a dropped connection, a timeout or a 429/5xx
        answer (see `Client`) if `contents` is bytes-like or a seekable stream (rewound to
        where it started). A POST (`server_key=True`) is never sent twice.

        Every error raised after the arguments were accepted carries `key` and `stored`
        (`objectstore_client.errors`): `False` if provably not stored, `None` if it may be.

        Contents of known size (bytes-like, seekable streams) of at least
        `resumable_threshold_bytes` (default: the usecase's, 256 MiB) go over the resumable
        protocol (`_resumable`), continuing where the server stopped after failures (a
        plain upload if the server declines). Compression runs twice to learn the size
        first, instead of spooling to disk as 0.2.x does (`spool_dir` is not needed).

        Args:
            contents: The object's bytes.
            key: The key to store under; `None` or `""` picks a new one (see above).
            compression: `"zstd"` or `"none"`; `None` uses the usecase's default.
                Compression runs on this thread (bytes-like from 8 MiB: 2 workers).
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
            resumable_threshold_bytes: Overrides the usecase's threshold for this upload.
            progress: Called on this thread with a `Progress` as the contents are read
                (uncompressed bytes; the total if known). Bytes-like: once, when sent.
            server_key: Let the server choose the key (a POST, as 0.0.19 did without a
                key); excludes `key`. Risk: a POST cannot be retried, and if the
                connection breaks after the server stored the object, the error cannot
                name it (`key` is `None`, `stored` is `None`): the object stays, under a
                key nobody received, until it expires. Use it only for servers that
                refuse client keys.

        Raises:
            InvalidArgument: An argument breaks a rule (for keys, see `Session`), or the
                metadata would not fit the server's request head limits (protocol §14).
            InvalidArgumentType: An argument has the wrong type.
            EndpointNotFound: 404: no Objectstore route at the URL; the client's base URL
                or the usecase is wrong (an upload never misses its object).
            RequestError: The server rejected the upload.
            TransportError: The upload failed on the network, or a stream failed when
                sent again after an attempt that may have been stored (its error is the
                `__cause__`). A `put` again with `key=error.key` is safe.
            IntegrityError: The server's answer named another key than the one sent.
            Exception: What `contents` raised while read, if no attempt can be stored.
        """
        with upload_source(contents, progress) as source:
            plan = objects.plan_put(
                self._context.usecase,
                source.contents,
                key,
                compression=compression,
                compress=compress,
                precompressed=precompressed,
                content_type=content_type,
                metadata=metadata,
                expiration_policy=expiration_policy,
                origin=origin,
                filename=filename,
                server_key=server_key,
            )
            threshold = (
                self._context.usecase.resumable_threshold_bytes
                if resumable_threshold_bytes is None
                else _validation.check_resumable_threshold(resumable_threshold_bytes)
            )
            with upload_outcome(plan.request.key):
                if (stored := _resumable.put(self._context, plan, threshold)) is not None:
                    source.sent()
                    return stored
            stored_key, _ = send_put(self._context, plan)
            source.sent()
        return stored_key

    @overload
    def get(
        self: Session[Literal["raise"]],
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
        *,
        range: RangeSpec | None = None,
        progress: ProgressCallback | None = None,
    ) -> GetResponse: ...
    @overload
    def get(
        self: Session[Literal["none"]],
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
        *,
        range: RangeSpec | None = None,
        progress: ProgressCallback | None = None,
    ) -> GetResponse | None: ...
    @overload
    def get(
        self: Session[MissingMode],
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
        *,
        range: RangeSpec | None = None,
        progress: ProgressCallback | None = None,
    ) -> GetResponse | None: ...
    def get(
        self,
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
        *,
        range: RangeSpec | None = None,
        progress: ProgressCallback | None = None,
    ) -> GetResponse | None:
        """Downloads an object; its bytes stream in as `payload` is read.

        zstd-compressed objects are decompressed on the fly (across frames) unless
        `decompress=False`, which returns the stored bytes with `metadata.compression` set.
        `accept_encoding` does the same for the encodings it lists: a service that
        forwards objects to clients able to decode zstd passes their `Accept-Encoding`
        (through `utils.parse_accept_encoding`) and sends the stored bytes on untouched;
        `metadata.compression` then says how they are encoded. `"*"` accepts any encoding.
        Uncompressed objects are returned as they are either way.

        `range` asks for part of the stored bytes, like a slice: `(start, end)` (end
        exclusive), `(start, None)` to the end, `(-n, None)` for the last `n` bytes (see
        `objectstore_client.ranges`). Ranges address the stored bytes: a range of a
        zstd-compressed object comes back as stored (`metadata.compression == "zstd"`)
        unless it covers the whole object. An end past the object's end is cut to it.

        Read the payload to the end, close it or use the response as a context manager to
        release the connection. The request is retried as described in `Client`; a
        connection that breaks while the payload is read is resumed where it broke with a
        `Range` request (up to 3 times), after checking that the object did not change.
        `progress` is called with a `Progress` on the thread that reads the payload, after
        each read (the total is known unless decoding).

        Raises:
            ObjectNotFound: The object does not exist or has expired (status 404, also a
                `RequestError`, as in 0.0.19), unless the client has `missing="none"`: then
                `None` is returned. `get_or_none` returns `None` in either mode.
            RangeNotSatisfiable: The range starts at or past the end of the stored bytes
                (416); the message names it.
            UnsupportedCompression: The object uses an encoding other than zstd and
                `decompress` is true.
            InvalidArgument: The key breaks a rule, or the range is reversed or empty.
            RequestError: Another error status.
            TransportError: The request failed on the network.
            ProtocolError: The answer to a `range` carries other bytes than those asked
                for (a proxy that dropped or changed the `Range` header).
        """
        try:
            return self._get(key, decompress, accept_encoding, range, progress)
        except ObjectNotFound:
            if self._missing == "none":
                return None
            raise

    def _get(
        self,
        key: str,
        decompress: bool,
        accept_encoding: object,
        byte_range: object = None,
        progress: ProgressCallback | None = None,
    ) -> GetResponse:
        plan = objects.plan_get(key, decompress, accept_encoding, byte_range)
        context = self._context
        path = context.target(plan.request)
        with context.measure("get", plan.request.key):
            try:
                response, _ = context.send(plan.request, path)
            except RangeNotSatisfiable as exc:
                raise ranges.unsatisfiable(exc, plan.range or ByteRange(0), path) from exc

        reopen = context.resender(functools.partial(objects.plan_resume_get, plan), path)
        result = objects.read_get(response, plan, path, context.translator("GET", path), reopen)
        if progress is None:
            return result
        decoded = result.metadata.compression != response.headers.get("content-encoding")
        total = ranges.download_total(response, result.metadata.size, decoded)
        tracked = ProgressReader(result.payload, progress, total, owns=True)
        return result._replace(payload=cast(IO[bytes], tracked))

    def get_or_none(
        self,
        key: str,
        decompress: bool = True,
        accept_encoding: Sequence[str] | None = None,
    ) -> GetResponse | None:
        """Like `get`, but returns `None` when the object does not exist or has expired."""
        try:
            return self._get(key, decompress, accept_encoding)
        except ObjectNotFound:
            return None

    @overload
    def head(self: Session[Literal["raise"]], key: str) -> Metadata: ...
    @overload
    def head(self: Session[Literal["none"]], key: str) -> Metadata | None: ...
    @overload
    def head(self: Session[MissingMode], key: str) -> Metadata | None: ...
    def head(self, key: str) -> Metadata | None:
        """Returns an object's metadata without its payload.

        Counts as an access: it extends a time-to-idle expiration. Accepts the 204 of
        0.2.0 servers and the 200 (with the size) of newer servers.

        Raises:
            ObjectNotFound: The object does not exist or has expired (status 404), unless
                the client has `missing="none"`: then `None` is returned.
            InvalidArgument: The key breaks a rule.
            RequestError: Another error status.
            TransportError: The request failed on the network.
        """
        try:
            return self._head(key)
        except ObjectNotFound:
            if self._missing == "none":
                return None
            raise

    def _head(self, key: str) -> Metadata:
        request = objects.plan_head(key)
        with self._context.measure("head", request.key):
            response, _ = self._context.send(request)
        return objects.read_head(response)

    def head_or_none(self, key: str) -> Metadata | None:
        """Like `head`, but returns `None` when the object does not exist or has expired."""
        try:
            return self._head(key)
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

        Only newer servers have this endpoint (a `PATCH`, protocol §18.2); older ones answer
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
