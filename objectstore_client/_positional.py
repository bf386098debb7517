"""Positional file I/O (`pread`, `pwrite`), with a stand-in where the OS has none (Windows).

Several threads read or write one file at different offsets: the parallel ranges of a
download, the local server streaming several ranges of one stored blob. POSIX has calls
that take the offset and leave the file position alone; elsewhere a seek and a read or
write, done under one lock, stand in for them.
"""

from __future__ import annotations

import os
import threading

__all__ = ["read_at", "read_into_at", "write_at"]

_POSITIONAL = hasattr(os, "pread") and hasattr(os, "pwrite")
_VECTORED = hasattr(os, "preadv")
# Where the stand-in is used, every seek and the read or write after it belong together.
_lock = threading.Lock()


def read_at(descriptor: int, size: int, offset: int) -> bytes:
    """Up to `size` bytes of the file from `offset` (fewer at its end); the position stays."""
    if _POSITIONAL:
        return os.pread(descriptor, size, offset)
    with _lock:
        os.lseek(descriptor, offset, os.SEEK_SET)
        return os.read(descriptor, size)


def read_into_at(descriptor: int, view: memoryview, offset: int) -> int:
    """Reads into `view` from `offset`, without a copy where the OS allows; the count read."""
    if _POSITIONAL and _VECTORED:
        return os.preadv(descriptor, [view], offset)
    data = read_at(descriptor, len(view), offset)
    view[: len(data)] = data
    return len(data)


def write_at(descriptor: int, data: memoryview, offset: int) -> int:
    """Writes `data` (or its start) at `offset`; the count written."""
    if _POSITIONAL:
        return os.pwrite(descriptor, data, offset)
    with _lock:
        os.lseek(descriptor, offset, os.SEEK_SET)
        return os.write(descriptor, data)
