from __future__ import annotations

import array
import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import zstandard

from objectstore_client import Client, Usecase
from objectstore_client._upload import BufferBody, SourceError, StreamBody, prepare_body
from objectstore_client.errors import InvalidArgumentType

DATA = b"objectstore " * 20_000


def drain(body: StreamBody, size: int = 16384) -> bytes:
    parts = []
    while chunk := body.read(size):
        parts.append(chunk)
    return b"".join(parts)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param(DATA, id="bytes"),
        pytest.param(bytearray(DATA), id="bytearray"),
        pytest.param(memoryview(DATA), id="memoryview"),
        pytest.param(memoryview(DATA)[::1], id="memoryview-slice"),
    ],
)
def test_buffer_body_compresses_in_memory(contents):
    body = prepare_body(contents, "zstd")
    assert isinstance(body, BufferBody)
    assert body.replayable
    assert body.uncompressed_size == len(DATA)
    wire = bytes(body.open())
    assert body.compressed_size == len(wire) < len(DATA)
    assert decompress(wire) == DATA
    assert body.open() is body.open()


def test_buffer_body_uncompressed_is_sent_as_is():
    body = BufferBody(bytearray(DATA), "none")
    assert bytes(body.open()) == DATA
    assert (body.uncompressed_size, body.compressed_size) == (len(DATA), None)


def test_buffer_body_accepts_any_buffer_format():
    numbers = array.array("i", range(1000))
    body = BufferBody(memoryview(numbers), "none")
    assert bytes(body.open()) == numbers.tobytes()
    assert body.uncompressed_size == len(numbers.tobytes())
    strided = memoryview(bytes(range(100)))[::2]
    assert bytes(BufferBody(strided, "none").open()) == bytes(range(0, 100, 2))


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_stream_body_counts_what_it_reads_and_sends(compression):
    source = io.BytesIO(b"skip" + DATA)
    source.seek(4)
    body = prepare_body(source, compression)
    assert isinstance(body, StreamBody)
    wire = drain(body)
    assert body.uncompressed_size == len(DATA)
    if compression == "zstd":
        assert decompress(wire) == DATA
        assert body.compressed_size == len(wire)
    else:
        assert wire == DATA
        assert body.compressed_size is None
    assert body.tell() == len(wire)


def test_seekable_stream_rewinds_to_its_start_and_recompresses():
    source = io.BytesIO(b"skip" + DATA)
    source.seek(4)
    body = StreamBody(source, "zstd")
    assert body.replayable
    first = drain(body)
    assert body.open() is body
    assert body.tell() == 0
    assert drain(body) == first
    assert body.uncompressed_size == len(DATA)


def test_non_seekable_stream_rewinds_only_before_reading():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"pipe")
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        body = StreamBody(pipe, "none")
        assert not body.replayable
        assert body.seek(0) == 0
        assert body.read(2) == b"pi"
        with pytest.raises(OSError, match="non-seekable"):
            body.seek(0)
        assert drain(body) == b"pe"


def test_stream_body_only_rewinds_to_the_start():
    body = StreamBody(io.BytesIO(b"x"), "none")
    with pytest.raises(OSError, match="start"):
        body.seek(1)


def test_source_errors_are_wrapped_for_the_transport():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError("disk on fire")

    body = StreamBody(io.BufferedReader(Broken()), "zstd")
    with pytest.raises(SourceError) as info:
        body.read(10)
    assert str(info.value.original) == "disk on fire"


def test_text_and_non_blocking_sources_are_refused_mid_stream():
    class Text:
        def read(self, size=-1):
            return "text"

    with pytest.raises(SourceError) as info:
        StreamBody(Text(), "none").read(1)  # type: ignore[arg-type]
    assert isinstance(info.value.original, InvalidArgumentType)

    class NonBlocking:
        def read(self, size=-1):
            return None

    with pytest.raises(SourceError) as info:
        StreamBody(NonBlocking(), "none").read(1)  # type: ignore[arg-type]
    assert isinstance(info.value.original, BlockingIOError)


def test_empty_stream():
    body = StreamBody(io.BytesIO(), "zstd")
    assert decompress(drain(body)) == b""
    assert body.uncompressed_size == 0


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(1024, id="reused-context"),
        pytest.param(64 * 1024, id="reused-context-limit"),
        pytest.param(64 * 1024 + 1, id="own-context"),
    ],
)
def test_buffer_body_frame_records_size_and_checksum(size):
    contents = os.urandom(size)
    wire = bytes(BufferBody(contents, "zstd").open())
    assert zstandard.frame_content_size(wire) == size
    assert zstandard.get_frame_parameters(wire).has_checksum
    assert decompress(wire) == contents


def test_buffer_bodies_from_many_threads():
    contents = {n: os.urandom(100 + n * 9000) for n in range(8)}

    def work(n: int) -> bool:
        return all(
            decompress(bytes(BufferBody(contents[n], "zstd").open())) == contents[n]
            for _ in range(50)
        )

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, contents))


def test_buffer_body_between_reads_of_a_stream_body_on_the_same_thread():
    # A streaming body keeps its compression state between reads; compressing a buffer
    # on the same thread in between must not disturb it.
    stream = StreamBody(io.BytesIO(DATA), "zstd")
    first = stream.read(100)
    assert decompress(bytes(BufferBody(b"other" * 1000, "zstd").open())) == b"other" * 1000
    assert decompress(first + drain(stream)) == DATA


def test_seekable_uncompressed_stream_is_sent_with_content_length(scripted, tmp_path):
    reply = '{"key": "k"}'
    server = scripted.start(lambda request, index: scripted.json_reply(200, reply))
    path = tmp_path / "source"
    path.write_bytes(b"skip" + b"f" * 100_000)
    buffer = io.BytesIO(b"skip" + b"b" * 70_000)
    buffer.seek(4)
    with Client(server.url) as client, path.open("rb") as file:
        file.seek(4)
        session = client.session(Usecase("u"))
        session.put(buffer, key="k", compression="none")
        session.put(file, key="k", compression="none")
        session.put(io.BytesIO(zstandard.compress(b"z" * 1000)), key="k", precompressed="zstd")
        session.put(io.BytesIO(b"compressed on the fly"), key="k")
    from_buffer, from_file, precompressed, compressed = server.requests
    for request, size in ((from_buffer, 70_000), (from_file, 100_000)):
        assert request.headers["content-length"] == str(size)
        assert "transfer-encoding" not in request.headers
        assert request.body == (b"b" if request is from_buffer else b"f") * size
    assert not precompressed.chunked
    assert compressed.chunked


def test_sized_stream_body_sends_exactly_the_size_it_announced():
    class Growing(io.BytesIO):
        def read(self, size=-1):
            return super().read(size) + b"!"  # never ends, and more than announced

    grown = StreamBody(Growing(b"abc"), "none")
    assert grown.content_length == 3
    assert grown.open().read() == b"abc"
    assert grown.read() == b""

    class Shrinking(io.BytesIO):
        def read(self, size=-1):
            return b""

    shrunk = StreamBody(Shrinking(b"abc"), "none")
    with pytest.raises(SourceError, match="ended after 0 of the 3 bytes"):
        shrunk.open().read(10)
