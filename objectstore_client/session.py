"""`Session`: the operations on the objects of one usecase and scope."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple, Self, cast

from urllib3.connectionpool import HTTPConnectionPool

from objectstore_client import _protocol, _validation
from objectstore_client._access import ExternalAccess
from objectstore_client._download import Payload
from objectstore_client._measure import measure
from objectstore_client._transport import Transport, translate_error
from objectstore_client._upload import BufferBody, prepare_body
from objectstore_client.auth import TokenGenerator, TokenProvider
from objectstore_client.errors import InvalidArgument, ObjectNotFound, UnsupportedCompression
from objectstore_client.metadata import (
    Compression,
    ExpirationPolicy,
    Manual,
    Metadata,
)
from objectstore_client.metrics import MetricsBackend, StorageMetricEmitter
from objectstore_client.scope import Scope
from objectstore_client.tracing import trace_propagation_headers

if TYPE_CHECKING:
    from objectstore_client.client import Usecase

__all__ = ["GetResponse", "Session"]

logger = logging.getLogger(__name__)

# Replays of idempotent requests for sessions built directly rather than by a Client.
_DEFAULT_REPLAYS = 3

_AUTH_HEADERS = {"authorization": "Authorization", "x-os-auth": "X-Os-Auth"}


class GetResponse(NamedTuple):
    """A downloaded object: its metadata and a stream of its bytes.

    Unpacks like the tuple of objectstore-client 0.0.19 (`metadata, payload = ...`).
    Use it as a context manager, or read `payload` to the end, or call `close()`: any of
    them gives the connection back to the pool.
    """

    metadata: Metadata
    """The object's metadata. `compression` is `None` if the payload was decompressed."""

    payload: IO[bytes]
    """The object's bytes as a binary stream, read from the network on demand."""

    def close(self) -> None:
        """Closes the payload, releasing its connection. Safe to call more than once."""
        self.payload.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def iter_chunks(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """Yields the payload in chunks of at most `chunk_size` bytes, until the end."""
        while chunk := self.payload.read(chunk_size):
            yield chunk


class Session(ExternalAccess):
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
    pool uses that pool's settings and retries idempotent requests 3 times.
    """

    def __init__(
        self,
        pool: HTTPConnectionPool,
        base_path: str,
        metrics_backend: MetricsBackend,
        propagate_traces: bool,
        usecase: Usecase,
        scope: Scope,
        token: TokenProvider | None = None,
        *,
        _transport: Transport | None = None,
        _auth_header: Literal["authorization", "x-os-auth"] = "authorization",
    ) -> None:
        self._pool = pool
        # As urllib3 will send it: presigned URLs sign the path exactly as sent.
        self._base_path = _protocol.normalize_base_path(base_path)
        self._metrics_backend = metrics_backend
        self._propagate_traces = propagate_traces
        self._usecase = usecase
        self._scope = scope
        self._token = token
        self._transport = _transport or Transport(pool, _DEFAULT_REPLAYS)
        self._auth_header = _AUTH_HEADERS[_auth_header]
        # (usecase name, collection path), rebuilt by `_path` when the usecase is renamed
        # (allowed since 0.0.19). Replaced as one tuple, so threads never see a name with
        # another name's path.
        self._collection = self._collection_for(usecase.name)

    @property
    def usecase(self) -> Usecase:
        """The usecase this session operates in."""
        return self._usecase

    @property
    def scope(self) -> Scope:
        """The scope this session operates in."""
        return self._scope

    def _headers(self) -> dict[str, str]:
        headers = dict(self._transport.headers)
        if self._propagate_traces:
            headers.update(trace_propagation_headers())
        if isinstance(self._token, TokenGenerator):
            token = self._token._token_for_request(self._usecase.name, self._scope)
            headers[self._auth_header] = f"Bearer {token}"
        elif self._token:
            headers[self._auth_header] = f"Bearer {self._token}"
        return headers

    def _collection_for(self, usecase: str) -> tuple[str, str]:
        return usecase, _protocol.object_path(self._base_path, usecase, self._scope, None)

    def _path(self, key: str | None) -> str:
        # Only the key changes from one request to the next: quote just that.
        collection = self._collection
        if collection[0] != self._usecase.name:
            collection = self._collection = self._collection_for(self._usecase.name)
        return collection[1] if key is None else collection[1] + _protocol.encode_key(key)

    def _measure(
        self, operation: str, key: str | None
    ) -> AbstractContextManager[tuple[Any, StorageMetricEmitter]]:
        """This session's span and metrics around one operation (see `_measure.measure`)."""
        return measure(self._metrics_backend, operation, self._usecase.name, self._scope, key)

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
        checked_contents = _validation.check_contents(contents)
        checked_key = _validation.check_optional_key(key)
        if compress is not None and compression is not None:
            raise InvalidArgument("compress", "is the new name of compression; give only one")
        requested = compress if compress is not None else compression
        if precompressed is None:
            chosen = _validation.check_compression(
                requested or self._usecase._compression,
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
        headers = _protocol.put_headers(
            compression=chosen,
            content_type=_validation.check_content_type(content_type or None),
            expiration_policy=_validation.check_expiration_policy(
                expiration_policy or self._usecase._expiration_policy
            ),
            origin=_validation.check_text(origin or None, "origin"),
            filename=_validation.check_text(filename or None, "filename"),
            metadata=_validation.check_custom_metadata(metadata),
        )
        method = "POST" if checked_key is None else "PUT"
        path = self._path(checked_key)
        with self._measure("put", checked_key) as (span, emitter):
            body = prepare_body(checked_contents, to_compress)
            response = self._transport.request(method, path, self._headers() | headers, body)
            stored_key = _protocol.parse_key_response(response.data, method, path)
            if chosen != to_compress:
                # Precompressed: what was read is the compressed size; the rest is unknown.
                emitter.record_compressed_size(body.uncompressed_size, chosen)
            else:
                emitter.record_uncompressed_size(body.uncompressed_size)
            if body.compressed_size is not None:
                emitter.record_compressed_size(body.compressed_size, chosen)
            span.set_data("objectstore.key", stored_key)
            span.set_data("objectstore.compression", chosen)
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
        release the connection. The request is retried as described in `Client`; reading
        the payload is not.

        Raises:
            ObjectNotFound: The object does not exist or has expired (status 404, also a
                `RequestError`, as in 0.0.19). Use `get_or_none` to get `None` instead.
            UnsupportedCompression: The object uses an encoding other than zstd and
                `decompress` is true.
            InvalidArgument: The key breaks a rule.
            RequestError: Another error status.
            TransportError: The request failed on the network.
        """
        checked_key = _validation.check_key(key)
        accepted = _validation.check_accept_encoding(accept_encoding) or frozenset()
        path = self._path(checked_key)
        with self._measure("get", checked_key):
            response = self._transport.request("GET", path, self._headers(), stream=True)
        metadata = Metadata.from_headers(response.headers)
        # A wildcard accepts whatever is stored: decompressing it would be wasted work.
        passthrough = "*" in accepted or metadata.compression in accepted
        decompressing = bool(decompress) and metadata.compression is not None and not passthrough
        if decompressing:
            if metadata.compression != "zstd":
                response.close()
                response.release_conn()
                raise UnsupportedCompression(
                    f"GET {path}: cannot decompress {metadata.compression!r}; use decompress=False"
                )
            metadata.compression = None
        payload = Payload(
            response,
            decompress=decompressing,
            translate=lambda exc: translate_error(exc, "GET", path),
        )
        return GetResponse(metadata, cast(IO[bytes], payload))

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
        checked_key = _validation.check_key(key)
        path = self._path(checked_key)
        with self._measure("head", checked_key):
            response = self._transport.request("HEAD", path, self._headers())
        return Metadata.from_headers(response.headers)

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
        checked_key = _validation.check_key(key)
        path = self._path(checked_key)
        with self._measure("delete", checked_key):
            self._transport.request("DELETE", path, self._headers())

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
        checked_key = _validation.check_key(key)
        target = _validation.check_expiry_target(at, from_creation, from_now)
        body = BufferBody(_protocol.extend_expiry_body(target), "none")
        headers = self._headers() | {"Content-Type": "application/json"}
        path = self._path(checked_key)
        with self._measure("extend_expiry", checked_key):
            self._transport.request("PATCH", path, headers, body, idempotent=True)
