"""The memory backend of the local server's storage: blobs kept as the pieces they came in.

A blob is the buffers it was written from, kept as they are: the writers hand over
buffers they no longer touch (request bodies received straight into them, views of other
blobs), so storing an object, assembling one from multipart parts or publishing a
resumable session copies nothing, and reads are views of the stored pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext

Chunk = bytes | bytearray | memoryview
"""A piece of a payload: request bodies yield bytearrays, objects in memory views."""

# Ranges of an object in memory are yielded as views of at most this size.
_VIEW = 1024 * 1024

Segments = tuple[Chunk, ...]


class _MemoryBlob:
    def __init__(self, header: dict[str, object], segments: Segments) -> None:
        self.header = header
        self._segments = segments
        self.size = sum(len(segment) for segment in segments)

    def iter_range(self, start: int, end: int) -> Iterator[memoryview]:
        # Views, not copies: the segments are never modified once stored.
        offset = 0
        for segment in self._segments:
            length = len(segment)
            if offset + length > start and offset < end:
                view = memoryview(segment)
                first = max(start - offset, 0)
                last = min(end - offset, length)
                for position in range(first, last, _VIEW):
                    yield view[position : min(last, position + _VIEW)]
            offset += length
            if offset >= end:
                return

    def close(self) -> None:
        pass


class MemoryBackend:
    """Blobs in a dict; each value an immutable (header, segments) pair swapped in whole."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[dict[str, object], Segments]] = {}
        self._lock = threading.Lock()

    def write(
        self,
        name: str,
        header: dict[str, object],
        chunks: Iterable[Chunk],
        lock: AbstractContextManager[object] | None = None,
    ) -> int:
        segments: Segments = tuple(chunk for chunk in chunks if len(chunk))
        with lock or nullcontext(), self._lock:
            self._blobs[name] = (dict(header), segments)
        return sum(len(segment) for segment in segments)

    def open(self, name: str) -> _MemoryBlob | None:
        with self._lock:
            entry = self._blobs.get(name)
        return _MemoryBlob(dict(entry[0]), entry[1]) if entry else None

    def delete(self, name: str) -> bool:
        with self._lock:
            return self._blobs.pop(name, None) is not None

    def children(self, prefix: str) -> list[str]:
        start = prefix + "/"
        with self._lock:
            return [n for n in self._blobs if n.startswith(start) and "/" not in n[len(start) :]]
