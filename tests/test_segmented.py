"""Large in-memory uploads compressed in segments while they are sent (`_segmented`).

What must hold: the object reads back whole and stored zstd as whole frames each
declaring its size and carrying a checksum; a replay sends the same bytes again; the
sizes reach the metrics; no compression thread outlives the upload.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading

import pytest
import zstandard

from objectstore_client import Client, Usecase
from objectstore_client._segmented import SEGMENT_SIZE, SEGMENTED_MIN
from objectstore_client._zstd_frames import declared_sizes, is_whole_frames
from objectstore_client.errors import TransportError
from tests.test_metrics import Recorder

LINE = b'{"level":"info","msg":"request served","ms":'
DATA = b"".join(LINE + b"%d}\n" % random.Random(3).randrange(10**6) for _ in range(300_000))
NOISE = random.Random(4).randbytes(SEGMENTED_MIN + 12345)


def _frames(stored: bytes) -> list[int]:
    """The content size each frame of `stored` declares, checking each has a checksum."""
    sizes = []
    reader = zstandard.ZstdDecompressor()
    rest = stored
    while rest:
        params = zstandard.get_frame_parameters(rest)
        assert params.has_checksum
        sizes.append(params.content_size)
        obj = reader.decompressobj()
        obj.decompress(rest)
        rest = obj.unused_data
    return sizes


def _no_workers() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("objectstore-zstd")]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("contents", [DATA, NOISE], ids=["text", "noise"])
def test_a_large_upload_is_stored_as_frames_of_segments(session, kind, contents):
    assert len(contents) >= SEGMENTED_MIN
    key = session.put(kind(contents), key="large")
    assert session.get(key).payload.read() == contents
    stored = session.get(key, decompress=False).payload.read()
    assert is_whole_frames(stored)
    sizes = _frames(stored)
    assert sum(sizes) == len(contents)
    assert sizes[:-1] == [SEGMENT_SIZE] * (len(sizes) - 1)
    assert _no_workers()


def test_below_the_threshold_one_frame_with_content_length(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, '{"key":"k"}'))
    small = DATA[: SEGMENTED_MIN - 1]
    with Client(server.url) as client:
        client.session(Usecase("u"), org=1).put(small, key="k")
    (request,) = server.requests
    assert not request.chunked
    assert request.headers["content-length"] == str(len(request.body))
    assert len(_frames(request.body)) == 1


def test_a_replayed_large_upload_sends_the_same_bytes(scripted):
    def script(request, index):
        if index == 0:
            return scripted.Reply(503, {"Retry-After": "0"})
        return scripted.json_reply(200, '{"key":"k"}')

    server = scripted.start(script)
    with Client(server.url) as client:
        client.session(Usecase("u"), org=1).put(DATA, key="k")
    first, second = server.requests
    assert first.chunked
    assert second.chunked
    assert first.headers["content-encoding"] == "zstd"
    assert first.body == second.body
    decoded = (
        zstandard.ZstdDecompressor().stream_reader(second.body, read_across_frames=True).read()
    )
    assert decoded == DATA
    assert _no_workers()


def test_an_upload_cut_by_the_server_leaves_no_worker_behind(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(drop=True))
    with Client(server.url, retries=0) as client, pytest.raises(TransportError):
        client.session(Usecase("u"), org=1).put(NOISE, key="k")
    assert _no_workers()


def test_the_sizes_reach_the_metrics(objectstore_url, objectstore_usecase):
    backend = Recorder()
    with Client(objectstore_url, metrics_backend=backend) as client:
        client.session(Usecase(objectstore_usecase), org=1).put(DATA, key="metered")
    sizes = backend.named("storage.put.size")
    assert sizes[0][1] == len(DATA)
    assert sizes[1][2]["compression"] == "zstd"
    assert 0 < sizes[1][1] < len(DATA) / 3


@pytest.mark.parametrize("seed", range(4))
def test_the_frame_scanner_sums_the_sizes_frames_declare(seed):
    # Whole reads size their buffer from this sum (`_download._decode_whole`): every way a
    # frame header may state its size (1, 2 with its 256 offset, 4 or 8 bytes, or not at
    # all), read in pieces cut anywhere.
    rng = random.Random(seed)
    sizes = [0, 1, 255, 256, 257, 65_535, 65_791, 65_792, 100_000, 1 << 20]
    frames, total = [], 0
    for size in rng.sample(sizes, 6):
        data = rng.randbytes(size // 2) + bytes(size - size // 2)
        frames.append(zstandard.ZstdCompressor(write_checksum=True).compress(data))
        total += size
    stream = b"".join(frames)
    cuts = sorted(rng.sample(range(1, len(stream)), 20))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    scanned = declared_sizes(pieces)
    assert scanned.frames == 6
    assert scanned.declared == total
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"x" * 1000)
    assert declared_sizes([stream, unsized]).declared is None


def test_an_upload_cut_midway_leaves_no_worker_behind_while_its_error_is_kept():
    # The server takes the head and some of the body, then resets the connection. urllib3
    # stops iterating the body but does not close it: the generator stayed suspended,
    # with its 2 compression threads and the segments compressed ahead, for as long as
    # the caller kept the error (its traceback holds the generator).
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            received = 0
            while received < 256 * 1024:
                data = connection.recv(65536)
                if not data:
                    break
                received += len(data)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    kept = []
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, retries=0) as client, pytest.raises(TransportError) as caught:
            client.session(Usecase("u"), org=1).put(NOISE, key="k")
        kept.append(caught.value)  # a caller keeping the error (logging, a list)
        assert caught.value.stored is None
        assert _no_workers()
    finally:
        listener.close()
        server.join(5)
