"""`BatchVerbs`: `Session.many` and `Session.iter_many`, many operations in few requests.

The operations are planned (`_plans.batch`), grouped into batch requests of at most 1,000
operations, and sent by two bounded pools of worker threads: one for batch requests, one
for uploads too big for a batch. Workers hand results to the caller's thread in small
groups through a bounded queue (`_batch_outbox`), so results are consumed (and progress
reported) on the caller's thread. When the caller stops early, the requests in flight are
waited for and the objects of keyless puts it never received are deleted.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, cast

from objectstore_client import _validation, _zstd
from objectstore_client._batch_outbox import QUEUE_SIZE, FlushingReader, Group, Item, Outbox
from objectstore_client._download import Payload
from objectstore_client._outcome import upload_error
from objectstore_client._plans import batch as plans
from objectstore_client._plans import batch_answer as answers
from objectstore_client._put import send_put
from objectstore_client._session_base import SessionBase
from objectstore_client.batch import (
    BatchResults,
    Delete,
    ObjectData,
    Operation,
    OperationResult,
    Put,
)
from objectstore_client.errors import InvalidArgumentType, ObjectstoreError, ProtocolError
from objectstore_client.metadata import Metadata
from objectstore_client.progress import Progress, ProgressCallback

__all__ = ["DEFAULT_MAX_BATCHES", "DEFAULT_MAX_REQUESTS", "BatchVerbs"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCHES = 3
"""Batch requests in flight at once (the Rust client's default)."""

DEFAULT_MAX_REQUESTS = 5
"""Individual upload requests in flight at once (the Rust client's default)."""


class BatchVerbs(SessionBase):
    """The batch verbs of `Session`."""

    def many(
        self,
        operations: Sequence[Operation],
        *,
        max_batches: int = DEFAULT_MAX_BATCHES,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        progress: ProgressCallback | None = None,
    ) -> BatchResults:
        """Runs many get, head, put and delete operations in few requests.

        Operations go through the batch endpoint (protocol §10), at most 1,000 and
        100 MiB of payload per request, with up to `max_batches` requests in flight; as
        the answer is read once the request is sent, a request also carries at most
        64 KiB of head and get parts and of insert and delete answers (a few hundred
        operations of short keys). Puts whose
        contents may not fit a batch part after compression (over about 1 MiB, or file
        objects) are sent as their own requests, up to `max_requests` at once. Operations
        of one request run in no particular order on the server: do not put and get the
        same key in one call.

        Nothing raises for a failed operation: every result carries its value or typed
        error (`ObjectNotFound`, `RateLimited`, ...); call
        `results.error_for_failures()` to raise `BatchFailed` if any failed. If a whole
        batch request fails (a network error, an error status), each of its unanswered
        operations fails with that error. Batch requests are retried like a `put` (every
        operation of a batch is idempotent, inserts carrying keys chosen by the client),
        until their answer starts to arrive; uploads sent alone are retried like `put`.

        Get results hold their object in memory: use `iter_many` to process and drop
        them as they arrive.

        Args:
            operations: `Get`, `Head`, `Put` and `Delete` operations (`objectstore_client.batch`).
            max_batches: Batch requests in flight at once; default 3.
            max_requests: Individual uploads in flight at once; default 5.
            progress: Called on this thread after each finished operation, with payload
                bytes done (put and get sizes) and operation counts; `bytes_total` is
                known only without gets and without file objects to upload. If it
                raises, the call stops as a closed `iter_many` does (puts without a key
                leave nothing behind) and raises that exception.

        Returns:
            One result per operation, in the order of `operations`.

        Raises:
            InvalidArgument: No operations, a setting below 1, or an operation breaks a
                rule (the message names its position); raised before any request.
            InvalidArgumentType: An operation is of the wrong type, or `progress` is not
                callable.
            Exception: Whatever a `Put`'s file object raised while being read, unchanged.
        """
        planned, run = self._start(operations, max_batches, max_requests, progress)
        slots: list[OperationResult | None] = [None] * len(operations)
        try:
            for result in run:
                slots[result.index] = result
        except BaseException:
            # The results gathered so far never reach the caller either.
            run.close()
            self._delete_unreceived(planned, [result for result in slots if result is not None])
            raise
        return BatchResults(tuple(result for result in slots if result is not None))

    def iter_many(
        self,
        operations: Sequence[Operation],
        *,
        max_batches: int = DEFAULT_MAX_BATCHES,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        progress: ProgressCallback | None = None,
    ) -> Generator[OperationResult, None, None]:
        """Like `many`, but yields results as they complete (`result.index` says whose).

        The operations are validated now, before the first result is asked for. Closing
        the iterator early (leaving its loop, or an exception from `progress`) cancels
        the requests not yet sent and waits for those in flight; then what puts without
        a key stored under keys whose results were never yielded is deleted (a key that
        cannot be deleted is logged as a warning), so no object stays under a key
        nobody received.
        """
        return self._start(operations, max_batches, max_requests, progress)[1]

    def _start(
        self,
        operations: Sequence[Operation],
        max_batches: int,
        max_requests: int,
        progress: ProgressCallback | None,
    ) -> tuple[list[plans.PlannedOperation], Generator[OperationResult, None, None]]:
        """Validates the arguments (before any request) and returns the plan and its run."""
        planned = plans.plan_operations(self._context.usecase, operations)
        batches_in_flight = _validation.check_count(max_batches, "max_batches", 1)
        requests_in_flight = _validation.check_count(max_requests, "max_requests", 1)
        if progress is not None and not callable(progress):
            raise InvalidArgumentType(
                "progress", f"must be callable or None, got {type(progress).__name__}"
            )
        run = self._run(list(operations), planned, batches_in_flight, requests_in_flight, progress)
        return planned, run

    def _run(
        self,
        operations: list[Operation],
        planned: list[plans.PlannedOperation],
        max_batches: int,
        max_requests: int,
        progress: ProgressCallback | None,
    ) -> Generator[OperationResult, None, None]:
        batches, alone = plans.group(planned)
        results: queue.Queue[Item] = queue.Queue(QUEUE_SIZE)
        stop = threading.Event()
        # Results that never reached the caller: taken from the queue but not yet yielded,
        # and those workers produced after the caller stopped.
        unclaimed: collections.deque[OperationResult] = collections.deque()
        unsent: list[Group] = []

        def guarded(work: Callable[[Outbox], None]) -> None:
            outbox = Outbox(results, stop, unsent)
            try:
                work(outbox)
                outbox.flush()
            except BaseException as exc:  # re-raised on the caller's thread
                outbox.put(exc)

        # Known in advance only when every payload is: no gets, no file objects to upload.
        unknown = any(
            operation.kind == "get" or (operation.put is not None and _size(operation) is None)
            for operation in planned
        )
        total = None if unknown else sum(_size(operation) or 0 for operation in planned)
        # Pool threads end with the call, so their compression contexts can be reused for
        # bodies of every size without being kept for longer.
        batch_pool = ThreadPoolExecutor(
            max_batches,
            thread_name_prefix="objectstore-batch",
            initializer=_zstd.reuse_context_for_any_size,
        )
        request_pool = ThreadPoolExecutor(
            max_requests,
            thread_name_prefix="objectstore-put",
            initializer=_zstd.reuse_context_for_any_size,
        )
        finished = False
        try:
            for batch in batches:
                batch_pool.submit(guarded, partial(self._send_batch, operations, batch))
            for operation in alone:
                request_pool.submit(guarded, partial(self._send_alone, operations, operation))
            done = done_bytes = 0
            while done < len(planned):
                item = results.get()
                if isinstance(item, BaseException):
                    raise item
                unclaimed.extend(result for result, _ in item)
                for result, size in item:
                    done += 1
                    done_bytes += size
                    if progress is not None:
                        progress(Progress(done_bytes, total, done, len(planned)))
                    unclaimed.popleft()
                    yield result
            finished = True
        finally:
            stop.set()
            # Stopped early, the requests in flight are waited for (requests not started
            # are cancelled), so that what they stored under keys the caller never
            # received can be deleted.
            batch_pool.shutdown(wait=not finished, cancel_futures=True)
            request_pool.shutdown(wait=not finished, cancel_futures=True)
            if not finished:
                while True:
                    try:
                        item = results.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(item, BaseException):
                        unclaimed.extend(result for result, _ in item)
                unclaimed.extend(result for group in unsent for result, _ in group)
                self._delete_unreceived(planned, unclaimed)

    def _delete_unreceived(
        self, planned: list[plans.PlannedOperation], unclaimed: Iterable[OperationResult]
    ) -> None:
        """Deletes what puts without a key may have stored under keys the caller never got.

        Their keys were chosen here (`objects.new_key`); the caller only learns them from
        a result. Puts that provably stored nothing are left alone. Keys that cannot be
        deleted are logged, so that someone has them.
        """
        keys = [
            planned[result.index].key
            for result in unclaimed
            if isinstance(result.operation, Put)
            and not result.operation.key  # None or "": a key chosen here
            and (result.error is None or result.error.stored is not False)
        ]
        if not keys:
            return
        try:
            outcomes = self.many([Delete(key) for key in keys])
        except Exception:
            # Not a reason to replace the caller's exception; at interpreter exit, thread
            # pools refuse work (RuntimeError) when an unclosed iterator is finalized.
            logger.warning("could not delete objects under keys no caller received", exc_info=True)
            outcomes = None
        failed = [
            key
            for index, key in enumerate(keys)
            if outcomes is None or outcomes[index].error is not None
        ]
        for key in failed:
            logger.warning("may have left an object under key %r, which no caller received", key)

    def _send_batch(
        self, operations: list[Operation], batch: list[plans.PlannedOperation], outbox: Outbox
    ) -> None:
        context = self._context
        request, _ = plans.plan_batch(batch)
        path = context.target(request)
        answered: set[int] = set()
        try:
            with context.measure("batch", None):
                response, _ = context.send(request, path)
            with Payload(
                response, decompress=False, translate=context.translator("POST", path)
            ) as payload:
                # Inside: an answer refused here closes its connection like any other.
                boundary = answers.response_boundary(response.headers.get("content-type", ""))
                source = cast(IO[bytes], FlushingReader(cast(IO[bytes], payload), outbox))
                for part in answers.iter_parts(source, boundary):
                    position = answers.part_index(part)
                    if not 0 <= position < len(batch) or position in answered:
                        raise ProtocolError(f"batch answer part with a stray index {position}")
                    operation = batch[position]
                    value, error = answers.read_part(part, operation, path)
                    answered.add(position)
                    size = len(value.data) if isinstance(value, ObjectData) else 0
                    outbox.add(
                        _result(operations, operation, value, error),
                        size + (_size(operation) or 0),
                    )
            failure: ObjectstoreError = ProtocolError(
                f"POST {path}: the batch answer has no result for this operation"
            )
        except ObjectstoreError as exc:
            failure = exc
        for position, operation in enumerate(batch):
            if position not in answered:
                outbox.add(_result(operations, operation, None, failure), 0)

    def _send_alone(
        self, operations: list[Operation], operation: plans.PlannedOperation, outbox: Outbox
    ) -> None:
        put = operation.put
        assert put is not None
        try:
            key, body = send_put(self._context, put)
        except ObjectstoreError as exc:
            outbox.add(_result(operations, operation, None, exc), 0)
            return
        outbox.add(_result(operations, operation, key, None), body.uncompressed_size if body else 0)


def _result(
    operations: list[Operation],
    operation: plans.PlannedOperation,
    value: ObjectData | Metadata | str | None,
    error: ObjectstoreError | None,
) -> OperationResult:
    if error is not None and operation.kind == "insert":
        error = upload_error(error, operation.key)
    return OperationResult(operation.index, operations[operation.index], value, error)


def _size(operation: plans.PlannedOperation) -> int | None:
    """The uncompressed payload bytes of a put held in memory; 0 for other operations.

    `None` for a put of a file object, whose size is known only once it is sent.
    """
    if operation.put is None or operation.put.request.body is None:
        return 0
    contents = operation.put.request.body.contents
    if isinstance(contents, bytes | bytearray | memoryview):
        return memoryview(contents).nbytes
    return None
