"""zstd in one place: frame magic, compression and decompression contexts, frame scanning.

Every zstd frame this SDK writes carries a checksum. Contexts are expensive to create and
not thread-safe, so one-shot calls on small data reuse a per-thread context, and streams
keep their own.
"""

from __future__ import annotations

import io
import threading
from typing import IO, cast

import zstandard

# Bytes requested from the source per read when streaming.
CHUNK_SIZE = 64 * 1024

# Frame magic numbers (RFC 8878 §3.1): a zstd frame, or a skippable frame 0x184D2A5?.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_MAGIC_INT = 0xFD2FB528
_SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0
_SKIPPABLE_MAGIC = 0x184D2A50


def starts_with_frame(head: bytes) -> bool:
    """Whether `head` (the first 4 bytes of some data) is a zstd or skippable frame magic."""
    if len(head) < 4:
        return False
    value = int.from_bytes(head[:4], "little")
    return value == _ZSTD_MAGIC_INT or value & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC


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


def compress(data: bytes | memoryview, size: int) -> bytes:
    """Compresses `size` bytes of `data` into one frame that records its content size."""
    local = _thread_compressor
    context = local.context if size <= _REUSE_LIMIT or local.any_size else compressor()
    return context.compress(data)


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


# What the scanner expects next: a frame magic, a frame header, or a block header.
_AT_MAGIC, _AT_FRAME_HEADER, _AT_BLOCK = 0, 1, 2


class _FrameScanner:
    """Follows the frame and block boundaries of a zstd stream without decoding it.

    zstd's stream reader returns b"" when its input ends inside a frame, exactly as at a
    frame's end, so a truncated download would look complete. This scanner walks the
    headers (RFC 8878 §3.1) of the same bytes so `finish()` can tell whether the input
    stopped between frames. It looks at 3 bytes per block (a block decodes to up to
    128 KiB) and never at block contents, so it costs about a microsecond per block,
    and nothing is copied unless a header straddles two reads. Decoding errors inside
    blocks are the decoder's to report; this only checks where the input ends.
    """

    __slots__ = ("_checksum", "_pending", "_skip", "_state", "declared", "fed", "frames")

    def __init__(self) -> None:
        self._state = _AT_MAGIC
        self._skip = 0  # bytes to pass over (block contents, checksums) before a header
        self._pending = b""  # the start of a header that the last read cut off
        self._checksum = False  # the current frame ends with a 4-byte checksum
        self.fed = 0
        """How many bytes were fed so far."""
        self.frames = 0
        """How many zstd frames started so far (skippable frames not counted)."""
        self.declared: int | None = 0
        """The content sizes those frames declare, summed; `None` once one declares none."""

    def feed(self, data: bytes | memoryview) -> None:
        """Advances over `data`, the next bytes of the stream.

        Raises:
            zstandard.ZstdError: A frame starts with an unknown magic number.
        """
        self.fed += len(data)
        if self._pending:
            # Rare: only when a header straddles two reads.
            data = self._pending + data
            self._pending = b""
        size = len(data)
        pos = self._skip
        if pos >= size:
            self._skip = pos - size
            return
        state = self._state
        while True:
            if state == _AT_BLOCK:
                if pos + 3 > size:
                    break
                header = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
                # An RLE block (type 1) holds one byte; raw and compressed ones their size.
                pos += 3 + (1 if header & 6 == 2 else header >> 3)
                if header & 1:  # the frame's last block
                    state = _AT_MAGIC
                    if self._checksum:
                        pos += 4
            elif state == _AT_MAGIC:
                if pos + 4 > size:
                    break
                magic = int.from_bytes(data[pos : pos + 4], "little")
                if magic == _ZSTD_MAGIC_INT:
                    pos += 4
                    state = _AT_FRAME_HEADER
                elif magic & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC:
                    if pos + 8 > size:
                        break
                    pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "little")
                else:
                    raise zstandard.ZstdError("unknown frame magic number")
            else:
                if pos >= size:
                    break
                descriptor = data[pos]
                length = _frame_header_length(descriptor)
                if pos + length > size:
                    break
                self._checksum = bool(descriptor & 4)
                self.frames += 1
                if self.declared is not None:
                    self.declared = _add_content_size(self.declared, descriptor, data, pos + length)
                pos += length
                state = _AT_BLOCK
            if pos >= size:
                break
        self._state = state
        if pos >= size:
            self._skip = pos - size
        else:
            self._skip = 0
            self._pending = bytes(data[pos:])

    def finish(self) -> None:
        """Checks that the stream ended between frames.

        Raises:
            zstandard.ZstdError: the input ended inside a frame.
        """
        if self._state != _AT_MAGIC or self._pending or self._skip:
            raise zstandard.ZstdError("the input ends inside an unfinished zstd frame")


def _add_content_size(
    total: int, descriptor: int, data: bytes | memoryview, end: int
) -> int | None:
    """`total` plus the content size of the frame header ending at `end`; `None` if absent.

    The size field closes the header (RFC 8878 §3.1.1.1.4): 0, 1, 2, 4 or 8 bytes,
    little-endian, a 2-byte field counting from 256.
    """
    single_segment = (descriptor >> 5) & 1
    width = (single_segment, 2, 4, 8)[descriptor >> 6]
    if not width:
        return None
    value = int.from_bytes(data[end - width : end], "little")
    return total + value + (256 if width == 2 else 0)


def _frame_header_length(descriptor: int) -> int:
    """A frame header's length after its magic, from its descriptor (RFC 8878 §3.1.1.1)."""
    single_segment = (descriptor >> 5) & 1
    content_size = (single_segment, 2, 4, 8)[descriptor >> 6]
    dictionary_id = (0, 1, 2, 4)[descriptor & 3]
    return 1 + (1 - single_segment) + dictionary_id + content_size


class _ScannedSource:
    """Reads from a source and passes every byte read through a `_FrameScanner`."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.scanner = _FrameScanner()

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


def check_complete(scanner: _FrameScanner) -> None:
    """Raises `zstandard.ZstdError` unless the scanned stream was whole and not empty."""
    if not scanner.fed:
        raise zstandard.ZstdError("the payload is empty: it holds no zstd frame")
    scanner.finish()


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


def declared_sizes(pieces: list[bytes]) -> _FrameScanner:
    """Walks the frame headers of `pieces` (one stream, cut anywhere).

    Returns the scanner: `frames` started, and the content sizes they `declared` (`None`
    if one declares none). Raises `zstandard.ZstdError` for data that is not zstd.
    """
    scanner = _FrameScanner()
    for piece in pieces:
        scanner.feed(piece)
    return scanner


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


def is_whole_frames(data: bytes | bytearray | memoryview) -> bool:
    """Whether `data` is one or more complete zstd frames, judged by their headers.

    Block contents are not decoded: this tells data that was compressed (and not cut)
    from other data, quickly; it does not prove the frames decode.
    """
    if not starts_with_frame(bytes(data[:4])):
        return False
    scanner = _FrameScanner()
    try:
        scanner.feed(data if isinstance(data, bytes) else memoryview(data).cast("B"))
        scanner.finish()
    except zstandard.ZstdError:
        return False
    return True
