"""`WriteBehind`: a file written on a thread of its own while the caller fills the next buffer.

A compressed download is one stream: receiving and decoding it keeps the caller's thread
busy, and writing the decoded bytes to the file is a third of the work. Here a writer
thread does the writing, from a few buffers of fixed size that go back and forth between
the two threads: nothing is allocated per buffer (fresh memory for every decoded MiB,
freed on the other thread, cost more page faults than the overlap saved).
"""

from __future__ import annotations

import os
import queue
import threading
from types import TracebackType

__all__ = ["WriteBehind"]

BUFFER_SIZE = 1024 * 1024
"""Bytes per buffer."""

BUFFERS = 3
"""Buffers in circulation: one being filled, one being written, one waiting for either."""


class WriteBehind:
    """Writes buffers to a file descriptor, in order, on a thread of its own.

    Use as a context manager: `take()` a buffer, fill it, `give()` it back with the
    length filled; leaving the block waits until everything given is written. At most
    `BUFFERS * BUFFER_SIZE` bytes are held. The writer writes through a duplicate of
    `descriptor`, which it closes when it ends. An error of the writer (an `OSError` from
    `os.write`) is raised by the next `take()` or at the end of the block; an error in
    the block, or an interrupt while waiting for the writer at its end, stops the writer
    without writing the rest.
    """

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        for _ in range(BUFFERS):
            self._free.put(bytearray(BUFFER_SIZE))
        self._error: BaseException | None = None
        self._stop = False
        self.written = 0
        """Bytes written to the file so far (updated by the writer thread)."""
        self._thread = threading.Thread(target=self._run, name="objectstore-write", daemon=True)

    def __enter__(self) -> WriteBehind:
        # A descriptor of its own: should the block be left before the thread ends (an
        # interrupt while waiting for it), its writes can only reach this file.
        self._descriptor = os.dup(self._descriptor)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:
            self._stop = True  # the file is discarded: skip what is still queued
        try:
            self._full.put(None)
            self._thread.join()
        except BaseException:
            self._stop = True  # interrupted while waiting: write nothing more
            self._full.put(None)  # in case the interrupt came before the first one
            raise
        if kind is None and self._error is not None:
            raise self._error

    def take(self) -> bytearray:
        """A buffer to fill; waits while all of them are queued for writing.

        Raises:
            OSError: A write failed (the writer's error, re-raised here).
        """
        buffer = self._free.get()
        if self._error is not None:
            raise self._error
        return buffer

    def give(self, buffer: bytearray, length: int) -> None:
        """Queues the first `length` bytes of `buffer` (from `take()`) for writing."""
        self._full.put((buffer, length))

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            os.close(self._descriptor)

    def _loop(self) -> None:
        while (item := self._full.get()) is not None:
            buffer, length = item
            try:
                if not self._stop and self._error is None:
                    self._write(buffer, length)
            except BaseException as exc:  # handed to the caller's thread
                self._error = exc
            finally:
                self._free.put(buffer)

    def _write(self, buffer: bytearray, length: int) -> None:
        with memoryview(buffer) as whole:
            view = whole[:length]
            while view:
                count = os.write(self._descriptor, view)
                view = view[count:]
                self.written += count
            view.release()
