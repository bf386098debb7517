from __future__ import annotations

import io

import pytest
import urllib3
import zstandard

from objectstore_client._download import Payload
from objectstore_client.errors import DecodeError, ProtocolError, TransportError

TEXT = b"line one\nline two\n" + b"x" * 200_000 + b"\nlast"


def frames(*parts: bytes) -> bytes:
    return b"".join(zstandard.ZstdCompressor().compress(part) for part in parts)


def translate(exc: Exception) -> TransportError:
    return ProtocolError(str(exc))


def payload(body: bytes, decompress: bool = False) -> Payload:
    response = urllib3.HTTPResponse(body=io.BytesIO(body), preload_content=False)
    return Payload(response, decompress=decompress, translate=translate)


@pytest.mark.parametrize("decompress", [False, True])
def test_read_sizes(decompress):
    body = frames(TEXT[:100], TEXT[100:]) if decompress else TEXT
    stream = payload(body, decompress)
    assert stream.readable()
    assert stream.read(5) == TEXT[:5]
    assert stream.read(150_000) == TEXT[5:150_005]
    assert stream.read() == TEXT[150_005:]
    assert stream.read() == b""
    assert stream.read(10) == b""


def test_multi_frame_zstd_is_read_across_frames():
    assert payload(frames(b"a" * 10, b"b" * 10, b"", b"c"), True).read() == (
        b"a" * 10 + b"b" * 10 + b"c"
    )


def test_lines_and_iteration():
    stream = payload(TEXT)
    assert stream.readline() == b"line one\n"
    assert next(iter(stream)) == b"line two\n"


def test_iter_chunks_readinto_peek_read1():
    stream = payload(TEXT)
    assert stream.peek(3).startswith(b"line")
    buffer = bytearray(4)
    assert stream.readinto(buffer) == 4
    assert buffer == b"line"
    assert len(stream.read1(10)) <= 10
    rest = b"".join(stream.iter_chunks(1000))
    assert TEXT.endswith(rest)
    assert all(len(c) <= 1000 for c in payload(TEXT).iter_chunks(1000))


def test_corrupt_zstd_raises_decode_error():
    with pytest.raises(DecodeError, match="zstd"):
        payload(b"definitely not zstd", True).read()


def test_closed_payload_refuses_reads():
    stream = payload(TEXT)
    stream.close()
    stream.close()
    assert stream.closed
    with pytest.raises(ValueError, match="closed"):
        stream.read()


def test_context_manager_closes():
    with payload(TEXT) as stream:
        stream.read(1)
    assert stream.closed
