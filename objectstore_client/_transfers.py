"""`TransferVerbs`: `get_ranges` and `download_file`, large reads in parallel parts.

Parts run on worker threads; the caller's thread waits for them, reports progress and
raises the first failure after stopping the others. See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import IO, cast

import zstandard

from objectstore_client import _validation
from objectstore_client._plans import objects
from objectstore_client._plans.ranges import unsatisfiable
from objectstore_client._positional import write_at
from objectstore_client._progress import wait_reporting
from objectstore_client._ranged import Identity, RangeReader
from objectstore_client._session_base import SessionBase
from objectstore_client._write_behind import BUFFER_SIZE, WriteBehind
from objectstore_client._zstd import ZstdStream
from objectstore_client.errors import DecodeError, RangeNotSatisfiable, UnsupportedCompression
from objectstore_client.metadata import Metadata
from objectstore_client.progress import Progress, ProgressCallback
from objectstore_client.ranges import RangeSpec
from objectstore_client.transfers import TransferConfig, config_or_default

__all__ = ["TransferVerbs"]

_WRITE_SIZE = 1024 * 1024


class TransferVerbs(SessionBase):
    """The ranged-read and file-download verbs of `Session`."""

    def get_ranges(
        self, key: str, ranges: Sequence[RangeSpec], *, max_concurrency: int | None = None
    ) -> list[bytes]:
        """Downloads several byte ranges of one object, one request per range, concurrently.

        Ranges are written as for `get(range=...)` and address the stored bytes: ranges of
        a zstd-compressed object come back as stored unless one covers the whole object.

        Args:
            key: The object's key.
            ranges: The ranges; they must not overlap. At most one may be a suffix
                (`(-n, None)`), which is not checked against the others: where it
                starts depends on the object's size, unknown before the answers.
            max_concurrency: Requests in flight at once; default `TransferConfig`'s.

        Returns:
            The bytes of each range, in the order of `ranges`.

        Raises:
            InvalidArgument: No ranges, a reversed or empty range, or ranges seen to
                overlap (see `ranges`); raised before any request.
            RangeNotSatisfiable: A range starts past the end (the message names it). After
                a failure no further request is sent; those in flight are finished first.
            ObjectNotFound: The object does not exist.
            ProtocolError: An answer carries other bytes than its range asked for.
        """
        checked = _validation.check_ranges(ranges)
        plans = [objects.plan_get(key, True, None, byte_range) for byte_range in checked]
        workers = _validation.check_size(
            TransferConfig().max_concurrency if max_concurrency is None else max_concurrency,
            "max_concurrency",
        )
        context = self._context

        def fetch(plan: objects.GetPlan) -> bytes:
            path = context.target(plan.request)
            with context.measure("get", plan.request.key):
                try:
                    response, _ = context.send(plan.request, path)
                except RangeNotSatisfiable as exc:
                    assert plan.range is not None
                    raise unsatisfiable(exc, plan.range, path) from exc
            with objects.read_get(response, plan, path, context.translator("GET", path)) as got:
                return got.payload.read()

        if len(plans) == 1:
            return [fetch(plans[0])]
        with ThreadPoolExecutor(min(workers, len(plans))) as pool:
            futures = [pool.submit(fetch, plan) for plan in plans]
            try:
                # Woken by the first failure, whichever range it is: the ranges not yet
                # sent are cancelled now, not once the ranges before it have finished.
                wait(futures, return_when=FIRST_EXCEPTION)
                for future in futures:
                    if future.done() and (error := future.exception()) is not None:
                        raise error
                return [future.result() for future in futures]
            finally:
                for future in futures:
                    future.cancel()

    def download_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        *,
        config: TransferConfig | None = None,
        decompress: bool = True,
        progress: ProgressCallback | None = None,
    ) -> Metadata:
        """Downloads an object into a file, atomically: all of it or nothing.

        The bytes go to a temporary file beside `path`, renamed to `path` once complete
        (replacing a file there); on any failure it is removed and `path` is untouched.
        An uncompressed object of at least `config.threshold` bytes is fetched in parallel
        ranges of `config.part_size`, `config.max_concurrency` at a time; a compressed one
        is streamed and decoded in one pass. When a connection breaks mid-body, the
        download resumes with a Range request from the first byte not yet received
        (`config.max_resumes` times without progress). Every answer must show the same
        stored size, encoding and creation time as the first, or the download fails with
        `ProtocolError` rather than mix two versions; the protocol has no ETag and creation
        times are whole seconds, so an object replaced by one of the same size and
        encoding within the same second as the first answer's cannot be told apart (the
        zstd checksums of a compressed object still catch a splice inside a frame).

        Args:
            key: The object's key.
            path: The file to write; its directory must exist.
            config: Part size, concurrency, resumes; default `TransferConfig()`.
            decompress: Decode zstd objects (default); `False` writes the stored bytes.
            progress: Called on this thread with the bytes written so far and the total
                (the stored size; `None` while decoding a compressed object).

        Returns:
            The object's metadata (`compression` is `None` if it was decoded).

        Raises:
            InvalidArgument: The directory of `path` does not exist, `path` is a
                directory, or the key breaks a rule; raised before any request.
            ObjectNotFound: The object does not exist.
            ProtocolError: The object changed during the download (as far as can be
                seen, above), or the connection kept breaking.
            DecodeError: The object's zstd data is corrupt.
        """
        checked_key = _validation.check_key(key)
        target = _validation.check_target_path(path)
        config = config_or_default(config)
        # Beside the target, so the rename is atomic; created like any new file (the
        # umask applies, unlike with `tempfile`, whose files only their owner can read).
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            with temp.open("xb") as file:
                metadata = self._download_into(
                    checked_key, file, config, bool(decompress), progress
                )
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return metadata

    def _download_into(
        self,
        key: str,
        file: IO[bytes],
        config: TransferConfig,
        decompress: bool,
        progress: ProgressCallback | None,
    ) -> Metadata:
        first = RangeReader(
            self._context, key, 0, config.part_size, None, max_resumes=config.max_resumes
        )
        try:
            first.open()
        except RangeNotSatisfiable:
            # Only an empty object has no byte 0 (protocol §7): fetch it whole.
            plan = objects.plan_get(key, decompress, None)
            path = self._context.target(plan.request)
            with self._context.measure("get", key):
                response, _ = self._context.send(plan.request, path)
            translate = self._context.translator("GET", path)
            with objects.read_get(response, plan, path, translate) as got:
                file.write(got.payload.read())
                return got.metadata
        assert first.identity is not None
        assert first.metadata is not None
        identity, metadata = first.identity, first.metadata
        report = _Reporter(progress)
        if decompress and metadata.compression is not None:
            if metadata.compression != "zstd":
                first.close()
                raise UnsupportedCompression(
                    f"GET {key!r}: cannot decompress {metadata.compression!r}; use decompress=False"
                )
            # One stream from byte 0: `first` asked for one part only, so read the rest
            # through a second reader that resumes where it stops.
            rest = RangeReader(
                self._context, key, config.part_size, None, identity, max_resumes=config.max_resumes
            )
            decoder = ZstdStream(cast(IO[bytes], _Chain(first, rest, identity.total)))
            try:
                _decode_into(key, decoder, file, identity.total, report)
            finally:
                # After a failure (a callback that raised, corrupt data) the answers are
                # unread: their connections are closed now, not whenever the error is freed.
                first.close()
                rest.close()
            return dataclasses.replace(metadata, compression=None)
        total = identity.total
        _copy(first, file, 0, lambda size: report.add(size, total))
        # Below the threshold the rest is one more range; above, parts in parallel.
        step = config.part_size if total >= config.threshold else total
        segments = [
            (start, min(start + step, total)) for start in range(first.position, total, step)
        ]
        if segments:
            self._parallel_parts(key, file, segments, identity, config, report)
        return metadata

    def _parallel_parts(
        self,
        key: str,
        file: IO[bytes],
        segments: list[tuple[int, int]],
        identity: Identity,
        config: TransferConfig,
        report: _Reporter,
    ) -> None:
        cancel = threading.Event()
        written: queue.SimpleQueue[int] = queue.SimpleQueue()

        def part(start: int, end: int) -> None:
            reader = RangeReader(
                self._context,
                key,
                start,
                end,
                identity,
                max_resumes=config.max_resumes,
                cancel=cancel,
            )
            _copy(reader, file, start, written.put)

        with ThreadPoolExecutor(config.max_concurrency, "objectstore-download") as pool:
            futures = [pool.submit(part, start, end) for start, end in segments]
            try:
                wait_reporting(futures, written, lambda size: report.add(size, identity.total))
            except BaseException:
                cancel.set()
                for future in futures:
                    future.cancel()
                raise


class _Reporter:
    """Sums bytes and calls the progress callback (on the caller's thread)."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self.done = 0
        self._total: int | None = None

    def add(self, size: int, total: int | None) -> None:
        self.done += size
        self._total = total
        if self._callback is not None and size:
            self._callback(Progress(self.done, total))


class _Chain:
    """Reads one `RangeReader` to its end, then another: one stream of stored bytes."""

    def __init__(self, first: RangeReader, rest: RangeReader, total: int) -> None:
        self._readers = [first, rest] if total > rest.position else [first]

    def read(self, size: int = -1) -> bytes:
        while self._readers:
            data = self._readers[0].read(size if size > 0 else _WRITE_SIZE)
            if data:
                return data
            self._readers.pop(0)
        return b""


def _decode_into(
    key: str, decoder: ZstdStream, file: IO[bytes], stored: int, report: _Reporter
) -> None:
    """Decodes on this thread while a writer thread writes the previous buffer to `file`.

    An object of at most one buffer of stored bytes is decoded and written on this thread:
    a writer thread and its buffers would cost more than the overlap saves.

    Raises:
        DecodeError: The stored bytes are not valid zstd data (corrupt or cut short).
        OSError: Writing the file failed.
    """
    try:
        if stored <= BUFFER_SIZE:
            while data := decoder.read(BUFFER_SIZE):
                file.write(data)
                report.add(len(data), None)
            return
        file.flush()  # the writer writes to the descriptor
        with WriteBehind(file.fileno()) as writer:
            while count := decoder.readinto(buffer := writer.take()):
                writer.give(buffer, count)
                report.add(writer.written - report.done, None)
    except zstandard.ZstdError as exc:
        raise DecodeError(f"GET {key!r}: the payload is not valid zstd data: {exc}") from exc
    report.add(writer.written - report.done, None)


def _copy(
    reader: RangeReader, file: IO[bytes], offset: int, written: Callable[[int], object]
) -> None:
    """Writes what `reader` yields into `file` at `offset` on (positional writes: thread-safe).

    The reader is closed when this returns or raises: a failure (a write, a callback that
    raised) closes its connection now, not whenever the error is freed.
    """
    descriptor = file.fileno()
    try:
        while data := reader.read(_WRITE_SIZE):
            view = memoryview(data)
            while view:
                count = write_at(descriptor, view, offset)
                offset += count
                view = view[count:]
            written(len(data))
    finally:
        reader.close()
