from __future__ import annotations

import io
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
import zstandard

from objectstore_client._download import Payload
from objectstore_client.errors import DecodeError, InvalidArgument, ProtocolError, TransportError

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


class CountingResponse(urllib3.HTTPResponse):
    """Records the size of every read of the body."""

    def __init__(self, body: bytes) -> None:
        super().__init__(
            body=io.BytesIO(body),
            preload_content=False,
            status=200,
            headers={"content-length": str(len(body))},
        )
        self.reads: list[int | None] = []

    def read(self, amt=None, *args, **kwargs):
        self.reads.append(amt)
        return super().read(amt, *args, **kwargs)


@pytest.mark.parametrize(
    ("body", "decompress", "expected"),
    [
        pytest.param(frames(TEXT), True, TEXT, id="one-frame"),
        pytest.param(frames(TEXT[:100], TEXT[100:]), True, TEXT, id="two-frames"),
        pytest.param(TEXT, False, TEXT, id="uncompressed"),
    ],
)
def test_whole_read_takes_the_body_in_one_read(body, decompress, expected):
    response = CountingResponse(body)
    stream = Payload(response, decompress=decompress, translate=translate)
    assert stream.read() == expected
    assert response.reads == [len(body)]
    assert response.closed  # the body was read to its end, so the connection is reusable
    assert stream.read() == b""


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param((b"",), id="one-empty-frame"),
        pytest.param((b"", b"after an empty frame"), id="empty-frame-first"),
        pytest.param((b"first", b"", b"third"), id="empty-frame-between"),
        pytest.param((b"x" * 100_000,) * 3, id="three-large-frames"),
    ],
)
def test_whole_read_decodes_every_frame(parts):
    assert payload(frames(*parts), True).read() == b"".join(parts)


@pytest.mark.parametrize("whole", [True, False], ids=["whole", "streamed"])
def test_skippable_frames_are_skipped(whole):
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"meta"
    body = skippable + frames(b"first") + skippable + frames(b"second")
    stream = payload(body, True)
    assert (stream.read() if whole else b"".join(stream.iter_chunks(3))) == b"firstsecond"


def test_whole_read_of_frames_without_content_size():
    compressor = zstandard.ZstdCompressor(write_content_size=False)
    body = compressor.compress(TEXT) + compressor.compress(b"tail")
    assert payload(body, True).read() == TEXT + b"tail"
    streamed = zstandard.ZstdCompressor().stream_reader(io.BytesIO(TEXT)).read()
    assert zstandard.frame_content_size(streamed) == -1
    assert payload(streamed, True).read() == TEXT


def test_whole_read_of_a_frame_with_a_large_window():
    # Above 2 MiB, the thread's reused context refuses the window: a context of its own
    # decodes the frame, and the thread's context keeps working afterwards.
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=23)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    body = compressor.compress(TEXT) + compressor.flush()
    assert zstandard.get_frame_parameters(body).window_size == 8 * 1024 * 1024
    assert payload(body, True).read() == TEXT
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"after")
    assert payload(unsized, True).read() == b"after"


def test_an_empty_body_is_an_empty_object_unless_it_claims_zstd():
    assert payload(b"", False).read() == b""
    # Even an empty object compresses to a frame: an empty zstd body lost its bytes
    # (issue 11).
    with pytest.raises(DecodeError, match="empty"):
        payload(b"", True).read()
    with pytest.raises(DecodeError, match="empty"):
        payload(b"", True).read(10)


def test_whole_read_of_corrupt_frame_raises_decode_error():
    body = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(TEXT))
    body[-1] ^= 0xFF  # breaks the checksum of a frame whose header is valid
    stream = payload(bytes(body), True)
    with pytest.raises(DecodeError, match="zstd"):
        stream.read()


def test_read_after_a_partial_read_streams_the_rest():
    response = CountingResponse(frames(TEXT))
    stream = Payload(response, decompress=True, translate=translate)
    assert stream.read(4) == TEXT[:4]
    assert stream.read() == TEXT[4:]
    assert None not in response.reads


def test_streaming_payloads_are_independent_of_whole_reads_on_the_same_thread():
    # A streaming payload keeps its decompression state between reads; a whole read on
    # the same thread in between must not disturb it.
    first = payload(frames(TEXT), True)
    assert first.read(10) == TEXT[:10]
    assert payload(frames(b"other" * 1000), True).read() == b"other" * 1000
    assert first.read() == TEXT[10:]


def test_whole_reads_from_many_threads():
    bodies = {n: bytes([n]) * (1000 + n * 5000) for n in range(8)}

    def work(n: int) -> bool:
        return all(payload(frames(bodies[n]), True).read() == bodies[n] for _ in range(50))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, bodies))


def _truncations() -> list[bytes]:
    data = bytes(range(256)) * 400
    full = zstandard.ZstdCompressor(write_checksum=True).compress(data)
    return [full[:-1], full[: len(full) // 2], full[:10], full[:4], frames(b"a") + full[:20]]


@pytest.mark.parametrize("body", _truncations())
def test_truncated_zstd_whole_read_raises_decode_error(body):
    with pytest.raises(DecodeError):
        payload(body, True).read()


@pytest.mark.parametrize("body", _truncations())
def test_truncated_zstd_streaming_reads_raise_decode_error(body):
    stream = payload(body, True)
    with pytest.raises(DecodeError, match="ends inside"):  # noqa: PT012
        while stream.read(1000):
            pass


def test_truncated_zstd_upload_fails_to_download(session):
    data = bytes(range(256)) * 400
    full = zstandard.ZstdCompressor().compress(data)
    key = session.put(full[: len(full) // 2], precompressed="zstd")
    with pytest.raises(DecodeError):
        session.get(key).payload.read()
    stream = session.get(key).payload
    with pytest.raises(DecodeError):  # noqa: PT012
        while stream.read(4096):
            pass
    stream.close()


@pytest.mark.parametrize("whole", [True, False])
def test_complete_frames_with_checksums_and_skippable_frames_still_decode(whole):
    skippable = struct.pack("<II", 0x184D2A53, 3) + b"abc"
    body = (
        skippable
        + zstandard.ZstdCompressor(write_checksum=True, write_content_size=False).compress(b"x")
        + zstandard.ZstdCompressor().compress(b"")
        + zstandard.ZstdCompressor(write_checksum=True).compress(b"y" * 300_000)
        + skippable
    )
    stream = payload(body, True)
    if whole:
        assert stream.read() == b"x" + b"y" * 300_000
    else:
        assert b"".join(iter(lambda: stream.read(777), b"")) == b"x" + b"y" * 300_000


@pytest.mark.parametrize("chunk_size", [0, -1])
def test_iter_chunks_of_no_bytes_is_refused(session, chunk_size):
    # iter_chunks(0) yielded nothing for a non-empty object, without an error: a caller
    # joining the chunks got b"" as the whole payload (and -1 chunks of 64 KiB, not -1).
    session.put(b"abc" * 1000, key="chunks", compression="none")
    with session.get("chunks") as got:
        with pytest.raises(InvalidArgument, match="chunk_size"):
            list(got.iter_chunks(chunk_size))
        with pytest.raises(InvalidArgument, match="chunk_size"):
            list(got.payload.iter_chunks(chunk_size))
        assert got.payload.read() == b"abc" * 1000
