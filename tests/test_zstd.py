"""`_zstd.compress_into`: frames compressed into a caller's reused buffer."""

from __future__ import annotations

import os

import pytest
import zstandard

from objectstore_client._zstd import compress_bound, compress_into


@pytest.mark.parametrize("size", [0, 1, 1000, 128 * 1024, 1024 * 1024 + 3])
def test_compress_into_writes_one_whole_frame_with_size_and_checksum(size):
    out = memoryview(bytearray(compress_bound(size)))
    for data in (os.urandom(size), b"a log line\n" * (size // 11) + b"x" * (size % 11)):
        written = compress_into(memoryview(data), out)
        frame = bytes(out[:written])
        parameters = zstandard.get_frame_parameters(frame)
        assert parameters.content_size == size
        assert parameters.has_checksum
        decoder = zstandard.ZstdDecompressor().decompressobj()
        assert decoder.decompress(frame) == data
        assert decoder.eof
        assert decoder.unused_data == b""


def test_compress_into_a_reused_buffer_keeps_nothing_of_the_frame_before():
    out = memoryview(bytearray(compress_bound(64 * 1024)))
    compress_into(memoryview(os.urandom(64 * 1024)), out)
    written = compress_into(memoryview(b"short"), out)
    assert zstandard.ZstdDecompressor().decompress(bytes(out[:written])) == b"short"


def test_compress_into_refuses_an_output_that_may_be_too_small():
    data = memoryview(os.urandom(4096))
    with pytest.raises(ValueError, match="may not hold"):
        compress_into(data, memoryview(bytearray(compress_bound(4096) - 1)))
