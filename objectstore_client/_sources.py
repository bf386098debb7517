"""What `put` accepts beyond bytes and file objects: paths and iterators of byte chunks.

`upload_source` turns the caller's contents into what the upload plans take (bytes-like
or a binary file object), opening a path for the duration of the upload and wrapping an
iterator of chunks as a non-seekable stream, and adds progress reporting.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from objectstore_client._progress import ProgressReader
from objectstore_client._resumable import source_size
from objectstore_client.errors import InvalidArgumentType
from objectstore_client.progress import Progress, ProgressCallback

__all__ = ["ChunkReader", "UploadSource", "upload_source"]


_END = object()
"""Ends the chunks (`None` is a chunk of the wrong type, not the end)."""


class ChunkReader(io.RawIOBase):
    """A non-seekable binary stream over an iterable of byte chunks.

    An upload from it is never replayed (it cannot be rewound). A chunk that is not
    bytes-like raises `InvalidArgumentType` while reading.
    """

    def __init__(self, chunks: Iterable[object]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        # The rest of the current chunk: a view, so that taking a read's worth of it does
        # not copy the remainder (which made one large chunk cost quadratic time).
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, _END)
            if chunk is _END:
                return 0
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidArgumentType(
                    "contents", f"chunks must be bytes, got {type(chunk).__name__}"
                )
            self._pending = memoryview(bytes(chunk))
        view = memoryview(buffer).cast("B")
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class UploadSource:
    """Contents ready for an upload plan, and the progress report of a buffered upload."""

    def __init__(self, contents: object, progress: ProgressCallback | None) -> None:
        self.contents = contents
        self._progress = progress

    def sent(self) -> None:
        """Reports a bytes-like upload as complete (streams report while being read)."""
        if self._progress is not None and isinstance(self.contents, bytes | bytearray | memoryview):
            size = memoryview(self.contents).nbytes
            self._progress(Progress(size, size))


def _is_chunks(contents: object) -> bool:
    # Iterators only (generators, `iter(...)`): a list of chunks stays an error, as in
    # 0.0.19, rather than be taken for one by accident.
    return isinstance(contents, Iterator) and not callable(getattr(contents, "read", None))


@contextmanager
def upload_source(contents: object, progress: ProgressCallback | None) -> Iterator[UploadSource]:
    """Opens a path, wraps chunks and adds progress reporting for one upload.

    Other contents pass through unchanged, for the plan to check. A path is opened for
    reading now (a missing file raises `FileNotFoundError` before any request) and closed
    when the upload ends.
    """
    opened: IO[bytes] | None = None
    try:
        if isinstance(contents, os.PathLike):
            opened = contents = Path(contents).open("rb")  # noqa: SIM115 (closed below)
        elif _is_chunks(contents):
            contents = ChunkReader(cast(Iterable[object], contents))
        if progress is not None and callable(getattr(contents, "read", None)):
            stream = cast(IO[bytes], contents)
            contents = ProgressReader(stream, progress, source_size(stream))
        yield UploadSource(contents, progress)
    finally:
        if opened is not None:
            opened.close()
