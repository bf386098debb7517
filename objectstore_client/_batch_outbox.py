"""The results of `many`'s workers on their way to the caller's thread.

Workers hand results over through a bounded queue, in small groups: a worker passes on
what it has read before it waits for the network again, so the caller's thread wakes once
per group rather than once per result, and at most a few dozen unconsumed results are
held at a time. Once the caller has stopped, what a worker still produces is dropped but
for the put results, which the caller's cleanup needs (see `_batch.BatchVerbs`).
"""

from __future__ import annotations

import queue
import threading
from typing import IO

from objectstore_client.batch import OperationResult, Put

__all__ = ["QUEUE_SIZE", "FlushingReader", "Group", "Item", "Outbox"]

# Groups of results waiting for the caller's thread (workers wait when it is full), and
# the most results in one group: at most 64 unconsumed results queued, as one per item did,
# plus fewer than 16 that each batch worker is gathering.
QUEUE_SIZE = 4
_GROUP_SIZE = 16

Group = list[tuple[OperationResult, int]]
"""Results with the payload bytes each moved."""

Item = Group | BaseException
"""What the queue carries: a group, or a worker's exception for the caller to raise."""


class Outbox:
    """One worker's results on their way to the caller's thread, handed over in groups."""

    def __init__(
        self, results: queue.Queue[Item], stop: threading.Event, unsent: list[Group]
    ) -> None:
        self._results = results
        self._stop = stop
        self._unsent = unsent
        self._group: Group = []

    def put(self, item: Item) -> None:
        """Queues `item`, waiting while the queue is full, unless the caller has stopped.

        Once it has, the put results of a group are kept in `unsent` instead, for the
        cleanup; the rest (objects still arriving) and an exception are dropped.
        """
        while not self._stop.is_set():
            try:
                self._results.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        if not isinstance(item, BaseException):
            self._unsent.append([entry for entry in item if isinstance(entry[0].operation, Put)])

    def add(self, result: OperationResult, size: int) -> None:
        """Adds one result (and its payload bytes); hands the group over once it is full."""
        self._group.append((result, size))
        if len(self._group) >= _GROUP_SIZE:
            self.flush()

    def flush(self) -> None:
        """Hands the results gathered so far to the caller's thread."""
        if self._group:
            group, self._group = self._group, []
            self.put(group)


class FlushingReader:
    """A batch answer's stream that hands gathered results over before each read.

    A read may wait for the network, so no result waits behind it.
    """

    def __init__(self, source: IO[bytes], outbox: Outbox) -> None:
        self._source = source
        self._outbox = outbox

    def read(self, size: int = -1) -> bytes:
        """Hands over the results gathered, then reads from the answer."""
        self._outbox.flush()
        return self._source.read(size)
