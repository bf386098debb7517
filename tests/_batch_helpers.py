"""Helpers for the tests of `Session.many`: its worker threads, and a hand-written server."""

from __future__ import annotations

import socket
import threading
import time


def wait_for_batch_workers(seconds: float = 20) -> None:
    """Waits until the batch worker threads have ended: after that nothing more is sent."""
    deadline = time.monotonic() + seconds
    while any(
        thread.name.startswith(("objectstore-batch", "objectstore-put"))
        for thread in threading.enumerate()
    ):
        assert time.monotonic() < deadline, "batch workers still running"
        time.sleep(0.01)


def receive_chunked_request(conn: socket.socket) -> bytes | None:
    """Reads a batch request (chunked) to its end; `None` if the client closed first."""
    received = b""
    while not received.endswith(b"0\r\n\r\n"):  # the end of the chunked request
        data = conn.recv(65536)
        if not data:
            return None
        received += data
    return received
