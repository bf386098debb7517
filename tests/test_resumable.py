"""Resumable uploads inside `Session.put` (protocol §23).

Whole uploads run against the local server; the failure paths (a dropped write, a 409, a
timeout, a server that declines or ignores the request) against scripted servers.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os

import pytest
import zstandard

from objectstore_client import Client, Usecase
from objectstore_client._resumable import FRAME_INPUT, FramedSource
from objectstore_client.errors import (
    InvalidArgument,
    InvalidArgumentType,
    ObjectNotFound,
    ProtocolError,
    ServerError,
)
from tests.faults.proxy import FAULTS, FaultProxy

KIB = 1024
DATA = (b"resumable " * 3000 + os.urandom(2000)) * 20  # ~640 KB, compressible


class Recording:
    def __init__(self):
        self.names: list[str] = []

    def increment(self, name, value=1, tags=None):
        pass

    def gauge(self, name, value, tags=None):
        pass

    def distribution(self, name, value, tags=None, unit=None):
        self.names.append(name)


def session_on(url, threshold=64 * KIB, compression="zstd", **client_kwargs):
    metrics = Recording()
    client = Client(url, metrics_backend=metrics, **client_kwargs)
    usecase = Usecase("u", compression=compression, resumable_threshold_bytes=threshold)
    return client.session(usecase, org=1), metrics


@pytest.mark.parametrize("compression", ["zstd", "none"])
@pytest.mark.parametrize("source", ["bytes", "stream"])
def test_large_uploads_go_resumable(objectstore_url, compression, source):
    session, metrics = session_on(objectstore_url, compression=compression)
    contents = DATA if source == "bytes" else io.BytesIO(b"skip" + DATA)
    if not isinstance(contents, bytes):
        contents.seek(4)
    key = session.put(
        contents,
        key=f"big-{compression}-{source}",
        content_type="text/plain",
        metadata={"kind": "big"},
    )
    assert "storage.resumable.create.latency" in metrics.names
    assert "storage.resumable.put.latency" in metrics.names
    response = session.get(key)
    assert response.payload.read() == DATA
    assert response.metadata.content_type == "text/plain"
    assert response.metadata.custom == {"kind": "big"}
    stored = session.get(key, decompress=False)
    assert stored.metadata.compression == ("zstd" if compression == "zstd" else None)
    if not isinstance(contents, bytes):
        assert contents.tell() == 4  # where it started


def test_server_chosen_key(objectstore_url):
    session, metrics = session_on(objectstore_url)
    key = session.put(DATA)
    assert "storage.resumable.put.latency" in metrics.names
    assert session.get(key).payload.read() == DATA


def test_small_and_unsized_uploads_stay_plain(objectstore_url):
    session, metrics = session_on(objectstore_url)
    session.put(DATA[: 64 * KIB - 1], key="small")
    session.put(DATA, key="opted-out", resumable_threshold_bytes="none")

    class Pipe(io.RawIOBase):  # not seekable: its size is unknown
        def __init__(self):
            self._data = io.BytesIO(DATA)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self._data.readinto(buffer)

    session.put(io.BufferedReader(Pipe()), key="pipe")
    assert not [name for name in metrics.names if "resumable" in name]
    assert session.get("pipe").payload.read() == DATA


def test_precompressed(objectstore_url):
    session, _ = session_on(objectstore_url)
    compressed = zstandard.ZstdCompressor().compress(DATA * 2)
    session.put(compressed, key="pre", precompressed="zstd", resumable_threshold_bytes=1024)
    assert session.get("pre").payload.read() == DATA * 2


def created(scripted, key="k"):
    body = json.dumps({"key": key, "session": "c2Vzc2lvbg", "granularity": 0}).encode()
    return scripted.Reply(200, {"Content-Type": "application/json"}, body)


def done(scripted, key="k"):
    return scripted.Reply(
        201, {"Content-Type": "application/json"}, json.dumps({"key": key}).encode()
    )


def offset(scripted, value):
    return scripted.Reply(204, {"Upload-Offset": str(value)})


def kinds(server):
    """What each request was: create, write@offset, probe, cancel, plain."""
    out = []
    for request in server.requests:
        if "upload_type=resumable" in request.path:
            out.append("create")
        elif "session=" in request.path and request.method == "DELETE":
            out.append("cancel")
        elif request.headers.get("upload-offset") == "*":
            out.append("probe")
        elif "upload-offset" in request.headers:
            out.append(f"write@{request.headers['upload-offset']}")
        else:
            out.append(f"plain {request.method}")
    return out


def test_a_dropped_write_continues_from_the_server_offset(scripted):
    replies = iter(["create", "drop", "probe", "done"])

    def script(request, index):
        step = next(replies)
        if step == "create":
            return created(scripted)
        if step == "drop":
            return scripted.Reply(drop=True)
        if step == "probe":
            return offset(scripted, 1000)
        return done(scripted)

    server = scripted.start(script)
    session, _ = session_on(server.url, compression="none")
    assert session.put(DATA, key="k") == "k"
    assert kinds(server) == ["create", "write@0", "probe", "write@1000"]
    assert server.requests[1].body == DATA
    assert server.requests[3].body == DATA[1000:]
    assert server.requests[3].headers["content-length"] == str(len(DATA) - 1000)
    assert server.requests[0].headers["upload-length"] == str(len(DATA))


def test_a_conflict_asks_for_the_offset(scripted):
    steps = iter(
        [
            created(scripted),
            scripted.Reply(409, {"Upload-Offset": "7"}),
            offset(scripted, 7),
            done(scripted),
        ]
    )
    server = scripted.start(lambda request, index: next(steps))
    session, _ = session_on(server.url)
    assert session.put(DATA, key="k") == "k"
    assert kinds(server) == ["create", "write@0", "probe", "write@7"]
    # The compressed stream continues at byte 7: the two writes join up.
    first, second = server.requests[1].body, server.requests[3].body
    assert first[7:] == second
    assert (
        zstandard.ZstdDecompressor()
        .stream_reader(io.BytesIO(first), read_across_frames=True)
        .read()
        == DATA
    )


def test_a_timeout_is_retried_from_the_offset(scripted):
    def script(request, index):
        step = request.headers.get("upload-offset")
        if step is None:
            return created(scripted)
        if step == "0":  # the server stalls past the client's timeout
            return scripted.Reply(204, {"Upload-Offset": "9"}, read_delay=0.6)
        return offset(scripted, 9) if step == "*" else done(scripted)

    server = scripted.start(script)
    session, _ = session_on(server.url, compression="none", timeout_ms=200)
    assert session.put(DATA, key="k") == "k"
    # The stalled write is recorded whenever the server gets to it.
    assert kinds(server)[:3] == ["create", "probe", "write@9"]
    assert server.requests[2].body == DATA[9:]


def test_giving_up_cancels_the_session(scripted):
    def script(request, index):
        return created(scripted) if index == 0 else scripted.json_reply(503, '{"detail": "busy"}')

    server = scripted.start(script)
    session, _ = session_on(server.url, retries=1)
    with pytest.raises(ServerError):
        session.put(DATA, key="k")
    # Probes and the cancel are idempotent: the transport replays them once on a 503.
    assert kinds(server) == ["create", "write@0", "probe", "probe", "cancel", "cancel"]


def test_no_progress_gives_up(scripted):
    def script(request, index):
        return created(scripted) if index == 0 else offset(scripted, 0)

    server = scripted.start(script)
    session, _ = session_on(server.url, retries=1)
    with pytest.raises(ProtocolError, match="no progress"):
        session.put(DATA, key="k")
    assert kinds(server)[-1] == "cancel"


def test_501_falls_back_to_a_plain_upload(scripted):
    def script(request, index):
        if index == 0:
            return scripted.json_reply(501, '{"detail": "not implemented"}')
        return scripted.json_reply(200, '{"key": "k"}')

    server = scripted.start(script)
    session, _ = session_on(server.url, compression="none")
    stream = io.BytesIO(DATA)
    assert session.put(stream, key="k") == "k"
    assert kinds(server) == ["create", "plain PUT"]
    assert server.requests[1].body == DATA


def test_a_server_ignoring_the_request_gets_its_empty_object_deleted(scripted):
    def script(request, index):
        if request.method == "DELETE":
            return scripted.Reply(204)
        return scripted.json_reply(200, '{"key": "generated"}')

    server = scripted.start(script)
    session, _ = session_on(server.url, compression="none")
    assert session.put(DATA, server_key=True) == "generated"
    assert kinds(server) == ["create", "plain DELETE", "plain POST"]
    assert server.requests[0].body == b""


@pytest.mark.parametrize(
    ("threshold", "error"),
    [
        (0, InvalidArgument),
        (-1, InvalidArgument),
        ("never", InvalidArgument),
        (True, InvalidArgumentType),
        (1.5, InvalidArgumentType),
    ],
)
def test_bad_thresholds(dead_url, threshold, error):
    with pytest.raises(error) as info:
        Usecase("u", resumable_threshold_bytes=threshold)
    assert info.value.argument == "resumable_threshold_bytes"
    session = Client(dead_url).session(Usecase("u"))
    with pytest.raises(error) as info:
        session.put(b"x", key="k", resumable_threshold_bytes=threshold)
    assert info.value.argument == "resumable_threshold_bytes"


def test_usecase_threshold_default():
    assert Usecase("u").resumable_threshold_bytes == 256 * 1024 * 1024
    assert Usecase("u", resumable_threshold_bytes="none").resumable_threshold_bytes == "none"


def test_framed_source_seeks_into_frames():
    data = os.urandom(100) + b"a" * (2 * FRAME_INPUT + 5)
    with FramedSource(data, len(data), zstd=True) as source:
        whole = source.read()
        assert len(whole) == source.length
        for position in (0, 1, source.length // 2, source.length - 1):
            source.seek(position)
            assert source.read() == whole[position:]
    decoded = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(whole), read_across_frames=True)
    assert decoded.read() == data


def test_framed_source_refuses_a_changed_input():
    data = bytearray(b"a" * (FRAME_INPUT + 10))
    source = FramedSource(data, len(data), zstd=True)
    data[-5:] = os.urandom(5)
    source.seek(source.length - 1)
    with pytest.raises(InvalidArgument, match="changed"):
        source.read()


def test_framed_source_refuses_an_uncompressed_input_changed_between_sends():
    data = bytearray(b"b" * (FRAME_INPUT + 10))
    source = FramedSource(data, len(data), zstd=False)
    assert source.length == len(data)
    assert source.read() == data  # the first send records each piece's checksum
    data[-5:] = b"12345"
    source.seek(source.length - 1)
    with pytest.raises(InvalidArgument, match="changed"):
        source.read()


def test_framed_source_refuses_a_stream_that_shrank():
    stream = io.BytesIO(b"c" * (FRAME_INPUT + 10))
    source = FramedSource(stream, FRAME_INPUT + 10, zstd=False)
    stream.truncate(FRAME_INPUT + 5)
    source.seek(FRAME_INPUT)
    with pytest.raises(InvalidArgument, match="changed"):
        source.read()


def test_spool_dir_is_accepted_and_left_empty(objectstore_url, tmp_path):
    with Client(objectstore_url, spool_dir=tmp_path) as client:
        usecase = Usecase("u", resumable_threshold_bytes=64 * KIB)
        session = client.session(usecase, org=1)
        key = session.put(io.BytesIO(DATA), key="spooled")
        assert session.get(key).payload.read() == DATA
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "fault", ["reset_after_request", "stall_before_response", "status_502_after_store"]
)
def test_a_lost_answer_to_the_last_write_finds_the_object_stored(objectstore_server, fault):
    # The server published the object and dropped the session; the answer never arrived,
    # so the offset query gets a 404 (protocol §23.5). The upload succeeded: say so.
    chosen = dataclasses.replace(next(f for f in FAULTS if f.name == fault), skip=1)
    port = int(objectstore_server.url.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), chosen) as proxy:
        session, _ = session_on(proxy.url, timeout_ms=1500)
        assert session.put(DATA, key="lost-answer") == "lost-answer"
        assert proxy.applied
    plain = Client(objectstore_server.url).session(Usecase("u"), org=1)
    assert plain.get("lost-answer").payload.read() == DATA


@pytest.mark.parametrize(
    "head",
    [
        pytest.param({"x-sn-size": "5", "x-sn-time-created": "2099-01-01T00:00:00Z"}, id="size"),
        pytest.param(
            {"x-sn-size": str(len(DATA)), "x-sn-time-created": "2001-01-01T00:00:00Z"},
            id="older",
        ),
        pytest.param({"x-sn-time-created": "2099-01-01T00:00:00Z"}, id="no-size"),
        pytest.param({"x-sn-size": str(len(DATA))}, id="no-time"),
    ],
)
def test_a_gone_session_is_not_taken_for_another_object(scripted, head):
    # The write broke, the session is gone (cancelled elsewhere) and the key holds an object
    # that is not this upload's: the upload failed, and the error says so.
    steps = iter(["create", "drop", "gone", "head"])

    def script(request, index):
        step = next(steps)
        if step == "create":
            return created(scripted)
        if step == "drop":
            return scripted.Reply(drop=True)
        if step == "gone":
            return scripted.Reply(404)
        return scripted.Reply(200, head)

    server = scripted.start(script)
    session, _ = session_on(server.url, compression="none")
    with pytest.raises(ObjectNotFound):
        session.put(DATA, key="k")
    assert [r.method for r in server.requests] == ["PUT", "PUT", "PUT", "HEAD"]


def test_conflicts_that_never_move_the_offset_give_up(scripted):
    # Every write is refused with a 409 while the offset query keeps answering the offset
    # the write was sent at: the loop wrote, probed and wrote again forever, without
    # back-off and without counting a failure.
    def script(request, index):
        if index == 0:
            return created(scripted)
        if request.method == "DELETE":
            return scripted.Reply(204)
        if index > 60:  # a bound for the test: the client should long have given up
            return scripted.json_reply(400, '{"detail": "test bound reached"}')
        if request.headers.get("upload-offset") == "*":
            return offset(scripted, 0)
        return scripted.Reply(409, {"Upload-Offset": "0"})

    server = scripted.start(script)
    session, _ = session_on(server.url, retries=2)
    with pytest.raises(ProtocolError, match="no progress"):
        session.put(DATA, key="k")
    assert len(server.requests) < 20
    assert kinds(server)[-1] == "cancel"
