"""`FileParts`: a file cut into multipart parts, read (and compressed) into reused buffers.

A server may refuse any part but the last below `MIN_PART_SIZE` stored bytes (protocol
§11.2: GCS), and the stored bytes of a compressed part are its compressed bytes, which
only compressing can tell. So when compressing, the file is compressed in frames of
`FRAME_SIZE` file bytes, `workers` frames at a time on threads of its own (zstandard
releases the GIL), and a part is the frames that follow each other, in file order, until
they hold `part_size` compressed bytes (all that are left, for the last part). Each part
is whole zstd frames: the server joins the parts as they are (protocol §11.4) and every
reader decodes across frames (§8). An uncompressed part is `part_size` file bytes.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from objectstore_client._positional import read_into_at
from objectstore_client._zstd import compress_bound, compress_into, reuse_context_for_any_size
from objectstore_client.errors import InvalidArgument

__all__ = ["FRAME_SIZE", "FileParts"]

FRAME_SIZE = 512 * 1024
"""File bytes per zstd frame of a compressed upload. Each frame starts without history,
so smaller frames compress a little worse: stored sizes against one frame for the whole
file, at zstd's default level (bench/README.md): Python sources +3.8 % (+2.0 % with 1 MiB
frames), libpython +2.4 % (+1.4 %), log lines none. Per compressing thread a frame needs a
read buffer, an output slot and a zstd context with a window of the frame's size; with
1 MiB frames the default upload's peak memory rose above 0.2.10's (48 MiB against 47),
with 512 KiB it is 44."""


class _ReadBuffer(threading.local):
    def __init__(self) -> None:
        self.view = memoryview(bytearray(FRAME_SIZE))


_read_buffer = _ReadBuffer()


def _compress_frame(
    descriptor: int, offset: int, length: int, slot: memoryview
) -> tuple[memoryview, int]:
    """`length` file bytes from `offset` as one zstd frame in `slot`: the frame and `length`."""
    view = _read_buffer.view[:length]
    _read_exactly(descriptor, view, offset)
    return slot[: compress_into(view, slot)], length


class FileParts:
    """The parts of an open file, from its start, each filled into a buffer of `buffer()`.

    When compressing, up to `workers + 1` frames are compressed ahead of the part being
    filled, on `workers` threads (at most one per CPU the process may use) that `close()`
    stops, waiting for the frames being compressed: none reads the file after that.

    Not thread-safe: one thread fills the parts, in order (other threads may send the
    filled buffers meanwhile).
    """

    def __init__(
        self, descriptor: int, size: int, part_size: int, compressing: bool, workers: int
    ) -> None:
        self._descriptor = descriptor
        self._size = size
        self._part_size = part_size
        self._compressing = compressing
        self._frames: deque[Future[tuple[memoryview, int]]] = deque()
        self._next_frame = 0
        self._pool: ThreadPoolExecutor | None = None
        self._slots: list[memoryview] = []
        if compressing:
            # More threads than the process may run at once would only hold more memory.
            workers = max(1, min(workers, _usable_cpus()))
            # The threads end with the upload, so their contexts' workspaces go with them.
            self._pool = ThreadPoolExecutor(
                workers, "objectstore-zstd", initializer=reuse_context_for_any_size
            )
            # Frame n is compressed into slot n % len(slots), once frame n - len(slots)
            # was copied out of it.
            try:
                bound = compress_bound(FRAME_SIZE)
                self._slots = [memoryview(mmap.mmap(-1, bound)) for _ in range(workers + 1)]
                for _ in self._slots:
                    self._submit_frame()
            except BaseException:
                self.close()
                raise
        self.offset = 0
        """File bytes cut into parts so far."""

    def close(self) -> None:
        """Drops the frames not yet compressed and waits for those being compressed."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._frames.clear()

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
        # A compressed part is cut after the frame that brings it to `part_size`.
        capacity = self._part_size + (compress_bound(FRAME_SIZE) if self._compressing else 0)
        return memoryview(mmap.mmap(-1, capacity))

    def fill(self, buffer: memoryview) -> tuple[memoryview, int]:
        """The next part, in `buffer`: its bytes (a view of `buffer`) and the file bytes in it.

        Raises:
            InvalidArgument: The file ends early (it shrank during the upload).
            OSError: Reading the file failed.
        """
        if not self._compressing:
            length = min(self._part_size, self._size - self.offset)
            view = buffer[:length]
            _read_exactly(self._descriptor, view, self.offset)
            self.offset += length
            return view, length
        used = 0
        consumed = 0
        while self._frames and used < self._part_size:
            frame, length = self._frames.popleft().result()
            end = used + len(frame)
            buffer[used:end] = frame
            used = end
            consumed += length
            self._submit_frame()  # into the slot just copied out of
        self.offset += consumed
        return buffer[:used], consumed

    def _submit_frame(self) -> None:
        assert self._pool is not None
        offset = self._next_frame
        if offset < self._size:
            length = min(FRAME_SIZE, self._size - offset)
            slot = self._slots[(offset // FRAME_SIZE) % len(self._slots)]
            self._next_frame += length
            future = self._pool.submit(_compress_frame, self._descriptor, offset, length, slot)
            self._frames.append(future)


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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
