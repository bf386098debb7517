"""Large objects streamed through `Payload`, over real HTTP.

Objects of several zstd frames (uploads from 8 MiB are compressed in segments) and
uncompressed ones, read in pieces of every size: the same bytes, resumption and typed
errors as for small ones, and no connection left behind when a payload is closed early,
dropped unclosed, or stalls.
"""

from __future__ import annotations

import gc
import hashlib
import random
import time

import pytest
import zstandard

from objectstore_client import Client, Usecase
from objectstore_client.errors import ProtocolError
from tests.test_download_integrity import _range_start, _serving

# Half random, half zeros: about 12 MiB stored uncompressed, 6 MiB of it zstd.
DATA = random.Random(5).randbytes(6 << 20) + bytes(6 << 20)
STORED = zstandard.ZstdCompressor(write_checksum=True).compress(DATA)
# Uncompressible: stored zstd, it is still 12 MiB of several frames.
NOISE = random.Random(6).randbytes(12 << 20)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [1000, 99_999, 1 << 20, 3 << 20])
@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_streamed_reads_of_a_large_object_return_its_bytes(session, size, compression):
    session.put(NOISE, key="big", compression=compression)
    response = session.get("big")
    payload = response.payload
    first = payload.read(size)
    rest = b"".join(iter(lambda: payload.read(size), b""))
    assert _sha(first + rest) == _sha(NOISE)
    # The connection went back to the pool in a state fit for the next request.
    assert session.get("big").payload.read() == NOISE


def test_mixed_reads_of_a_large_object(session):
    lines = b"".join(b"line %d\n" % i for i in range(1_500_000))  # about 15 MiB
    session.put(lines, key="lines", compression="none")
    payload = session.get("lines").payload
    assert payload.readline() == b"line 0\n"
    assert payload.read1(5) == b"line "
    assert payload.peek(1)[:2] == b"1\n"
    rest = payload.read()
    assert b"line 0\nline " + rest == lines


@pytest.mark.parametrize("encoding", ["zstd", None])
def test_a_large_broken_download_resumes(scripted, encoding):
    stored = STORED if encoding else DATA
    cuts = [len(stored) // 3, 2 * len(stored) // 3]
    server, sent = _serving(scripted, stored, encoding, cuts)
    with Client(server.url) as client:
        payload = client.session(Usecase("u"), org=1).get("k").payload
        data = b"".join(iter(lambda: payload.read(1 << 20), b""))
    assert _sha(data) == _sha(DATA)
    assert sent == [(0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], len(stored))]
    assert [_range_start(request) for request in server.requests] == [None, *cuts]


def test_a_changed_object_is_refused_after_the_bytes_before_the_break(scripted):
    # The object changes between the break and its resumption: `ProtocolError`, after
    # the bytes received before the break were handed out.
    server, _ = _serving(
        scripted, STORED, "zstd", [len(STORED) // 2], **{"x-sn-time-created": "2026-01-02"}
    )
    with Client(server.url) as client:
        payload = client.session(Usecase("u"), org=1).get("k").payload
        received = [payload.read(1 << 20)]
        with pytest.raises(ProtocolError, match="changed"):
            received.extend(iter(lambda: payload.read(1 << 20), b""))
        assert received[0]


def test_closing_early_keeps_the_pool_usable(session):
    session.put(NOISE, key="big")
    response = session.get("big")
    assert len(response.payload.read(1 << 20)) == 1 << 20
    response.close()
    assert session.get("big").payload.read() == NOISE


def test_a_payload_dropped_unclosed_keeps_the_pool_usable(session):
    session.put(NOISE, key="big")
    response = session.get("big")
    response.payload.read(1 << 20)
    del response
    gc.collect()
    assert session.get("big").payload.read() == NOISE


def test_closing_a_stalled_download_returns_at_once(scripted):
    # The server sends 9 of the 12 MiB it announces, then neither sends nor closes.
    def script(request, index):
        headers = {"Content-Length": str(len(DATA)), "x-sn-size": str(len(DATA))}
        return scripted.Reply(200, headers, DATA[: 9 << 20])

    server = scripted.start(script)
    with Client(server.url, timeout_ms=30_000) as client:
        payload = client.session(Usecase("u"), org=1).get("k").payload
        assert len(payload.read(8 << 20)) == 8 << 20
        started = time.monotonic()
        payload.close()
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("layout", ["sized", "last-unsized", "first-unsized"])
def test_whole_reads_of_objects_of_several_frames(session, layout):
    # Frames that declare their sizes are decoded into one buffer of their total; a frame
    # without a declared size makes the read decode as it goes. Same bytes either way.
    sized = zstandard.ZstdCompressor(write_checksum=True)
    unsized = zstandard.ZstdCompressor(write_checksum=True, write_content_size=False)
    pieces = [NOISE[start : start + (3 << 20)] for start in range(0, len(NOISE), 3 << 20)]
    frames = [sized.compress(piece) for piece in pieces]
    if layout == "last-unsized":
        frames[-1] = unsized.compress(pieces[-1])
    elif layout == "first-unsized":
        frames[0] = unsized.compress(pieces[0])
    session.put(b"".join(frames), key="frames", precompressed="zstd")
    assert _sha(session.get("frames").payload.read()) == _sha(NOISE)
