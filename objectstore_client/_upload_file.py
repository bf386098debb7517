"""`UploadFileVerbs`: `Session.upload_file`, a file in parallel parts or resumably.

Below `TransferConfig.threshold` a file is one streamed PUT. Above it, a multipart upload
(protocol §11): the caller's thread cuts the parts (`_file_parts.FileParts`: read with
`os.preadv`; when compressing, the frames of 512 KiB of file that `max_concurrency` threads
compress, gathered until the part's stored bytes reach `part_size`, so that no part but
the last is smaller) while up to `max_concurrency` worker threads send the parts before
it. The parts live in `max_concurrency` buffers reused for every part, so memory stays
near `part_size * max_concurrency` (plus a frame per compressing thread). Any failure
stops the other workers, waits for the parts in flight, aborts the upload on the server
and raises: no half object is ever published.
The resumable protocol (protocol §23) sends the file as one session that survives
dropped connections, sequentially.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Literal, cast

from objectstore_client import _resumable
from objectstore_client._file_parts import FileParts
from objectstore_client._plans import objects
from objectstore_client._plans.multipart import CompletePart, part_encoding
from objectstore_client._progress import ProgressReader, WorkerCancelled, wait_reporting
from objectstore_client._put import send_put
from objectstore_client.errors import InvalidArgument, InvalidArgumentType, RequestError
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual
from objectstore_client.multipart import MultipartUpload, MultipartVerbs
from objectstore_client.progress import Progress, ProgressCallback
from objectstore_client.transfers import TransferConfig, config_or_default

__all__ = ["UploadFileVerbs"]

logger = logging.getLogger(__name__)


class UploadFileVerbs(MultipartVerbs):
    """The file-upload verb of `Session`."""

    def upload_file(
        self,
        path: str | os.PathLike[str],
        key: str | None = None,
        *,
        config: TransferConfig | None = None,
        compression: Compression | Literal["none"] | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        expiration_policy: ExpirationPolicy | Manual | None = None,
        origin: str | None = None,
        filename: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Uploads a file and returns the key it is stored under; all of it or nothing.

        A file smaller than `config.threshold` goes as one streamed `put`. A larger one
        goes by `config.protocol`: `"multipart"` (and `"auto"`) uploads parts of
        `config.part_size` stored bytes, `config.max_concurrency` at a time (when
        compressing, each part is whole zstd frames of 512 KiB of file each, compressed by
        `config.max_concurrency` threads), then assembles them;
        `"resumable"` sends one resumable session (sequential, resuming after dropped
        connections). With `"auto"`, a server without multipart (501) gets a resumable
        upload instead, and one without either a plain `put`. The file must not change
        during the upload.

        If anything fails, the other parts stop, the multipart upload is aborted (or the
        resumable session cancelled) and the error is raised: the object is never left
        half written, and an existing object under `key` stays as it was.

        Args:
            path: The file to upload.
            key: The key to store under; `None` picks a new one here (a UUIDv4, see `put`).
            config: Threshold, part size, concurrency and protocol; default
                `TransferConfig()`.
            compression: `"zstd"` or `"none"`; `None` uses the usecase's default.
            content_type: As for `put`.
            metadata: As for `put`.
            expiration_policy: As for `put`.
            origin: As for `put`.
            filename: As for `put`.
            progress: Called on this thread with the file bytes uploaded so far and the
                file's size (`None` when it reports 0: procfs and sysfs files are read to
                their end): as the file is read for a single request (a resumable upload
                that compresses reads it once more first, to measure), after each part
                for multipart uploads. If it raises, the upload stops and nothing is stored.

        Raises:
            InvalidArgument: `path` is not an existing file, or an argument breaks a rule
                of `put` (raised before any request); or the file shrank during the
                upload (nothing is stored).
            InvalidArgumentType: An argument has the wrong type.
            RequestError: The server refused the upload or a part.
            TransportError: The upload failed on the network.
            OSError: Reading the file failed.
        """
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgumentType("path", f"must be a str or a path, got {type(path).__name__}")
        source = Path(path)
        if not source.is_file():
            raise InvalidArgument("path", f"is not an existing file: {source}")
        config = config_or_default(config)
        with source.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            # Validates every argument (as `put` does) before anything is sent.
            # A single request (plain or resumable) reads the file's `size` bytes, as the
            # parts do: a compressed one would otherwise read to a shrunk file's end and
            # store what it got. It reports as it reads, so a callback that raises stops
            # the upload before the server has it all (as with `put`); reporting once
            # stored would leave the object stored all the same.
            # A size of 0 is no size at all for files of procfs or sysfs, which have content
            # all the same: such a file is read to its end, as a stream (of unknown size).
            sized = cast(IO[bytes], _FileOfSize(file, size)) if size else file
            total = size or None
            contents = sized if progress is None else ProgressReader(sized, progress, total)
            plan = objects.plan_put(
                self._context.usecase,
                contents,
                key,
                compression=compression,
                compress=None,
                precompressed=None,
                content_type=content_type,
                metadata=metadata,
                expiration_policy=expiration_policy,
                origin=origin,
                filename=filename,
            )
            large = size > 0 and size >= config.threshold
            if large and config.protocol != "resumable":
                upload = _initiate_or_none(
                    lambda: self.initiate_multipart_upload(
                        key=plan.request.key,
                        compression=compression,
                        content_type=content_type,
                        metadata=metadata,
                        expiration_policy=expiration_policy,
                        origin=origin,
                        filename=filename,
                    ),
                    config,
                )
                if upload is not None:
                    compressing = (
                        part_encoding(self._context.usecase, compression, None) == "compress"
                    )
                    return _send_parts(upload, file.fileno(), size, compressing, config, progress)
            if large:
                stored = _resumable.put(self._context, plan, 0)
                if stored is not None:
                    return stored
            stored, _ = send_put(self._context, plan)
            return stored


def _initiate_or_none(
    initiate: Callable[[], MultipartUpload], config: TransferConfig
) -> MultipartUpload | None:
    """Starts the multipart upload; `None` if the server has none (501) and `auto` allows."""
    try:
        return initiate()
    except RequestError as exc:
        if exc.status != 501 or config.protocol != "auto":
            raise
        logger.info("multipart uploads unsupported (501); uploading resumably")
        return None


def _send_parts(
    upload: MultipartUpload,
    descriptor: int,
    size: int,
    compressing: bool,
    config: TransferConfig,
    progress: ProgressCallback | None,
) -> str:
    """Uploads the file's parts and completes the upload; aborts it on any failure.

    This thread fills the parts (`FileParts.fill`: reading, or gathering the frames that
    its threads compressed) into one of `config.max_concurrency` buffers at a time while
    worker threads send the parts before it. On a failure the abort comes after every
    send and every compression has stopped, so no part lands after it.
    """
    concurrency = config.max_concurrency
    try:
        parts = FileParts(descriptor, size, config.part_size, compressing, concurrency)
        with contextlib.closing(parts):
            buffers = [parts.buffer() for _ in range(concurrency)]
            sends = _PartSends(upload, buffers, progress, size)
            try:
                while not parts.done:
                    buffer = sends.take_buffer()
                    data, length = parts.fill(buffer)
                    sends.submit(buffer, data, length)
                completed = sends.finish()
            finally:
                sends.close()
        return upload.complete(completed)
    except BaseException:
        _abort(upload)
        raise


class _PartSends:
    """The sends of one upload's parts, on one worker thread per buffer.

    A part is sent from its buffer, which comes back to `take_buffer` once the send ended
    (however). Progress (file bytes of the parts sent, of `size`) and failures are passed
    on by the caller's thread, in `take_buffer` and `finish`.
    """

    def __init__(
        self,
        upload: MultipartUpload,
        buffers: list[memoryview],
        progress: ProgressCallback | None,
        size: int,
    ) -> None:
        self._upload = upload
        self._progress = progress
        self._size = size
        self._free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
        for buffer in buffers:
            self._free.put(buffer)
        self._sent: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._ended: queue.SimpleQueue[Future[CompletePart]] = queue.SimpleQueue()
        self._cancel = threading.Event()
        self._pool = ThreadPoolExecutor(len(buffers), "objectstore-upload")
        self._futures: list[Future[CompletePart]] = []
        self._reported = 0

    def submit(self, buffer: memoryview, data: memoryview, length: int) -> None:
        """Sends `data` (in `buffer`, holding `length` file bytes) as the next part."""
        future = self._pool.submit(self._send, len(self._futures) + 1, buffer, data, length)
        self._futures.append(future)
        future.add_done_callback(self._ended.put)

    def take_buffer(self) -> memoryview:
        """A free buffer; while waiting, reports progress and raises a failed send's error."""
        while True:
            while not self._sent.empty():
                self._report(self._sent.get())
            while not self._ended.empty():
                _raise_failure(self._ended.get())
            try:
                return self._free.get(timeout=0.05)
            except queue.Empty:
                continue

    def finish(self) -> list[CompletePart]:
        """Waits for every send, reporting progress; the parts, or a failed send's error."""
        wait_reporting(self._futures, self._sent, self._report)
        return [future.result() for future in self._futures]

    def close(self) -> None:
        """Cancels the sends not started and waits for those being sent."""
        self._cancel.set()
        # A send submitted as an interrupt arrived may be missing from `_futures`: the
        # pool knows it.
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, number: int, buffer: memoryview, data: memoryview, length: int) -> CompletePart:
        try:
            if self._cancel.is_set():
                raise WorkerCancelled
            sent = self._upload.put_part(data, part_number=number, content_length=len(data))
        finally:
            self._free.put(buffer)
        self._sent.put(length)
        return sent

    def _report(self, count: int) -> None:
        self._reported += count
        if self._progress is not None:
            self._progress(Progress(self._reported, self._size))


def _raise_failure(future: Future[CompletePart]) -> None:
    error = future.exception()
    if error is not None and not isinstance(error, WorkerCancelled):
        raise error


def _abort(upload: MultipartUpload) -> None:
    try:
        upload.abort()
    except Exception:
        # The original failure matters more; an upload left open expires server-side.
        logger.warning("could not abort multipart upload %r", upload, exc_info=True)


class _FileOfSize(io.RawIOBase):
    """The first `size` bytes of an open file, from its start; raises if it ends before.

    What a single request (plain or resumable) reads of the file: a file that grew is cut
    at `size` (as its parts are), one that shrank raises (as `FileParts.fill` does).
    """

    def __init__(self, file: IO[bytes], size: int) -> None:
        super().__init__()
        self._file = file
        self._size = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            return self._file.seek(self._size + offset)
        return self._file.seek(offset, whence)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        left = self._size - self._file.tell()
        if left <= 0 or not view:
            return 0
        count: int = self._file.readinto(view[:left])  # type: ignore[attr-defined]
        if not count:
            raise InvalidArgument("path", "the file shrank during the upload")
        return count
