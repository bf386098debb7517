"""Large uploads over the resumable protocol (protocol §23), inside `Session.put`.

Inputs of known size (bytes-like, or seekable streams) at or above the usecase's
`resumable_threshold_bytes` (256 MiB by default, as in objectstore-client 0.2.x) open an
upload session and send their bytes in one write; after a dropped connection, a timeout,
a 409 or a transient status the loop asks the server for its offset and sends the rest
from there, with back-off, up to the client's `retries` times without progress. When it
gives up it cancels the session. A server that declines (501) gets a plain upload.

The session needs the stored (compressed) length up front. Instead of compressing the
whole input into a temporary file as 0.2.x does, `FramedSource` compresses it twice:
once to measure, in independent zstd frames of 8 MiB of input, and again while sending.
Any offset maps to one frame, so resuming recompresses only that frame, memory stays at
about two frames, and nothing touches the disk. A concatenation of frames is one valid
zstd stream (protocol §8).
"""

from __future__ import annotations

import bisect
import io
import logging
import time
import zlib
from datetime import UTC, datetime, timedelta
from typing import IO, Literal, cast

from objectstore_client import _retry
from objectstore_client._context import RequestContext
from objectstore_client._plans import resumable as plans
from objectstore_client._plans.objects import PutPlan, plan_head, read_head
from objectstore_client._plans.request import BodyPlan, RequestPlan
from objectstore_client._zstd import compress
from objectstore_client.errors import (
    IntegrityError,
    InvalidArgument,
    ProtocolError,
    RequestError,
    TransportError,
)

__all__ = ["FramedSource", "put"]

logger = logging.getLogger(__name__)

FRAME_INPUT = 8 * 1024 * 1024
"""Input bytes per zstd frame (and per read when sending uncompressed)."""

_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
_BUFFERS = (bytes, bytearray, memoryview)


class FramedSource(io.RawIOBase):
    """A seekable, read-only view of an upload as it is stored: compressed or not.

    The input is cut into `FRAME_INPUT` pieces; with compression each becomes one zstd
    frame, whose size the constructor measures by compressing it (uncompressed pieces
    need no such pass). Reading at any offset produces the piece that holds it (again);
    a piece that comes out otherwise (by CRC-32) than when it was first measured or sent
    means the input changed, which raises rather than store a corrupt object. The input's
    position is restored by `close`.
    """

    def __init__(
        self, source: bytes | bytearray | memoryview | IO[bytes], size: int, *, zstd: bool
    ) -> None:
        self._source = source
        self._start = 0 if isinstance(source, _BUFFERS) else source.tell()
        self._size = size
        self._zstd = zstd
        self._ends: list[int] = []  # where each piece ends in the stored bytes
        self._checksums: list[int | None] = []  # CRC-32 of each piece, once produced
        stored = 0
        for offset in range(0, size, FRAME_INPUT):
            if zstd:
                piece = self._piece(len(self._ends))
                stored += len(piece)
                self._checksums.append(zlib.crc32(piece))
            else:
                stored += min(FRAME_INPUT, size - offset)
                self._checksums.append(None)
            self._ends.append(stored)
        self.length = stored
        """The stored length: what the server is told to expect."""
        self._position = 0
        self._cached: tuple[int, bytes | memoryview] | None = None
        super().__init__()

    def _read_input(self, index: int) -> bytes | memoryview:
        offset = index * FRAME_INPUT
        length = min(FRAME_INPUT, self._size - offset)
        if isinstance(self._source, _BUFFERS):
            return memoryview(self._source).cast("B")[offset : offset + length]
        stream = self._source
        stream.seek(self._start + offset)
        data = bytearray()
        while len(data) < length:
            chunk = stream.read(length - len(data))
            if not chunk:
                break
            data += chunk
        return memoryview(data)

    def _piece(self, index: int) -> bytes | memoryview:
        data = self._read_input(index)
        return compress(data, len(data)) if self._zstd else data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.length}[whence]
        self._position = max(0, base + offset)
        # Produce (and check) the piece again: a bytes-like input may have changed since.
        self._cached = None
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        if self._position >= self.length or not target:
            return 0
        index = bisect.bisect_right(self._ends, self._position)
        if self._cached is None or self._cached[0] != index:
            piece = self._piece(index)
            checksum, expected = zlib.crc32(piece), self._checksums[index]
            start = self._ends[index - 1] if index else 0
            if expected is None and len(piece) == self._ends[index] - start:
                self._checksums[index] = checksum
            elif checksum != expected:
                raise InvalidArgument("contents", "changed while it was being uploaded")
            self._cached = (index, piece)
        piece = self._cached[1]
        start = self._ends[index - 1] if index else 0
        within = self._position - start
        count = min(len(target), len(piece) - within)
        target[:count] = piece[within : within + count]
        self._position += count
        return count

    def close(self) -> None:
        if not self.closed and not isinstance(self._source, _BUFFERS):
            self._source.seek(self._start)
        self._cached = None
        super().close()


def source_size(contents: object) -> int | None:
    """The bytes an upload would read: a buffer's length, a seekable stream's remainder."""
    if isinstance(contents, _BUFFERS):
        return memoryview(contents).nbytes
    stream = cast(IO[bytes], contents)
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return end - start if isinstance(end, int) and end >= start else None


def put(context: RequestContext, plan: PutPlan, threshold: int | Literal["none"]) -> str | None:
    """Uploads a planned put resumably if it qualifies; `None` if it should go plainly.

    It qualifies when its size is known and at least `threshold`, and the server opens a
    session (a 501, or an old server that ignores the request, means it does not).

    Raises:
        RequestError: The server refused the upload.
        TransportError: The upload failed on the network more often than retries allow.
    """
    request, body = plan.request, plan.request.body
    size = None if body is None or threshold == "none" else source_size(body.contents)
    if body is None or size is None or size == 0 or isinstance(threshold, str) or size < threshold:
        return None
    with FramedSource(body.contents, size, zstd=body.compression == "zstd") as source:
        # Objects stamp their creation in whole seconds (protocol §5.5): a second of margin.
        opened = datetime.now(UTC) - timedelta(seconds=1)
        created = _create(context, request, source.length)
        if created is None:
            return None
        with context.measure("put", created.key) as (span, emitter):
            key = _send(context, created, source, opened)
            if plan.precompressed:
                emitter.record_compressed_size(size, plan.compression)
            else:
                emitter.record_uncompressed_size(size)
                if body.compression == "zstd":
                    emitter.record_compressed_size(source.length, plan.compression)
            span.set_data("objectstore.key", key)
            span.set_data("objectstore.compression", plan.compression)
            return key


def _create(context: RequestContext, request: RequestPlan, length: int) -> plans.Created | None:
    create = plans.plan_create(request, length)
    path = context.target(create)
    with context.measure(create.operation, create.key):
        try:
            response, _ = context.send(create, path)
        except RequestError as exc:
            if exc.status == 501:
                return None
            raise
        created = plans.read_create(response, path)
    key = created.key if isinstance(created, plans.Created) else created
    if request.key is not None and key != request.key:
        # A corrupted answer: the session would store the object under another key.
        raise IntegrityError(f"{path}: the answer names key {key[:200]!r}")
    if isinstance(created, str):
        # An older server stored an empty object instead; the plain upload that follows
        # replaces it, or (server-chosen key) it is deleted here.
        logger.info("%s: the server has no resumable uploads; uploading plainly", path)
        if request.method == "POST":
            context.send(RequestPlan("delete", "DELETE", created))
        return None
    return created


def _send(
    context: RequestContext, created: plans.Created, source: FramedSource, opened: datetime
) -> str:
    offset, failures, probe = 0, 0, False
    # Whether the probe under way follows a write refused with a 409: if it shows no
    # progress either, that write moved nothing.
    conflicted = False
    # Whether a write carrying the last byte went out: its answer may be what was lost.
    sent_last_byte = False
    while True:
        try:
            if probe:
                plan = plans.plan_probe(created.key, created.session)
            else:
                source.seek(offset)
                plan = plans.plan_write(
                    created.key, created.session, offset, BodyPlan(cast(IO[bytes], source), "none")
                )
            sent_last_byte = sent_last_byte or not probe
            with context.measure(plan.operation, created.key):
                path = context.target(plan)
                response, _ = context.send(plan, path)
                result = plans.read_progress(response, path)
        except (RequestError, TransportError) as exc:
            status = exc.status if isinstance(exc, RequestError) else None
            if status == 404 and sent_last_byte and _published(context, created, source, opened):
                # The session completed and is gone (protocol §23.5): the answer of the
                # write that published the object was lost on the way back.
                return created.key
            if status == 409 and not probe:
                # The server holds other bytes than assumed: ask where.
                probe = conflicted = True
                continue
            if status is not None and status not in _TRANSIENT:
                _cancel(context, created, status)
                raise
            failures += 1
            if failures > context.transport.max_replays:
                _cancel(context, created, status)
                raise
            time.sleep(_retry.backoff_delay(failures - 1, None))
            probe = True
            continue
        except BaseException:
            # The input failed (it changed, or could not be read) or an interrupt came:
            # the session is given up, so it must not stay open with the bytes it holds.
            _cancel(context, created, None)
            raise
        if isinstance(result, plans.Complete):
            if result.key != created.key:
                raise IntegrityError(f"{path}: the answer names key {result.key[:200]!r}")
            return result.key
        if not 0 <= result.offset <= source.length:
            _cancel(context, created, None)
            raise InvalidArgument("contents", f"the server reported offset {result.offset}")
        if result.offset > offset:
            failures = 0
        elif not probe or conflicted:
            failures += 1  # a write that moved nothing
            if failures > context.transport.max_replays:
                _cancel(context, created, None)
                raise ProtocolError(f"{path}: the upload made no progress at offset {offset}")
        offset, probe, conflicted = result.offset, False, False


def _published(
    context: RequestContext, created: plans.Created, source: FramedSource, opened: datetime
) -> bool:
    """Whether this session's object is stored: the key, created since, with its size.

    Only asked when the session is gone after the last byte was sent. An object written
    under the same key by someone else in the meantime with the very same stored size
    cannot be told apart; the server offers nothing better (no session id on objects).
    """
    try:
        response, _ = context.send(plan_head(created.key))
    except (RequestError, TransportError):
        return False
    metadata = read_head(response)
    return (
        metadata.size == source.length
        and metadata.time_created is not None
        and metadata.time_created >= opened
    )


def _cancel(context: RequestContext, created: plans.Created, status: int | None) -> None:
    if status in (404, 410):
        return  # the session is gone already
    try:
        context.send(plans.plan_cancel(created.key, created.session))
    except Exception:
        logger.warning("could not cancel upload session for %s", created.key, exc_info=True)
