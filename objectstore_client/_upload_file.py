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

import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Literal

from objectstore_client import _resumable
from objectstore_client._file_parts import FileParts
from objectstore_client._plans import objects
from objectstore_client._plans.multipart import CompletePart, part_encoding
from objectstore_client._progress import WorkerCancelled, wait_reporting
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
                file's size (after each part for multipart uploads).

        Raises:
            InvalidArgument: `path` is not an existing file, or an argument breaks a rule
                of `put`; raised before any request.
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
            plan = objects.plan_put(
                self._context.usecase,
                file,
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
                    _report(progress, size)
                    return stored
            stored, _ = send_put(self._context, plan)
            _report(progress, size)
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
    """Uploads the file's parts and completes the upload; aborts it on any failure."""
    with FileParts(
        descriptor, size, config.part_size, compressing, config.max_concurrency
    ) as parts:
        return _send_cut_parts(upload, parts, size, config.max_concurrency, progress)


def _send_cut_parts(
    upload: MultipartUpload,
    parts: FileParts,
    size: int,
    concurrency: int,
    progress: ProgressCallback | None,
) -> str:
    """Sends `parts` and completes the upload; aborts it on any failure.

    This thread fills the parts (`FileParts.fill`: reading, or gathering the frames that
    its threads compressed) into one of `concurrency` buffers at a time while worker
    threads send the parts before it, each buffer going back once its part is sent (or
    failed).
    """
    free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
    for _ in range(concurrency):
        free.put(parts.buffer())
    cancel = threading.Event()
    done: queue.SimpleQueue[int] = queue.SimpleQueue()

    def send(number: int, buffer: memoryview, data: memoryview, length: int) -> CompletePart:
        try:
            if cancel.is_set():
                raise WorkerCancelled
            sent = upload.put_part(data, part_number=number, content_length=len(data))
        finally:
            free.put(buffer)
        done.put(length)
        return sent

    reported = 0

    def report(count: int) -> None:
        nonlocal reported
        reported += count
        if progress is not None:
            progress(Progress(reported, size))

    pool = ThreadPoolExecutor(concurrency, "objectstore-upload")
    futures: list[Future[CompletePart]] = []
    try:
        while not parts.done:
            buffer = _take(free, futures, done, report)
            data, length = parts.fill(buffer)
            futures.append(pool.submit(send, len(futures) + 1, buffer, data, length))
        wait_reporting(futures, done, report)
        return upload.complete([future.result() for future in futures])
    except BaseException:
        cancel.set()
        for future in futures:
            future.cancel()
        # Parts still being sent would land after the abort and linger: wait first.
        wait(futures)
        _abort(upload)
        raise
    finally:
        pool.shutdown(wait=False)


def _take(
    free: queue.SimpleQueue[memoryview],
    futures: list[Future[CompletePart]],
    done: queue.SimpleQueue[int],
    report: Callable[[int], None],
) -> memoryview:
    """A free buffer; while waiting, passes on progress and raises a failed send's error.

    Every unfinished send holds a buffer, so past the sends known to have succeeded at
    most `max_concurrency` futures are looked at.
    """
    checked = 0
    while True:
        while not done.empty():
            report(done.get())
        while checked < len(futures) and futures[checked].done():
            _raise_failure(futures[checked])
            checked += 1
        for future in futures[checked:]:
            if future.done():
                _raise_failure(future)
        try:
            return free.get(timeout=0.05)
        except queue.Empty:
            continue


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


def _report(progress: ProgressCallback | None, size: int) -> None:
    if progress is not None:
        progress(Progress(size, size))
