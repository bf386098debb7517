"""Upload bodies: compression, byte counting and rewinding for retries.

Bytes-like contents are compressed in memory (the caller already holds them in memory)
and sent with `Content-Length`; from 8 MiB they are compressed in segments on worker
threads while they are sent, chunked (`_segmented`). File objects are streamed through
`StreamBody`, which compresses on the fly, counts bytes in both directions and can start
over from the source's original position when the source is seekable. A seekable stream
sent as it is (no compression) goes with `Content-Length`; anything else with chunked
encoding.
"""

from __future__ import annotations

import io
from typing import IO

from objectstore_client._segmented import SEGMENTED_MIN, SegmentedBody
from objectstore_client._zstd import compress, compressor
from objectstore_client.errors import InvalidArgumentType
from objectstore_client.metadata import Compression

# How much is read from the caller's stream at a time.
_READ_SIZE = 64 * 1024


class SourceError(Exception):
    """Carries an exception raised by the caller's stream out of urllib3.

    urllib3 treats any `OSError` during the send as a broken connection; wrapping keeps
    it from being retried or reported as a network failure. The transport re-raises
    `original` unchanged.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class BufferBody:
    """A bytes-like upload: prepared once, sent (and re-sent) with `Content-Length`."""

    replayable = True
    content_length = None
    """urllib3 measures a buffer itself."""

    def __init__(self, contents: bytes | bytearray | memoryview, compression: Compression):
        view = memoryview(contents)
        data: bytes | memoryview = contents if isinstance(contents, bytes) else flat(view)
        self.uncompressed_size = view.nbytes
        self._wire = compress(data, view.nbytes) if compression == "zstd" else data
        self.compressed_size = len(self._wire) if compression == "zstd" else None

    def open(self) -> bytes | memoryview:
        """Returns the bytes to send; the same object on every attempt."""
        return self._wire


def flat(view: memoryview) -> bytes | memoryview:
    """The bytes of `view` as one flat view of bytes (no copy), or a copy if impossible."""
    try:
        return view.cast("B")
    except TypeError:
        # Non-contiguous or multi-dimensional views cannot be cast; copy them.
        return view.tobytes()


class StreamBody:
    """A file-object upload, read in chunks while it is sent.

    urllib3 reads it through `read()`, records `tell()` before sending and calls
    `seek(0)` to retry. Rewinding works before anything was read, and at any time if the
    source was seekable when the upload started (it is sought back to that position and
    compression starts afresh). The source's `tell()` is only consulted at the start.
    """

    def __init__(self, source: IO[bytes], compression: Compression) -> None:
        self._source = source
        self._compression = compression
        self._start = _start_position(source)
        self.replayable = self._start is not None
        self.content_length: int | None = None
        """The bytes to send, when known in advance: a seekable source sent unchanged."""
        if self._start is not None and compression == "none":
            self.content_length = _remaining(source, self._start)
        self._reset()

    def _reset(self) -> None:
        self._compressobj = compressor().compressobj() if self._compression == "zstd" else None
        self._pending = bytearray()
        self._eof = False
        self.uncompressed_size = 0
        self._produced = 0

    @property
    def compressed_size(self) -> int | None:
        """Bytes produced for the wire, if compressing; `None` otherwise."""
        return self._produced if self._compressobj is not None else None

    def open(self) -> StreamBody:
        """Returns this body positioned at its start, ready for an attempt."""
        self.seek(0)
        return self

    def readable(self) -> bool:
        """Always `True`."""
        return True

    def tell(self) -> int:
        """Bytes produced so far in this attempt (not the source's position)."""
        return self._produced

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewinds to the start; other positions are not supported.

        Raises:
            OSError: The body cannot be rewound (a non-seekable source already read from).
        """
        if offset != 0 or whence != io.SEEK_SET:
            raise OSError("an upload body can only be rewound to its start")
        if self._produced == 0 and self.uncompressed_size == 0:
            return 0
        if self._start is None:
            raise OSError("cannot rewind an upload from a non-seekable stream")
        try:
            self._source.seek(self._start)
        except Exception as exc:
            raise SourceError(exc) from exc
        self._reset()
        return 0

    def read(self, size: int = -1) -> bytes:
        """Returns up to `size` bytes of the (compressed) body; `b""` at the end.

        With a `content_length`, exactly that many bytes are produced: a source that grew
        is cut there, one that shrank raises (wrapped in `SourceError`) rather than leave
        the server waiting for the bytes announced.
        """
        limit = self.content_length
        if limit is not None:
            remaining = limit - self._produced
            size = remaining if size < 0 else min(size, remaining)
            if size == 0:
                return b""
        while not self._eof and (size < 0 or len(self._pending) < size):
            self._pull()
        if limit is not None and len(self._pending) < size:
            raise SourceError(
                OSError(
                    f"the upload stream ended after {self._produced + len(self._pending)}"
                    f" of the {limit} bytes it held when the upload started"
                )
            )
        if size < 0 or size >= len(self._pending):
            chunk = bytes(self._pending)
            self._pending.clear()
        else:
            chunk = bytes(self._pending[:size])
            del self._pending[:size]
        self._produced += len(chunk)
        return chunk

    def _pull(self) -> None:
        try:
            data = self._source.read(_READ_SIZE)
        except Exception as exc:
            raise SourceError(exc) from exc
        if data is None:
            # A non-blocking stream without data: ending here would store a truncated object.
            raise SourceError(BlockingIOError("the upload stream returned no data (non-blocking)"))
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SourceError(
                InvalidArgumentType(
                    "contents", f"read() must return bytes, got {type(data).__name__}"
                )
            )
        self.uncompressed_size += len(data)
        if self._compressobj is None:
            self._pending += data
            self._eof = not data
        elif data:
            self._pending += self._compressobj.compress(data)
        else:
            self._pending += self._compressobj.flush()
            self._eof = True


def _remaining(source: IO[bytes], start: int) -> int | None:
    """The bytes from `start` to the end of a seekable source, or `None` if unknown."""
    try:
        end = source.seek(0, io.SEEK_END)
        source.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    if not isinstance(end, int) or end < start:
        return None
    return end - start


def _start_position(source: IO[bytes]) -> int | None:
    try:
        return source.tell() if source.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


UploadBody = BufferBody | SegmentedBody | StreamBody


def prepare_body(
    contents: bytes | bytearray | memoryview | IO[bytes], compression: Compression
) -> UploadBody:
    """Wraps validated upload contents for sending."""
    if isinstance(contents, bytes | bytearray | memoryview):
        view = memoryview(contents)
        if compression == "zstd" and view.nbytes >= SEGMENTED_MIN:
            return SegmentedBody(memoryview(flat(view)))
        return BufferBody(contents, compression)
    return StreamBody(contents, compression)
