"""`UploadFileVerbs`: `Session.upload_file`, a file in parallel parts or resumably.

Below `TransferConfig.threshold` a file is one streamed PUT. Above it, a multipart upload
(protocol §11): worker threads read their part with `os.preadv`, compress it (zstd
releases the GIL, so parts compress in parallel) and upload it, at most
`max_concurrency` at a time, each in one buffer it reuses for all its parts, so memory
stays near `part_size * max_concurrency`. Any failure stops the other workers, waits for
the parts in flight, aborts the upload on the server and raises: no half object is ever
published. The resumable protocol (protocol §23) sends the file as one session that
survives dropped connections, sequentially.
"""

from __future__ import annotations

import logging
import mmap
import os
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Literal

from objectstore_client import _resumable
from objectstore_client._plans import objects
from objectstore_client._plans.multipart import CompletePart, part_encoding
from objectstore_client._progress import WorkerCancelled, wait_reporting
from objectstore_client._put import send_put
from objectstore_client._zstd import compress_bound, compressor
from objectstore_client.errors import InvalidArgument, InvalidArgumentType, RequestError
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual
from objectstore_client.multipart import MultipartUpload, MultipartVerbs
from objectstore_client.progress import Progress, ProgressCallback
from objectstore_client.transfers import TransferConfig, config_or_default

__all__ = ["UploadFileVerbs"]

logger = logging.getLogger(__name__)

# File bytes read (and fed to the compressor) at a time: per-call costs are negligible from
# here on, and every worker holds one such buffer.
_PIECE = 256 * 1024


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
        `config.part_size` in parallel, `config.max_concurrency` at a time, each part
        compressed on its own worker into its own zstd frames, then assembles them;
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
    """Uploads the file's parts in parallel and completes the upload; aborts on failure."""
    cancel = threading.Event()
    done: queue.SimpleQueue[int] = queue.SimpleQueue()
    workers = threading.local()  # each worker's `_PartBuffer`, for this upload only

    def part(number: int, offset: int) -> CompletePart:
        if cancel.is_set():
            raise WorkerCancelled
        length = min(config.part_size, size - offset)
        buffer: _PartBuffer | None = getattr(workers, "buffer", None)
        if buffer is None:
            buffer = workers.buffer = _PartBuffer(config.part_size, compressing)
        # Compressed here, on this worker, into one whole frame that `put_part` sends as
        # it is; the view is of the worker's buffer, reused once the part is sent.
        data = buffer.fill(descriptor, offset, length)
        sent = upload.put_part(data, part_number=number, content_length=len(data))
        done.put(length)
        return sent

    offsets = range(0, size, config.part_size)
    pool = ThreadPoolExecutor(config.max_concurrency, "objectstore-upload")
    futures = [pool.submit(part, n, offset) for n, offset in enumerate(offsets, start=1)]
    sent = 0

    def report(count: int) -> None:
        nonlocal sent
        sent += count
        if progress is not None:
            progress(Progress(sent, size))

    try:
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


class _PartBuffer:
    """One worker's memory for its parts, reused from part to part.

    The part (compressed, when compressing) is built in one buffer of the largest size it
    can have, from the file read 256 KiB at a time into another: a worker holds one part,
    never the part and its compressed copy, and reusing the buffers spares the page
    faults of fresh memory for every part (a third of the client's CPU time for a 1 GiB
    upload with a new buffer per part).
    """

    def __init__(self, part_size: int, compressing: bool) -> None:
        self._compressor = compressor() if compressing else None
        self._piece = memoryview(bytearray(_PIECE if compressing else 0))
        # Anonymous pages are only taken once written: a part that compresses well never
        # occupies the worst-case size (a bytearray would zero, and so take, all of it).
        self._part = memoryview(
            mmap.mmap(-1, compress_bound(part_size) if compressing else part_size)
        )

    def fill(self, descriptor: int, offset: int, length: int) -> memoryview:
        """The part of `length` file bytes from `offset`, compressed if compressing.

        Raises:
            InvalidArgument: The file ends before (it shrank during the upload).
        """
        if self._compressor is None:
            view = self._part[:length]
            _read_exactly(descriptor, view, offset)
            return view
        frame = self._compressor.compressobj(size=length)
        used = 0
        for position in range(offset, offset + length, _PIECE):
            piece = self._piece[: min(_PIECE, offset + length - position)]
            _read_exactly(descriptor, piece, position)
            used = _append(self._part, used, frame.compress(piece))
        return self._part[: _append(self._part, used, frame.flush())]


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
        rest = view[filled:]
        if hasattr(os, "preadv"):
            count = os.preadv(descriptor, [rest], offset + filled)
        else:  # e.g. macOS before 11: a copy more
            data = os.pread(descriptor, len(rest), offset + filled)
            count = len(data)
            rest[:count] = data
        if not count:
            raise InvalidArgument("path", "the file shrank during the upload")
        filled += count


def _abort(upload: MultipartUpload) -> None:
    try:
        upload.abort()
    except Exception:
        # The original failure matters more; an upload left open expires server-side.
        logger.warning("could not abort multipart upload %r", upload, exc_info=True)


def _report(progress: ProgressCallback | None, size: int) -> None:
    if progress is not None:
        progress(Progress(size, size))
