"""A one-line progress bar on stderr, shown only on a terminal and for large transfers."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from objectstore_client.progress import Progress as SdkProgress
from objectstore_client.progress import ProgressCallback

THRESHOLD = 4 * 1024 * 1024
"""Transfers smaller than this (4 MiB) show no bar: they finish before one is useful."""

_REDRAW_SECONDS = 0.1
_WIDTH = 30


def wanted(stream: TextIO | None = None) -> bool:
    """Whether to draw at all: stderr is a terminal and `OBJECTSTORE_NO_PROGRESS` is unset."""
    stream = stream or sys.stderr
    try:
        return stream.isatty() and not os.environ.get("OBJECTSTORE_NO_PROGRESS")
    except ValueError:
        return False


def _mib(count: int) -> str:
    return f"{count / 1048576:.1f} MiB"


class Progress:
    """Counts transferred bytes and redraws a bar at most ten times a second.

    With a known `total` below `THRESHOLD`, nothing is drawn; with an unknown one, the bar
    (bytes and rate, no percentage) appears once `THRESHOLD` bytes have passed.
    """

    def __init__(
        self, label: str, total: int | None, *, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self._label = label
        self._total = total
        self._stream = stream or sys.stderr
        self._enabled = enabled and (total is None or total >= THRESHOLD)
        self._done = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._drawn = False
        # Several uploads of one `put -r` report to one bar from their threads.
        self._lock = threading.Lock()

    def advance(self, count: int) -> None:
        """Adds `count` transferred bytes (negative when a transfer restarts)."""
        with self._lock:
            self._done += count
            if not self._enabled or self._done < (THRESHOLD if self._total is None else 0):
                return
            now = time.monotonic()
            if now - self._drawn_at >= _REDRAW_SECONDS:
                self._draw(now)

    def _draw(self, now: float) -> None:
        self._drawn_at = now
        elapsed = max(now - self._started, 1e-6)
        rate = f"{self._done / elapsed / 1048576:.1f} MiB/s"
        if self._total:
            fraction = min(self._done / self._total, 1.0)
            filled = int(fraction * _WIDTH)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            line = (
                f"{self._label} [{bar}] {fraction:4.0%} "
                f"{_mib(self._done)}/{_mib(self._total)} {rate}"
            )
        else:
            line = f"{self._label} {_mib(self._done)} {rate}"
        self._stream.write("\r" + line + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def callback(self) -> ProgressCallback:
        """A `progress=` callback for one SDK transfer, adding its bytes to this bar.

        Each transfer reports its own running count; several (one per file of a
        `put -r`) add up here. A total the transfer learns (a download's size) becomes
        this bar's total if it had none.
        """
        reported = 0

        def report(update: SdkProgress) -> None:
            nonlocal reported
            if self._total is None and update.bytes_total and not self._drawn:
                self._total = update.bytes_total
                self._enabled = self._enabled and update.bytes_total >= THRESHOLD
            self.advance(update.bytes_done - reported)
            reported = update.bytes_done

        return report

    def finish(self) -> None:
        """Draws the final state and ends the line, if a bar was ever drawn."""
        with self._lock:
            if self._drawn:
                self._draw(time.monotonic())
                self._stream.write("\n")
                self._stream.flush()
