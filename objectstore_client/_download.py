"""The streaming payload of a download."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, cast

import urllib3
import zstandard

from objectstore_client.errors import DecodeError, ObjectstoreError

logger = logging.getLogger(__name__)

# Bytes requested from the network per read when buffering for peek()/readline().
_CHUNK_SIZE = 64 * 1024

Translate = Callable[[Exception], ObjectstoreError]


def _has_strict_decompress() -> bool:
    # `allow_extra_data` is recent; without it `decompress` silently drops every frame
    # after the first, so the one-shot path must not be used.
    try:
        zstandard.ZstdDecompressor().decompress(
            zstandard.ZstdCompressor().compress(b"x"), allow_extra_data=False
        )
    except TypeError:
        return False
    return True


_STRICT_DECOMPRESS = _has_strict_decompress()


# The largest window the thread's context decodes. A context keeps the window buffer of
# the largest frame it streamed for as long as it lives; 2 MiB is zstd's window at its
# default level, which every Objectstore client uses, so each thread keeps at most 2.5 MiB.
_THREAD_MAX_WINDOW = 2 * 1024 * 1024


class _ThreadDecompressor(threading.local):
    """One decompression context per thread, for decoding data held in memory only.

    zstd contexts are not thread-safe, and creating one costs about as much as decoding a
    small object; a new context streaming a large frame also allocates (and page-faults)
    its whole window, which tripled the CPU time of a 1 MiB download. Payload streams keep
    their context between reads, so they never use this one: a payload read partly on
    this thread would be corrupted by the next use.
    """

    def __init__(self) -> None:
        self.context = zstandard.ZstdDecompressor(max_window_size=_THREAD_MAX_WINDOW)


_thread_decompressor = _ThreadDecompressor()


_ZSTD_MAGIC = 0xFD2FB528
_SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0
_SKIPPABLE_MAGIC = 0x184D2A50


class _FrameScanner:
    """Follows the frame and block boundaries of a zstd stream without decoding it.

    zstd's stream reader returns b"" when its input ends inside a frame, exactly as at a
    frame's end, so a truncated download would look complete. This scanner walks the
    headers (RFC 8878 §3.1) of the same bytes, skipping block contents, so `finish()` can
    tell whether the input stopped between frames. Decoding errors inside blocks are the
    decoder's to report; this only checks where the input ends.
    """

    def __init__(self) -> None:
        self._pending = bytearray()  # bytes of a header not yet complete
        self._skip = 0  # content bytes to pass over before the next header
        # What the next header is: "magic", "frame", "skip_size", "block" or "checksum".
        self._state = "magic"
        self._checksum = False

    def _need(self) -> int:
        """The size of the header expected next, or 0 if it is not yet known."""
        if self._state in ("magic", "skip_size", "checksum"):
            return 4
        if self._state == "block":
            return 3
        # "frame": the descriptor byte says how long the rest of the frame header is.
        if not self._pending:
            return 1
        descriptor = self._pending[0]
        single_segment = (descriptor >> 5) & 1
        content_size = (0 if not single_segment else 1, 2, 4, 8)[descriptor >> 6]
        return 1 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3] + content_size

    def feed(self, data: bytes) -> None:
        """Advances over `data`, the next bytes of the stream."""
        view = memoryview(data)
        while view:
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            need = self._need()
            step = min(need - len(self._pending), len(view))
            self._pending += view[:step]
            view = view[step:]
            if len(self._pending) == need:
                self._header_complete()

    def _header_complete(self) -> None:
        header = bytes(self._pending)
        # Only the frame descriptor so far: the rest of the header's length depends on it.
        if self._state == "frame" and len(header) == 1 and self._need() > 1:
            return
        self._pending.clear()
        value = int.from_bytes(header, "little")
        if self._state == "magic":
            if value == _ZSTD_MAGIC:
                self._state = "frame"
            elif value & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC:
                self._state = "skip_size"
            else:
                raise zstandard.ZstdError("unknown frame magic number")
        elif self._state == "skip_size":
            self._skip = value
            self._state = "magic"
        elif self._state == "frame":
            self._checksum = bool((header[0] >> 2) & 1)
            self._state = "block"
        elif self._state == "block":
            block_type = (value >> 1) & 3
            self._skip = 1 if block_type == 1 else value >> 3
            if value & 1:  # the last block of the frame
                self._state = "checksum" if self._checksum else "magic"
        else:  # "checksum"
            self._state = "magic"

    def finish(self) -> None:
        """Checks that the stream ended between frames.

        Raises:
            zstandard.ZstdError: the input ended inside a frame.
        """
        if self._state != "magic" or self._pending or self._skip:
            raise zstandard.ZstdError("the input ends inside an unfinished zstd frame")


class _ScannedSource:
    """Reads from a source and passes every byte read through a `_FrameScanner`."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.scanner = _FrameScanner()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.scanner.feed(data)
        return data


class _ZstdStream:
    """Decodes a zstd stream across frames; raises if the input ends inside a frame."""

    def __init__(
        self, source: IO[bytes], context: zstandard.ZstdDecompressor | None = None
    ) -> None:
        self._source = _ScannedSource(source)
        self._reader = (context or zstandard.ZstdDecompressor()).stream_reader(
            cast(IO[bytes], self._source),
            read_size=_CHUNK_SIZE,
            read_across_frames=True,
            closefd=False,
        )

    def read(self, size: int) -> bytes:
        """Returns up to `size` decoded bytes, b"" at the end of a complete stream.

        Raises:
            zstandard.ZstdError: the data is corrupt or ends inside a frame.
        """
        data = self._reader.read(size)
        if not data:
            self._source.scanner.finish()
        return data


def _decompress_stream(data: bytes, context: zstandard.ZstdDecompressor) -> bytes:
    reader = _ZstdStream(cast(IO[bytes], io.BytesIO(data)), context)
    parts = []
    while chunk := reader.read(_CHUNK_SIZE):
        parts.append(chunk)
    return b"".join(parts)


def decompress_all(data: bytes) -> bytes:
    """Decodes a whole zstd payload held in memory: every frame, concatenated.

    A single frame that declares its content size is decoded in one call, which is two
    to five times faster than a stream; anything else (several frames, an unknown size)
    is streamed, with the thread's context unless a frame needs a window above 2 MiB.

    Raises:
        zstandard.ZstdError: `data` is not valid zstd data, or ends inside a frame.
    """
    if not data:
        return b""
    context = _thread_decompressor.context
    # Size 0 is excluded: `decompress` returns b"" for it without looking further, so an
    # empty first frame would hide the frames after it.
    if _STRICT_DECOMPRESS and zstandard.frame_content_size(data) > 0:
        try:
            return context.decompress(data, allow_extra_data=False)
        except zstandard.ZstdError:
            # More frames follow the first one, or the data is corrupt: the stream
            # below decodes the former and reports the latter.
            pass
    try:
        return _decompress_stream(data, context)
    except zstandard.ZstdError:
        # The window was too large for the thread's context (or the data is corrupt,
        # which a context of its own reports in turn).
        return _decompress_stream(data, zstandard.ZstdDecompressor())


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
        self._decompressor: _ZstdStream | None = None
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
                    self._decompressor = _ZstdStream(cast(IO[bytes], self._response))
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
            while chunk := self._next_chunk(_CHUNK_SIZE):
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
            self._buffer += self._next_chunk(size if size > 0 else _CHUNK_SIZE)
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
            self._buffer += self._next_chunk(max(size, _CHUNK_SIZE))
        return bytes(self._buffer)

    def iter_chunks(self, chunk_size: int = _CHUNK_SIZE) -> Iterator[bytes]:
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
