"""Progress reports of long operations: `Progress` and the `ProgressCallback` type.

`put`, `get`, `upload_file`, `download_file` and `many` take `progress=`, a callable that
receives a `Progress` after each step. It is always called on the thread that called the
operation (for `get`, the thread reading the payload), never on a worker thread, so it
may update a UI or a variable without locks. It should return quickly: the transfer
waits for it. An exception it raises propagates out of the operation, aborting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Progress", "ProgressCallback"]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an operation has come."""

    bytes_done: int
    """Payload bytes transferred so far (uncompressed: what the caller reads or writes)."""

    bytes_total: int | None
    """The payload bytes the operation will transfer, when known in advance."""

    operations_done: int | None = None
    """For `many`: operations finished (successfully or not); `None` otherwise."""

    operations_total: int | None = None
    """For `many`: the number of operations; `None` otherwise."""


ProgressCallback = Callable[[Progress], object]
"""Receives a `Progress` after each step; its return value is ignored."""
