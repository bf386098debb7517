"""`_write_behind.WriteBehind`: ordered writes on a thread of its own, errors handed back."""

from __future__ import annotations

import os
import threading

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
