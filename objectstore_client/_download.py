"""The result of a download: `GetResponse`, and the streaming `Payload` of its bytes."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import IO, NamedTuple, Self, cast

import urllib3
import zstandard

from objectstore_client import _validation
from objectstore_client._resume import MAX_RESUMES, Reopen, StoredBytes
from objectstore_client._zstd import (
    CHUNK_SIZE,
    STREAM_READ_SIZE,
    ZstdStream,
    decompress_all,
    first_frame_size,
)
from objectstore_client._zstd_frames import declared_sizes
from objectstore_client.errors import DecodeError, ObjectstoreError
from objectstore_client.metadata import Metadata

__all__ = ["GetResponse", "Payload", "Reopen", "Translate"]

logger = logging.getLogger(__name__)

Translate = Callable[[Exception], ObjectstoreError]

# A whole read takes the stored bytes in pieces of this size: a piece lost to a broken
# connection is fetched again, and bodies up to this size are decoded in one call.
_WHOLE_PIECE = 8 * 1024 * 1024
# The most a whole read allocates up front from what a frame header declares.
_MAX_PREALLOCATION = 1 << 32


class Payload(io.BufferedIOBase):
    """A downloaded object's bytes, read from the network as they are consumed.

    A binary file object: `read()`, `read(n)`, `read1()`, `readinto()`, `peek()`,
    `readline()` and line iteration, plus `iter_chunks()`. zstd payloads are decompressed
    on the fly, across frames. The connection goes back to the pool when the payload is
    read to the end or closed; closing it early closes the connection instead, so unread
    bytes are never left on a pooled connection.

    A `read()` of everything before anything else was read decodes the body as it
    arrives into one result (a single allocation when the zstd frame declares its
    size). Every other read streams, holding at most a few MiB of the body.

    Verified bytes: a zstd payload must be whole frames (each frame's checksum is checked
    by the decoder) and not empty; the stored bytes must come to the size the answer
    announced (`x-sn-size`, or `content-length`). With `reopen`, a connection that
    breaks while the body is read is resumed with a `Range` request (see `_resume`),
    up to `MAX_RESUMES` times per download.

    Errors while reading raise `TransportError` (network; `ProtocolError` also for sizes
    that do not match and for an object that changed between a break and its
    resumption) or `DecodeError` (corrupt, empty or truncated zstd data).
    """

    def __init__(
        self,
        response: urllib3.BaseHTTPResponse,
        *,
        decompress: bool,
        translate: Translate,
        reopen: Reopen | None = None,
    ) -> None:
        super().__init__()
        self._body = StoredBytes(response, reopen, MAX_RESUMES)
        self._translate = translate
        self._decompress = decompress
        # Created on the first streaming read: a whole read() does without it.
        self._decompressor: ZstdStream | None = None
        self._started = False
        # Bytes read from the source and not yet returned: `_buffer[_offset:]`.
        self._buffer = b""
        self._offset = 0
        self._eof = False

    def readable(self) -> bool:
        """Always `True`."""
        return True

    def _next_chunk(self, size: int) -> bytes:
        """Reads up to `size` bytes from the source (`size` unless at the end)."""
        if self._eof:
            return b""
        self._started = True
        with self._errors_translated():
            if self._decompress:
                if self._decompressor is None:
                    self._decompressor = ZstdStream(cast(IO[bytes], self._body))
                data = self._decompressor.read(size)
            else:
                data = self._body.read(size)
        if not data:
            self._eof = True
            self._release(reusable=True)
        return data

    @contextmanager
    def _errors_translated(self) -> Iterator[None]:
        """Turns zstd and network errors into the SDK's; the connection is not reused."""
        try:
            yield
        except zstandard.ZstdError as exc:
            self._release(reusable=False)
            raise DecodeError(f"the payload is not valid zstd data: {exc}") from exc
        except ObjectstoreError:
            # First: the SDK's network errors are instances of urllib3's too.
            self._release(reusable=False)
            raise
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._release(reusable=False)
            raise self._translate(exc) from exc

    def read(self, size: int | None = -1) -> bytes:
        """Reads up to `size` bytes, fewer only at the end; everything if `size` < 0."""
        self._check_open()
        if size is None or size < 0:
            if not self._started:
                return self._read_whole()
            parts = [self._take(len(self._buffer))]
            while chunk := self._next_chunk(CHUNK_SIZE):
                parts.append(chunk)
            return b"".join(parts)
        buffered = len(self._buffer) - self._offset
        if buffered >= size:
            return self._take(size)
        if not buffered:
            # The usual case: the source returns exactly `size` bytes, handed on as they are.
            chunk = self._next_chunk(size)
            if len(chunk) == size or not chunk:
                return chunk
            self._buffer, self._offset = chunk, 0
            buffered = len(chunk)
        parts = [self._take(buffered)]
        while buffered < size and (chunk := self._next_chunk(size - buffered)):
            parts.append(chunk)
            buffered += len(chunk)
        return b"".join(parts)

    def _read_whole(self) -> bytes:
        """Reads and decodes the whole body; only before any other read."""
        self._started = True
        body = self._body
        with self._errors_translated():
            if not self._decompress:
                data = _read_pieces(body)
            elif body.expected is not None and body.expected <= _WHOLE_PIECE:
                # Small: one read, one call to decode (faster than a stream by far).
                data = decompress_all(_read_pieces(body))
            else:
                data = self._decode_whole()
        self._eof = True
        self._release(reusable=True)
        return data

    def _decode_whole(self) -> bytes:
        """Decodes a large or unsized zstd body into one result.

        Bodies up to `_WHOLE_PIECE` are read, then decoded in one call with the thread's
        context (a new stream context costs more than decoding a small body). Larger ones
        are decoded as they arrive, holding at most 8 MiB of stored bytes, into one buffer
        of the size the first frame declares; but when the first 8 MiB hold several frames
        that declare their sizes (uploads from 8 MiB are compressed in segments), the
        stored bytes are read first, so that the sizes of all frames are known and one
        buffer of their total is filled, instead of one per frame joined into another.
        """
        body = self._body
        head = _read_up_to(body, _WHOLE_PIECE)
        if len(head) < _WHOLE_PIECE:
            return decompress_all(head)
        first_size = min(first_frame_size(head), _MAX_PREALLOCATION) or STREAM_READ_SIZE
        sizes = declared_sizes([head])
        if sizes.frames > 1:
            pieces = [head, *_pieces_left(body)]
            for piece in pieces[1:]:
                sizes.feed(piece)
            total = sizes.declared
            # The reader owns the pieces and drops each once decoded.
            stream = ZstdStream(cast(IO[bytes], _PiecesReader(pieces)))
            del head, pieces
            if total and total <= _MAX_PREALLOCATION:
                data = stream.read(total)
                if stream.read(1):
                    raise DecodeError("the payload decodes to more than its frames declare")
                return data
            # A frame declares no size (or an implausible total): decoded as below.
        else:
            body.unread(head)
            del head
            stream = ZstdStream(cast(IO[bytes], body))
        # The first frame's declared size lets the decoder fill one buffer of that size.
        first = stream.read(first_size)
        parts = [first]
        while chunk := stream.read(max(len(first), STREAM_READ_SIZE)):
            parts.append(chunk)
        return first if len(parts) == 1 else b"".join(parts)

    def read1(self, size: int = -1) -> bytes:
        """Reads up to `size` bytes with at most one read from the source."""
        self._check_open()
        if self._offset >= len(self._buffer):
            self._buffer = self._next_chunk(size if size > 0 else CHUNK_SIZE)
            self._offset = 0
        return self._take(size if size >= 0 else len(self._buffer))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Reads into `buffer`; returns the number of bytes read, 0 at the end."""
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def peek(self, size: int = 0) -> bytes:
        """Returns buffered bytes without consuming them, reading once if none are buffered."""
        self._check_open()
        if self._offset >= len(self._buffer):
            self._buffer = self._next_chunk(max(size, CHUNK_SIZE))
            self._offset = 0
        return self._buffer[self._offset :] if self._offset else self._buffer

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yields the payload in chunks of at most `chunk_size` bytes until the end.

        Raises:
            InvalidArgument: `chunk_size` is below 1 (no chunk could hold a byte).
        """
        # 0 would end the iteration at once, as for an empty payload.
        _validation.check_size(chunk_size, "chunk_size")
        while chunk := self.read1(chunk_size):
            yield chunk

    def _take(self, size: int) -> bytes:
        """Removes and returns up to `size` buffered bytes (no copy if that is all of them)."""
        buffer, start = self._buffer, self._offset
        end = start + size
        if end >= len(buffer):
            self._buffer, self._offset = b"", 0
            return buffer[start:] if start else buffer
        self._offset = end
        return buffer[start:end]

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed payload")

    def _release(self, *, reusable: bool) -> None:
        response = self._body.response
        # `closed` turns true once the body was read to its end.
        if not reusable or not response.closed:
            # Unread bytes would corrupt the next request on this connection: drop it.
            response.close()
        response.release_conn()

    def close(self) -> None:
        """Closes the payload and gives its connection back to the pool (idempotent)."""
        if not self.closed:
            try:
                self._release(reusable=self._eof)
            except Exception:  # close() must not raise, it also runs from __del__
                logger.debug("error releasing a download connection", exc_info=True)
            self._buffer, self._offset = b"", 0
        super().close()


def _read_up_to(body: StoredBytes, size: int) -> bytes:
    """Up to `size` bytes of `body`, fewer only at its end."""
    parts = []
    have = 0
    # `at_end` spares the read that would only find the end.
    while have < size and (data := body.read(size - have)):
        parts.append(data)
        have += len(data)
        if body.at_end():
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _pieces_left(body: StoredBytes) -> list[bytes]:
    """Everything left in `body`, as the pieces of at most `_WHOLE_PIECE` bytes read."""
    size = _WHOLE_PIECE
    if body.expected is not None:
        # One piece for a body of known size up to the limit: no join, no copy.
        size = min(max(body.expected - body.received, 1), _WHOLE_PIECE)
    pieces = []
    while data := body.read(size):
        pieces.append(data)
        if body.at_end():
            break  # spares the read that would only find the end
    return pieces


class _PiecesReader:
    """Bytes already read, in pieces, as a file object: `read` hands them on uncopied."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces
        self._index = 0
        self._offset = 0

    def read(self, size: int = -1) -> bytes | memoryview:
        while self._index < len(self._pieces):
            piece = self._pieces[self._index]
            start = self._offset
            if start >= len(piece):
                self._pieces[self._index] = b""  # decoded: free it
                self._index, self._offset = self._index + 1, 0
                continue
            end = len(piece) if size < 0 else min(len(piece), start + size)
            self._offset = end
            return piece if start == 0 and end == len(piece) else memoryview(piece)[start:end]
        return b""


def _read_pieces(body: StoredBytes) -> bytes:
    """Everything left in `body`, in one `bytes` (the piece itself if there is one)."""
    pieces = _pieces_left(body)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


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
        """Yields the payload in chunks of at most `chunk_size` bytes, until the end.

        Raises:
            InvalidArgument: `chunk_size` is below 1 (no chunk could hold a byte).
        """
        # 0 would end the iteration at once, as for an empty payload.
        _validation.check_size(chunk_size, "chunk_size")
        while chunk := self.payload.read(chunk_size):
            yield chunk
