"""Reading a large download's stored bytes ahead, on a thread of its own.

A streamed zstd download spends its time in two places: receiving bytes from the socket
and decoding them. On one thread each waits for the other, and the server waits for both.
A reader thread that fetches the next pieces while the caller decodes overlaps the two:
`socket.recv_into` and zstd's decoder both release the GIL, so on two cores a 64 MiB
download takes about the time of its decoding alone.

Memory stays bounded: at most `depth` pieces wait for the caller, plus the one being
received. The reader thread is the only one that touches the source while it runs; it
runs in a copy of the caller's `contextvars` context, so a resumption request it sends
(`_resume`) is traced and measured like the caller's own.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["ReadAhead"]


class Source(Protocol):
    """What is read ahead: `read(size)` returns `size` bytes, fewer only at the end."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Failure:
    """What the reader thread raised, to be raised again on the caller's thread."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead:
    """A file-like reader of `source` that fetches pieces ahead on a background thread.

    The thread starts at construction and reads `piece` bytes at a time until the end of
    `source`, the first error, or `close()`. `read` returns what the thread fetched, in
    order, and raises on the caller's thread whatever `source.read` raised on the
    reader's (after the bytes fetched before it).

    Args:
        source: Read only by the reader thread from now on, until `close()` returns or
            `read` returned b"" or raised.
        piece: Bytes per read of `source`.
        depth: Pieces that may wait for the caller; the thread pauses when they do.
        interrupt: Called by `close()` to end a read of `source` that is blocked (e.g.
            shutting down the socket's receiving side), so that the thread stops promptly.
            It must make `source.read` return or raise soon, without retrying. It must not
            refer to the owner of this reader, or an owner dropped unclosed would be kept
            alive by the thread and never stop it.
    """

    def __init__(
        self, source: Source, *, piece: int, depth: int, interrupt: Callable[[], None]
    ) -> None:
        self._source = source
        self._piece = piece
        self._depth = depth
        self._interrupt = interrupt
        self._ready: deque[bytes | _Failure] = deque()
        self._lock = threading.Condition(threading.Lock())
        self._stopping = False
        self._finished = False
        # What a smaller `read` left of the last piece: `_rest[_start:]`.
        self._rest = b""
        self._start = 0
        self._ended = False  # `read` returned the end or raised: nothing more comes
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run,
            args=(self._run,),
            name="objectstore-readahead",
            daemon=True,
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                data = self._source.read(self._piece)
                if not self._offer(data) or not data:
                    return
        except BaseException as exc:  # handed to the caller, who decides
            self._offer(_Failure(exc))
        finally:
            with self._lock:
                self._finished = True
                self._lock.notify_all()

    def _offer(self, item: bytes | _Failure) -> bool:
        """Queues `item` once there is room; `False` if the reader was told to stop."""
        with self._lock:
            while len(self._ready) >= self._depth and not self._stopping:
                self._lock.wait()
            if self._stopping:
                return False
            self._ready.append(item)
            self._lock.notify_all()
            return True

    def _next(self) -> bytes:
        with self._lock:
            while not self._ready and not self._finished:
                self._lock.wait()
            if not self._ready:
                # The thread ended without a word: cannot happen short of interpreter
                # shutdown, but a reader must never wait for ever.
                self._ended = True
                raise RuntimeError("the download's reader thread ended unexpectedly")
            item = self._ready.popleft()
            self._lock.notify_all()
        if isinstance(item, _Failure):
            self._ended = True
            self._thread.join()
            raise item.error
        if not item:
            self._ended = True
            self._thread.join()
        return item

    def read(self, size: int = -1, /) -> bytes:
        """Returns `size` bytes (all that is left if `size` < 0), fewer only at the end.

        Raises:
            BaseException: What `source.read` raised on the reader thread.
        """
        rest, start = self._rest, self._start
        if size >= 0 and len(rest) - start >= size:
            # Served from the piece a smaller read left over.
            self._start = start + size
            return rest[start : start + size]
        parts = [rest[start:] if start else rest] if len(rest) > start else []
        have = len(rest) - start
        self._rest, self._start = b"", 0
        while (size < 0 or have < size) and not self._ended:
            piece = self._next()
            parts.append(piece)
            have += len(piece)
        if not parts:
            return b""
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if 0 <= size < len(data):
            # Kept whole with an offset: reading a piece in small slices copies each once.
            self._rest, self._start = data, size
            return data[:size]
        return data

    def close(self) -> None:
        """Stops the reader thread and waits for it; the source may then be used again.

        A read of the source in progress is interrupted. Pieces fetched and not read are
        dropped. Idempotent.
        """
        with self._lock:
            self._stopping = True
            self._ready.clear()
            self._lock.notify_all()
            running = not self._finished
        if running:
            self._interrupt()
        self._thread.join()
        self._ended = True
        self._rest, self._start = b"", 0
