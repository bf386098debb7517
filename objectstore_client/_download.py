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

from objectstore_client._zstd import CHUNK_SIZE, ZstdStream, decompress_all
from objectstore_client.errors import DecodeError, ObjectstoreError
from objectstore_client.metadata import Metadata

logger = logging.getLogger(__name__)

Translate = Callable[[Exception], ObjectstoreError]


class Payload(io.BufferedIOBase):
    """A downloaded object's bytes, read from the network as they are consumed.

    A binary file object: `read()`, `read(n)`, `read1()`, `readinto()`, `peek()`,
    `readline()` and line iteration, plus `iter_chunks()`. zstd payloads are decompressed
    on the fly, across frames. The connection goes back to the pool when the payload is
    read to the end or closed; closing it early closes the connection instead, so unread
    bytes are never left on a pooled connection.

    A `read()` of everything before anything else was read takes the body in one piece
    and decodes it at once: the caller asked for all the bytes. Every other read streams,
    holding at most one chunk of the body at a time.

    Errors while reading raise `TransportError` (network) or `DecodeError` (corrupt data).
    """

    def __init__(
        self, response: urllib3.BaseHTTPResponse, *, decompress: bool, translate: Translate
    ) -> None:
        super().__init__()
        self._response = response
        self._translate = translate
        self._decompress = decompress
        # Created on the first streaming read: a whole read() does without it.
        self._decompressor: ZstdStream | None = None
        self._started = False
        self._buffer = bytearray()
        self._eof = False

    def readable(self) -> bool:
        """Always `True`."""
        return True

    def _next_chunk(self, size: int) -> bytes:
        """Reads up to `size` bytes from the source; `b""` only at the end."""
        if self._eof:
            return b""
        self._started = True
        with self._errors_translated():
            if self._decompress:
                if self._decompressor is None:
                    self._decompressor = ZstdStream(cast(IO[bytes], self._response))
                data = self._decompressor.read(size)
            else:
                data = self._response.read(size)
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
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self._release(reusable=False)
            raise self._translate(exc) from exc

    def read(self, size: int | None = -1) -> bytes:
        """Reads up to `size` bytes, fewer only at the end; everything if `size` < 0."""
        self._check_open()
        if size is None or size < 0:
            if not self._started:
                return self._read_whole()
            parts = [bytes(self._buffer)]
            self._buffer.clear()
            while chunk := self._next_chunk(CHUNK_SIZE):
                parts.append(chunk)
            return b"".join(parts)
        while len(self._buffer) < size and (chunk := self._next_chunk(size - len(self._buffer))):
            self._buffer += chunk
        return self._take(size)

    def _read_whole(self) -> bytes:
        """Reads and decodes the whole body at once; only before any other read."""
        self._started = True
        with self._errors_translated():
            data = self._response.read()
            if self._decompress:
                data = decompress_all(data)
        self._eof = True
        self._release(reusable=True)
        return data

    def read1(self, size: int = -1) -> bytes:
        """Reads up to `size` bytes with at most one read from the source."""
        self._check_open()
        if not self._buffer:
            self._buffer += self._next_chunk(size if size > 0 else CHUNK_SIZE)
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
        if not self._buffer:
            self._buffer += self._next_chunk(max(size, CHUNK_SIZE))
        return bytes(self._buffer)

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yields the payload in chunks of at most `chunk_size` bytes until the end."""
        while chunk := self.read1(chunk_size):
            yield chunk

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed payload")

    def _release(self, *, reusable: bool) -> None:
        response = self._response
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
            self._buffer.clear()
        super().close()


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
