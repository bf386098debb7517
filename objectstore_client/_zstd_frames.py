"""zstd's frame format (RFC 8878), read without decoding: magic numbers, frame headers.

`FrameScanner` follows frame and block boundaries over a stream cut anywhere, to tell a
complete payload from a truncated one and to learn what the frame headers declare
(how many frames, their content sizes) before or while the decoder runs.
"""

from __future__ import annotations

import zstandard

# Frame magic numbers (RFC 8878 §3.1): a zstd frame, or a skippable frame 0x184D2A5?.
_ZSTD_MAGIC_INT = 0xFD2FB528
_SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0
_SKIPPABLE_MAGIC = 0x184D2A50


def starts_with_frame(head: bytes) -> bool:
    """Whether `head` (the first 4 bytes of some data) is a zstd or skippable frame magic."""
    if len(head) < 4:
        return False
    value = int.from_bytes(head[:4], "little")
    return value == _ZSTD_MAGIC_INT or value & _SKIPPABLE_MAGIC_MASK == _SKIPPABLE_MAGIC


# What the scanner expects next: a frame magic, a frame header, or a block header.
_AT_MAGIC, _AT_FRAME_HEADER, _AT_BLOCK = 0, 1, 2


class FrameScanner:
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


def check_complete(scanner: FrameScanner) -> None:
    """Raises `zstandard.ZstdError` unless the scanned stream was whole and not empty."""
    if not scanner.fed:
        raise zstandard.ZstdError("the payload is empty: it holds no zstd frame")
    scanner.finish()


def declared_sizes(pieces: list[bytes]) -> FrameScanner:
    """Walks the frame headers of `pieces` (one stream, cut anywhere).

    Returns the scanner: `frames` started, and the content sizes they `declared` (`None`
    if one declares none). Raises `zstandard.ZstdError` for data that is not zstd.
    """
    scanner = FrameScanner()
    for piece in pieces:
        scanner.feed(piece)
    return scanner


def is_whole_frames(data: bytes | bytearray | memoryview) -> bool:
    """Whether `data` is one or more complete zstd frames, judged by their headers.

    Block contents are not decoded: this tells data that was compressed (and not cut)
    from other data, quickly; it does not prove the frames decode.
    """
    if not starts_with_frame(bytes(data[:4])):
        return False
    scanner = FrameScanner()
    try:
        scanner.feed(data if isinstance(data, bytes) else memoryview(data).cast("B"))
        scanner.finish()
    except zstandard.ZstdError:
        return False
    return True
