"""`_write_behind.WriteBehind`: ordered writes on a thread of its own, errors handed back."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from objectstore_client._write_behind import BUFFER_SIZE, BUFFERS, WriteBehind


def _writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "objectstore-write"]


def test_buffers_are_written_in_order_and_recycled(tmp_path):
    path = tmp_path / "out"
    pieces = [bytes([n]) * (BUFFER_SIZE - n) for n in range(4 * BUFFERS)]
    seen: set[int] = set()
    with path.open("wb") as file, WriteBehind(file.fileno()) as writer:
        for piece in pieces:
            buffer = writer.take()
            seen.add(id(buffer))
            buffer[: len(piece)] = piece
            writer.give(buffer, len(piece))
    assert path.read_bytes() == b"".join(pieces)
    assert writer.written == sum(map(len, pieces))
    assert len(seen) == BUFFERS  # no buffer allocated beyond the first ones
    assert not _writer_threads()


def _fill_all(writer: WriteBehind, rounds: int) -> None:
    with writer:
        for _ in range(rounds):
            writer.give(writer.take(), 10)


def test_a_failed_write_is_raised_on_the_callers_thread(tmp_path):
    path = tmp_path / "read-only"
    path.write_bytes(b"")
    descriptor = os.open(path, os.O_RDONLY)  # os.write on it fails
    try:
        with pytest.raises(OSError, match="Bad file descriptor"):
            _fill_all(WriteBehind(descriptor), 2 * BUFFERS)
    finally:
        os.close(descriptor)
    assert not _writer_threads()


def _fail_while_filling(writer: WriteBehind) -> None:
    with writer:
        writer.give(writer.take(), 5)
        raise KeyError("decoding failed")


def test_an_error_in_the_block_stops_the_writer_without_raising_its_own(tmp_path):
    descriptor = os.open(tmp_path / "x", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(KeyError, match="decoding failed"):
            _fail_while_filling(WriteBehind(descriptor))
    finally:
        os.close(descriptor)
    assert not _writer_threads()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_an_interrupt_while_waiting_for_the_writer_never_reaches_another_file(tmp_path):
    # A pipe holds 64 KiB, so the writer blocks in os.write until it is drained; a timer
    # interrupts the caller's thread while the block's end waits for the writer.
    read_end, write_end = os.pipe()
    writer = WriteBehind(write_end)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            _fill_all_with(writer, [bytes([65 + n]) * BUFFER_SIZE for n in range(3)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    # The caller closes its file; the next file opened may get the same number.
    os.close(write_end)
    other = os.open(tmp_path / "other", os.O_WRONLY | os.O_CREAT)
    drained = threading.Thread(target=lambda: _drain(read_end), daemon=True)
    drained.start()
    drained.join(timeout=10)  # the pipe's last write end closed: the writer is done with it
    # Time for a writer that went on to write the queued buffers somewhere (the code
    # before wrote 2 MiB into `other` here). `join` cannot tell: after an interrupted
    # `join` Python 3.11 reports the thread ended while it runs.
    time.sleep(0.5)
    os.close(other)
    os.close(read_end)
    assert (tmp_path / "other").read_bytes() == b""


def _fill_all_with(writer: WriteBehind, pieces: list[bytes]) -> None:
    with writer:
        for piece in pieces:
            buffer = writer.take()
            buffer[: len(piece)] = piece
            writer.give(buffer, len(piece))


def _drain(descriptor: int) -> None:
    try:
        while os.read(descriptor, 1 << 20):
            pass
    except OSError:
        pass
