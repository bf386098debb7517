"""zstd codecs in one place: compression and decompression contexts, decoding streams.

Every zstd frame this SDK writes carries a checksum. Contexts are expensive to create and
not thread-safe, so one-shot calls on small data reuse a per-thread context, and streams
keep their own.
"""

from __future__ import annotations

import io
import threading
from typing import IO, cast

import zstandard

from objectstore_client._zstd_frames import FrameScanner, check_complete

# Bytes requested from the source per read when streaming.
CHUNK_SIZE = 64 * 1024

# Bodies up to this size are compressed with the thread's reused context. Allocating a
# context costs 8-20 µs, a fifth of a small upload; above this size it costs under 5%,
# and a context kept after a larger body would hold its multi-megabyte workspace for
# the life of the thread (under 1 MiB at this size).
_REUSE_LIMIT = 64 * 1024


def compressor() -> zstandard.ZstdCompressor:
    # The frame checksum lets every reader detect corruption; it costs 4 bytes.
    return zstandard.ZstdCompressor(write_checksum=True)


class _ThreadCompressor(threading.local):
    """One compression context per thread, for one-shot `compress` calls only.

    zstd contexts are not thread-safe; streaming compressors keep theirs between calls,
    so they get their own.
    """

    def __init__(self) -> None:
        self.context = compressor()
        self.any_size = False


_thread_compressor = _ThreadCompressor()


def reuse_context_for_any_size() -> None:
    """Lets this thread's one-shot `compress` calls reuse its context at every size.

    For short-lived worker threads (a `Session.many` pool): the context's workspace, a
    few MiB after a large body, is freed when the thread ends, and allocating (and
    page-faulting) a fresh one per large body costs 5-10 % of its compression.
    """
    _thread_compressor.any_size = True


def _context_for(size: int) -> zstandard.ZstdCompressor:
    local = _thread_compressor
    return local.context if size <= _REUSE_LIMIT or local.any_size else compressor()


def compress(data: bytes | memoryview, size: int) -> bytes:
    """Compresses `size` bytes of `data` into one frame that records its content size."""
    return _context_for(size).compress(data)


def compress_into(data: memoryview, out: memoryview) -> int:
    """Compresses `data` into one frame (content size, checksum) at the start of `out`.

    For buffers reused frame after frame: a new output per frame, as `compress` returns,
    costs its page faults every time (a 1 MiB frame compressed into a reused buffer takes
    about half the CPU). Returns the frame's size.

    Raises:
        ValueError: `out` is smaller than `compress_bound(len(data))`.
    """
    size = data.nbytes
    if out.nbytes < compress_bound(size):
        raise ValueError(f"an output of {out.nbytes} bytes may not hold {size} compressed")
    if not size:
        # zstandard 0.25's reader never returns from `readinto` over an empty source.
        frame = compress(data, 0)
        out[: len(frame)] = frame
        return len(frame)
    reader = _context_for(size).stream_reader(data, size=size)
    written = 0
    # `out` always has room left (the bound exceeds any frame), so a read of 0 bytes is
    # the end of the frame, not a full buffer.
    while count := reader.readinto(out[written:]):
        written += count
    return written


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


class _ScannedSource:
    """Reads from a source and passes every byte read through a `FrameScanner`."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.scanner = FrameScanner()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.scanner.feed(data)
        return data


# Compressed bytes a stream reads from its source at a time. Each read costs 15-20 µs
# in urllib3 and here whatever its size: 1 MiB reads took 8% less CPU than 256 KiB ones
# for a 64 MiB download, for 1 MiB held while a payload is open.
STREAM_READ_SIZE = 1024 * 1024


class ZstdStream:
    """Decodes a zstd stream across frames.

    Raises if the input ends inside a frame, or holds no frame at all: an empty body is
    not a zstd payload (even an empty object compresses to a frame of 9 bytes or more).
    """

    def __init__(
        self, source: IO[bytes], context: zstandard.ZstdDecompressor | None = None
    ) -> None:
        self._source = _ScannedSource(source)
        self._reader = (context or zstandard.ZstdDecompressor()).stream_reader(
            cast(IO[bytes], self._source),
            read_size=STREAM_READ_SIZE,
            read_across_frames=True,
            closefd=False,
        )

    def read(self, size: int) -> bytes:
        """Returns `size` decoded bytes, fewer only at the end; b"" at the end.

        Raises:
            zstandard.ZstdError: the data is corrupt, empty or ends inside a frame.
        """
        data = self._reader.read(size)
        if not data:
            check_complete(self._source.scanner)
        return data

    def readinto(self, buffer: bytearray) -> int:
        """Decodes into `buffer`, filling it but at the end; 0 at the end. Raises as `read`."""
        count: int = self._reader.readinto(buffer)
        if not count:
            check_complete(self._source.scanner)
        return count


def _decompress_stream(data: bytes, context: zstandard.ZstdDecompressor) -> bytes:
    reader = ZstdStream(cast(IO[bytes], io.BytesIO(data)), context)
    parts = []
    while chunk := reader.read(CHUNK_SIZE):
        parts.append(chunk)
    return b"".join(parts)


def decompress_all(data: bytes) -> bytes:
    """Decodes a whole zstd payload held in memory: every frame, concatenated.

    A single frame that declares its content size is decoded in one call, which is two
    to five times faster than a stream; anything else (several frames, an unknown size)
    is streamed, with the thread's context unless a frame needs a window above 2 MiB.

    Raises:
        zstandard.ZstdError: `data` is not valid zstd data, is empty, or ends inside a
            frame.
    """
    if not data:
        raise zstandard.ZstdError("the payload is empty: it holds no zstd frame")
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


def first_frame_size(head: bytes) -> int:
    """The content size the first frame of `head` declares; 0 if unknown or not a frame."""
    try:
        size = zstandard.frame_content_size(head)
    except zstandard.ZstdError:
        return 0
    return max(size, 0)


def compress_bound(size: int) -> int:
    """The most bytes zstd can produce for `size` input bytes in one frame.

    zstd's `ZSTD_COMPRESSBOUND` (incompressible data grows by about 1/256), plus room for
    the frame header and checksum, so that a size decided before compressing is never
    exceeded after.
    """
    small_input_margin = ((128 * 1024 - size) >> 11) if size < 128 * 1024 else 0
    return size + (size >> 8) + small_input_margin + 32
