"""Large in-memory uploads, compressed in segments on worker threads while they are sent.

Compressing a 64 MiB body on the caller's thread and only then sending it leaves a core
idle and the server waiting. Cut into segments, each compressed into a zstd frame of its
own (frames concatenate into one valid zstd stream, RFC 8878 §3.1, which every reader
decodes across frames), the body is compressed by `SEGMENT_WORKERS` threads at once while
the segments already done are sent: zstandard releases the GIL while it compresses. The
frames are sent as they come, in order, with chunked transfer encoding (their total size
is unknown until the last one is done; the server accepts chunked uploads, protocol §1).

Compressing with a chunker into 1 MiB pieces also costs about half the CPU of one
`compress()` call over the whole body, which writes a single output buffer the size of
the body (page faults, then a shrinking copy).

Memory: besides the caller's contents, at most `SEGMENT_WORKERS + 1` compressed segments
are held. A replay compresses again from the caller's contents (they are kept, not
copied).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from objectstore_client._zstd import compressor

__all__ = ["SEGMENTED_MIN", "SegmentedBody"]

SEGMENT_SIZE = 4 * 1024 * 1024
"""Uncompressed bytes per segment (one zstd frame each). zstd's window at the default
level is 2 MiB, so frames of 4 MiB lose about 1% of the ratio at their boundaries."""

SEGMENT_WORKERS = 2
"""Threads compressing segments of one upload at once."""

SEGMENTED_MIN = 8 * 1024 * 1024
"""Bodies of at least this many bytes are compressed in segments; below it, starting the
threads costs more than the overlap gains."""

_PIECE = 1024 * 1024  # bytes fed to and produced by the chunker at a time


def _compress_segment(segment: memoryview) -> list[bytes]:
    """One frame, with its content size and checksum, in pieces of about `_PIECE` bytes."""
    chunker = compressor().chunker(size=segment.nbytes, chunk_size=_PIECE)
    pieces: list[bytes] = []
    for start in range(0, segment.nbytes, _PIECE):
        pieces.extend(chunker.compress(segment[start : start + _PIECE]))
    pieces.extend(chunker.finish())  # type: ignore[no-untyped-call]  # zstandard stubs
    return pieces


class SegmentedBody:
    """A bytes-like upload of at least `SEGMENTED_MIN` bytes, compressed while it is sent.

    Each attempt (`open()`) compresses afresh; chunked transfer encoding, no
    `Content-Length`.
    """

    replayable = True
    content_length = None
    """Unknown before the last segment is compressed: the upload is chunked."""

    def __init__(self, contents: memoryview) -> None:
        self._contents = contents
        self.uncompressed_size = contents.nbytes
        self.compressed_size: int | None = None
        """The bytes sent by the last attempt that sent them all; `None` before."""

    def open(self) -> Iterator[bytes]:
        """Returns the compressed body as an iterator of pieces, for one attempt."""
        return self._pieces()

    def _pieces(self) -> Iterator[bytes]:
        view = self._contents
        starts = iter(range(0, view.nbytes, SEGMENT_SIZE))
        sent = 0
        with ThreadPoolExecutor(SEGMENT_WORKERS, thread_name_prefix="objectstore-zstd") as pool:
            pending: deque[Future[list[bytes]]] = deque()

            def submit_next() -> None:
                start = next(starts, None)
                if start is not None:
                    segment = view[start : start + SEGMENT_SIZE]
                    pending.append(pool.submit(_compress_segment, segment))

            try:
                # One segment more than there are workers, so none waits while one is sent.
                for _ in range(SEGMENT_WORKERS + 1):
                    submit_next()
                while pending:
                    pieces = pending.popleft().result()
                    submit_next()
                    for piece in pieces:
                        sent += len(piece)
                        yield piece
            finally:
                # An attempt abandoned midway (a broken connection): segments not started
                # are dropped, the ones being compressed end with their segment.
                for future in pending:
                    future.cancel()
        self.compressed_size = sent
