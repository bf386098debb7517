"""`FileParts`: a file cut into multipart parts, read (and compressed) into reused buffers.

A server may refuse any part but the last below `MIN_PART_SIZE` stored bytes (protocol
§11.2: GCS), and the stored bytes of a compressed part are its compressed bytes, which
only compressing can tell. So a compressed part is one zstd frame of as many file bytes
as it takes to produce `part_size` compressed bytes (all of the rest, for the last part),
and the parts are cut one after the other; an uncompressed part is `part_size` file bytes.
"""

from __future__ import annotations

import mmap

from objectstore_client._positional import read_into_at
from objectstore_client._zstd import compress_bound, compressor
from objectstore_client.errors import InvalidArgument

__all__ = ["FileParts"]

# File bytes read, and fed to the compressor, at a time.
_PIECE = 256 * 1024

# What a frame may still produce once its compressed bytes reached the target: the last
# piece, the block zstd holds back (at most 128 KiB) and the frame's end, each at worst.
_OVERSHOOT = compress_bound(_PIECE) + compress_bound(128 * 1024) + 64


class FileParts:
    """The parts of an open file, from its start, each filled into a buffer of `buffer()`.

    Not thread-safe: one thread fills the parts, in order (other threads may send the
    filled buffers meanwhile).
    """

    def __init__(self, descriptor: int, size: int, part_size: int, compressing: bool) -> None:
        self._descriptor = descriptor
        self._size = size
        self._part_size = part_size
        self._compressor = compressor() if compressing else None
        self._piece = memoryview(bytearray(_PIECE if compressing else 0))
        self.offset = 0
        """File bytes cut into parts so far."""

    @property
    def done(self) -> bool:
        """Whether every byte of the file is in a part."""
        return self.offset >= self._size

    def buffer(self) -> memoryview:
        """A new buffer for parts, of the largest size a part can have.

        Anonymous pages are only taken once written: a buffer never written beyond a part
        that compressed well does not occupy its whole size (a bytearray would zero, and so
        take, all of it).
        """
        capacity = self._part_size + (_OVERSHOOT if self._compressor is not None else 0)
        return memoryview(mmap.mmap(-1, capacity))

    def fill(self, buffer: memoryview) -> tuple[memoryview, int]:
        """The next part, in `buffer`: its bytes (a view of `buffer`) and the file bytes in it.

        Raises:
            InvalidArgument: The file ends early (it shrank during the upload).
        """
        start = self.offset
        available = self._size - start
        if self._compressor is None:
            length = min(self._part_size, available)
            view = buffer[:length]
            _read_exactly(self._descriptor, view, start)
            self.offset += length
            return view, length
        frame = self._compressor.compressobj()
        used = 0
        consumed = 0
        while consumed < available and used < self._part_size:
            piece = self._piece[: min(_PIECE, available - consumed)]
            _read_exactly(self._descriptor, piece, start + consumed)
            used = _append(buffer, used, frame.compress(piece))
            consumed += len(piece)
        used = _append(buffer, used, frame.flush())
        self.offset += consumed
        return buffer[:used], consumed


def _append(buffer: memoryview, used: int, data: bytes) -> int:
    end = used + len(data)
    buffer[used:end] = data
    return end


def _read_exactly(descriptor: int, view: memoryview, offset: int) -> None:
    """Fills `view` with the file's bytes from `offset`.

    Raises:
        InvalidArgument: The file ends before (it shrank during the upload).
    """
    filled = 0
    while filled < len(view):
        count = read_into_at(descriptor, view[filled:], offset + filled)
        if not count:
            raise InvalidArgument("path", "the file shrank during the upload")
        filled += count
