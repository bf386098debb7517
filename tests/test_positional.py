"""Positional file I/O (`_positional`): the POSIX calls, and the stand-in for platforms without.

The stand-in (a seek and a read or write under one lock, for Windows) is exercised here by
switching the POSIX calls off.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from objectstore_client import _positional
from objectstore_client.transfers import MIN_PART_SIZE, TransferConfig

MIB = 1024 * 1024


@pytest.fixture(params=["posix", "stand-in"])
def io_mode(request, monkeypatch):
    if request.param == "stand-in":
        monkeypatch.setattr(_positional, "_POSITIONAL", False)
    return request.param


def test_threads_read_and_write_at_their_own_offsets(tmp_path, io_mode):
    blocks = [os.urandom(64 * 1024 + n) for n in range(16)]
    offsets = [sum(map(len, blocks[:n])) for n in range(len(blocks))]
    path = tmp_path / "f"
    path.write_bytes(b"")
    descriptor = os.open(path, os.O_RDWR)
    try:

        def write(index: int) -> None:
            view = memoryview(blocks[index])
            written = 0
            while written < len(view):
                written += _positional.write_at(
                    descriptor, view[written:], offsets[index] + written
                )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, reversed(range(len(blocks)))))
        assert path.read_bytes() == b"".join(blocks)

        def read(index: int) -> bytes:
            view = memoryview(bytearray(len(blocks[index])))
            assert _positional.read_into_at(descriptor, view, offsets[index]) == len(view)
            assert _positional.read_at(descriptor, 10, offsets[index]) == blocks[index][:10]
            return bytes(view)

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(read, range(len(blocks)))) == blocks
        assert _positional.read_at(descriptor, 10, sum(map(len, blocks))) == b""
    finally:
        os.close(descriptor)


def test_upload_and_parallel_download_of_a_file(session, tmp_path, io_mode):
    data = os.urandom(2 * MIN_PART_SIZE + 12345)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=3)
    for compression in (None, "none"):
        session.upload_file(source, "positional", config=config, compression=compression)
        target = tmp_path / "out.bin"
        session.download_file("positional", target, config=config)
        assert target.read_bytes() == data
