"""Progress reporting while bytes are read: `ProgressReader` and `report`.

Both directions report by reading: an upload's source is read by the sending thread (the
caller's, for `put`), a download's payload by whoever consumes it. So the callback runs
on the thread that reads, as `progress.py` promises.
"""

from __future__ import annotations

import contextlib
import io
import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import IO, Any

from objectstore_client.progress import Progress, ProgressCallback

__all__ = ["ProgressReader", "WorkerCancelled", "wait_reporting"]


class ProgressReader(io.BufferedIOBase):
    """A binary file object over `source` that reports the bytes read through it.

    Seeking back (a retried upload) moves the count back with it. Closing closes the
    source only if `owns` (a download's payload; never a caller's upload stream).
    """

    def __init__(
        self,
        source: IO[bytes],
        callback: ProgressCallback,
        total: int | None,
        *,
        owns: bool = False,
    ) -> None:
        super().__init__()
        self._source = source
        self._owns = owns
        self._callback = callback
        self._total = total
        self._done = 0
        self._origin: int | None = None

    def _count(self, data: bytes) -> bytes:
        if data:
            self._done += len(data)
            self._callback(Progress(self._done, self._total))
        return data

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._source.read(-1 if size is None else size))

    def read1(self, size: int = -1) -> bytes:
        read1 = getattr(self._source, "read1", None)
        return self._count(read1(size) if read1 is not None else self._source.read(size))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        # The source's own: the base class reads a byte at a time (a report per byte).
        return self._count(self._source.readline(-1 if size is None else size))

    def peek(self, size: int = 0) -> bytes:
        """The source's `peek` (nothing is consumed, so nothing is reported)."""
        peek = getattr(self._source, "peek", None)
        if peek is None:
            raise io.UnsupportedOperation("peek")
        data: bytes = peek(size)
        return data

    def seekable(self) -> bool:
        try:
            return bool(self._source.seekable())
        except (AttributeError, ValueError):
            return False

    def tell(self) -> int:
        position = self._source.tell()
        if self._origin is None:
            self._origin = position
        return position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._source.seek(offset, whence)
        if self._origin is not None and whence == io.SEEK_SET:
            self._done = max(0, position - self._origin)
        return position

    def close(self) -> None:
        if not self.closed and self._owns:
            self._source.close()
        super().close()


class WorkerCancelled(Exception):
    """A worker of a transfer stopped early because another one failed."""


def wait_reporting(
    futures: list[Future[Any]], events: queue.SimpleQueue[int], report: Callable[[int], None]
) -> None:
    """Waits for a transfer's workers on the caller's thread, passing on their progress.

    Workers put byte counts into `events`; each is handed to `report` here, so progress
    callbacks run on the caller's thread. Returns when every worker finished; raises the
    first failure (other than `WorkerCancelled`) as soon as it is seen.
    """
    pending = set(futures)
    while pending:
        with contextlib.suppress(queue.Empty):
            report(events.get(timeout=0.05))
        for future in [f for f in pending if f.done()]:
            pending.discard(future)
            error = future.exception()
            if error is not None and not isinstance(error, WorkerCancelled):
                raise error
    while not events.empty():
        report(events.get())
