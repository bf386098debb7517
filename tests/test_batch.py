"""`Session.many` / `iter_many` against the local server, and the pure batch plans."""

from __future__ import annotations

import io
import os
import socket
import threading
from datetime import timedelta

import pytest

from objectstore_client import (
    BatchFailed,
    Client,
    ConnectError,
    InvalidArgument,
    InvalidArgumentType,
    ObjectNotFound,
    ProtocolError,
    ServerError,
    Usecase,
    _zstd,
)
from objectstore_client._plans import batch as plans
from objectstore_client._plans import batch_answer as answers
from objectstore_client.batch import Delete, Get, Head, ObjectData, Operation, Put
from objectstore_client.metadata import Metadata, TimeToLive
from objectstore_client.progress import Progress
from tests._batch_helpers import receive_chunked_request


def test_mixed_operations_map_back_in_order(session):
    small = os.urandom(1000)
    big = os.urandom(1_500_000)  # over the 1 MiB part limit: sent as its own PUT
    text = b"log line\n" * 5000
    results = session.many(
        [
            Put(small, key="b/small", content_type="text/plain", metadata={"a": "b"}),
            Put(big, key="b/big"),
            Put(
                text,
                key="b/text",
                compression="zstd",
                expiration_policy=TimeToLive(timedelta(hours=1)),
            ),
            Put(io.BytesIO(b"streamed"), key="b/stream"),
            Put(b"no key"),
        ]
    )
    results.error_for_failures()
    assert [r.value for r in results[:4]] == ["b/small", "b/big", "b/text", "b/stream"]
    generated = results[4].value
    assert isinstance(generated, str)
    assert generated

    results = session.many(
        [
            Get("b/small"),
            Head("b/big"),
            Get("b/missing"),
            Get("b/text"),
            Get("b/text", decompress=False),
            Get("b/big"),
            Delete("b/stream"),
            Get(generated),
            Head("b/missing"),
        ]
    )
    assert [r.index for r in results] == list(range(9))
    got = results[0].value
    assert isinstance(got, ObjectData)
    assert got.data == small
    assert got.metadata.content_type == "text/plain"
    assert got.metadata.custom == {"a": "b"}
    assert isinstance(results[1].value, Metadata)
    assert isinstance(results[2].error, ObjectNotFound)
    assert results[2].value is None
    assert "b/missing" in str(results[2].error)
    decoded = results[3].value
    assert isinstance(decoded, ObjectData)
    assert decoded.data == text
    assert decoded.metadata.compression is None
    raw = results[4].value
    assert isinstance(raw, ObjectData)
    assert raw.metadata.compression == "zstd"
    assert len(raw.data) < len(text)
    assert isinstance(results[5].value, ObjectData)
    assert results[5].value.data == big
    assert results[6].ok
    assert results[6].value is None
    assert isinstance(results[7].value, ObjectData)
    assert results[7].value.data == b"no key"
    assert isinstance(results[8].error, ObjectNotFound)
    assert [r.index for r in results.failures] == [2, 8]
    with pytest.raises(ObjectNotFound):
        results[2].unwrap()
    with pytest.raises(BatchFailed) as caught:
        results.error_for_failures()
    assert [index for index, _ in caught.value.errors] == [2, 8]
    assert caught.value.total == 9
    assert session.get_or_none("b/stream") is None


def test_more_than_one_request_and_progress_on_callers_thread(session):
    keys = [f"many/{i}" for i in range(1200)]
    reports: list[tuple[Progress, int]] = []
    results = session.many(
        [Put(f"v{i}".encode(), key=key) for i, key in enumerate(keys)],
        max_batches=2,
        progress=lambda p: reports.append((p, threading.get_ident())),
    )
    results.error_for_failures()
    assert len(reports) == 1200
    assert {ident for _, ident in reports} == {threading.get_ident()}
    last = reports[-1][0]
    assert last.operations_done == last.operations_total == 1200
    assert last.bytes_done == last.bytes_total == sum(len(f"v{i}") for i in range(1200))

    seen = {}
    for result in session.iter_many([Get(key) for key in keys], max_batches=1):
        assert isinstance(result.value, ObjectData)
        seen[result.index] = result.value.data
    assert seen == {i: f"v{i}".encode() for i in range(1200)}


@pytest.mark.parametrize(
    ("operations", "error", "argument"),
    [
        pytest.param([], InvalidArgument, "operations", id="empty"),
        pytest.param("get", InvalidArgumentType, "operations", id="string"),
        pytest.param([Get("a"), Get("")], InvalidArgument, "operations[1].key", id="empty-key"),
        pytest.param([Head("a"), "x"], InvalidArgumentType, "operations[1].operation", id="type"),
        pytest.param(
            [Put(b"x", compression="lz4")],  # type: ignore[arg-type]
            InvalidArgument,
            "operations[0].compression",
            id="bad-compression",
        ),
    ],
)
def test_bad_input_raises_before_any_request(dead_url, operations, error, argument):
    with Client(dead_url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(error) as caught:
            session.many(operations)
        assert caught.value.argument == argument
        with pytest.raises(InvalidArgument, match="max_batches"):
            session.iter_many([Get("a")], max_batches=0)
        with pytest.raises(InvalidArgument, match="max_requests"):
            session.many([Get("a")], max_requests=-1)


def test_a_failed_request_fails_each_of_its_operations(dead_url):
    with Client(dead_url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        results = session.many([Get("a"), Put(os.urandom(2_000_000), key="big"), Delete("c")])
    assert all(isinstance(r.error, ConnectError) for r in results)
    assert len(results) == 3


def test_an_error_status_fails_each_operation(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(500, '{"detail":"boom"}'))
    with Client(server.url, retries=0) as client:
        results = client.session(Usecase("u"), org=1).many([Head("a"), Head("b")])
    assert all(isinstance(r.error, ServerError) for r in results)
    request = server.requests[0]
    assert request.path == "/v1/objects:batch/u/org=1/"
    assert request.headers["content-type"].startswith('multipart/form-data; boundary="os-')


def test_missing_result_parts_are_protocol_errors(scripted):
    boundary = "b" * 8
    body = (
        f"--{boundary}\r\nx-sn-batch-operation-index: 0\r\n"
        "x-sn-batch-operation-status: 204 No Content\r\nx-sn-batch-operation-kind: delete\r\n"
        f"\r\n\r\n--{boundary}--"
    ).encode()
    server = scripted.start(
        lambda request, index: scripted.Reply(
            200, {"Content-Type": f'multipart/form-data; boundary="{boundary}"'}, body
        )
    )
    with Client(server.url) as client:
        results = client.session(Usecase("u"), org=1).many([Delete("a"), Delete("b")])
    assert results[0].ok
    assert isinstance(results[1].error, ProtocolError)


def test_a_result_reaches_the_caller_before_its_worker_waits_for_more_answer():
    """Results read so far are handed over before a read that may wait for the network.

    The request sends the delete first (deletes before gets, `_SEND_ORDER`). The answer's
    first 80,000 bytes hold the delete's part and the start of the get's (a 100,000-byte
    body); the rest comes only once the test has received the delete's result.
    """
    boundary = "os-boundary-" + "0" * 32
    released = threading.Event()
    outcome: list[bool] = []
    head = (
        f"--{boundary}\r\nx-sn-batch-operation-index: 0\r\nx-sn-batch-operation-key: k1\r\n"
        "x-sn-batch-operation-kind: delete\r\nx-sn-batch-operation-status: 204 No Content\r\n"
        f"\r\n\r\n--{boundary}\r\nx-sn-batch-operation-index: 1\r\n"
        "x-sn-batch-operation-key: k0\r\nx-sn-batch-operation-kind: get\r\n"
        "x-sn-batch-operation-status: 200 OK\r\n\r\n"
    ).encode()
    answer = head + b"x" * 100_000 + f"\r\n--{boundary}--".encode()

    def chunk(data: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(data), data)

    def serve(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            if receive_chunked_request(conn) is None:
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                + f'content-type: multipart/form-data; boundary="{boundary}"\r\n\r\n'.encode()
                + chunk(answer[:80_000])
            )
            outcome.append(released.wait(10))
            conn.sendall(chunk(answer[80_000:]) + b"0\r\n\r\n")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, retries=0) as client:
            results = client.session(Usecase("u"), org=1).iter_many([Get("k0"), Delete("k1")])
            first = next(results)
            released.set()
            rest = list(results)
        server.join(10)
    assert outcome == [True]  # the delete's result came while the answer was held back
    assert (first.index, first.ok) == (1, True)
    [second] = rest
    assert second.index == 0
    assert isinstance(second.value, ObjectData)
    assert second.value.data == b"x" * 100_000


def test_pool_threads_reuse_one_compression_context_and_every_frame_stands_alone():
    bodies = [os.urandom(100) + b"log line\n" * n for n in (200_000, 10, 150_000, 0, 90_000)]
    frames: list[bytes] = []

    def work() -> None:
        _zstd.reuse_context_for_any_size()
        frames.extend(_zstd.compress(body, len(body)) for body in bodies)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert [_zstd.decompress_all(frame) for frame in frames] == bodies
    # Each frame records its own size and checksum, as a fresh context writes it.
    assert frames == [_zstd.compressor().compress(body) for body in bodies]


# --- pure plans -------------------------------------------------------------------------------


def _planned(operations):
    return plans.plan_operations(Usecase("u"), operations)


def test_group_respects_limits_and_send_order():
    planned = _planned(
        [Get("g"), Put(b"x" * 100, key="p"), Head("h"), Delete("d"), Put(os.urandom(2 << 20))]
    )
    batches, alone = plans.group(planned, max_operations=2)
    assert [[op.kind for op in batch] for batch in batches] == [
        ["insert", "delete"],
        ["head", "get"],
    ]
    assert [op.index for op in alone] == [4]
    batches, _ = plans.group(planned, max_bytes=50)
    assert [len(batch) for batch in batches] == [1, 3]


def test_group_keeps_what_may_wait_unread_within_bounds():
    """Insert and delete answers, and head and get parts, stay within MAX_UNREAD_BYTES.

    The bound is what keeps a request from deadlocking (see `MAX_UNREAD_BYTES`).
    """
    short = [Put(b"x", key=f"p/{i}") for i in range(1000)]
    batches, _ = plans.group(_planned(short))
    # Short keys: a few hundred inserts per request (each answer counted as 256 bytes and
    # its key percent-encoded).
    assert [len(batch) for batch in batches] == [249] * 4 + [4]
    long_key = "k" * 8000
    mixed: list[Operation] = [Delete(f"{long_key}{i}") for i in range(5)]
    mixed += [Get(f"{long_key}{i}") for i in range(50)]
    batches, _ = plans.group(_planned(mixed))
    for batch in batches:
        answers = sum(plans._answer_bound(op) for op in batch if op.kind == "delete")
        reads = sum(len(plans._part_head(op)) for op in batch if op.kind == "get")
        assert answers <= plans.MAX_UNREAD_BYTES or len(batch) == 1
        assert reads <= plans.MAX_UNREAD_BYTES
    assert sum(len(batch) for batch in batches) == 55
    # One operation over the bound still goes, alone in its request (a key of 12,000
    # two-byte characters answers 72,000 bytes of it, percent-encoded).
    huge = _planned([Delete("é" * 12000), Delete("small")])
    batches, _ = plans.group(huge)
    assert [[op.key for op in batch] for batch in batches] == [["é" * 12000], ["small"]]


def test_many_metadata_headers_go_alone(session):
    metadata = {f"m{i}": "v" for i in range(40)}
    planned = _planned([Put(b"x", key="k", metadata=metadata), Put(b"y", metadata={"a": "b"})])
    assert [op.alone for op in planned] == [True, False]
    results = session.many([Put(b"x", key="meta/many", metadata=metadata)])
    results.error_for_failures()
    assert session.head("meta/many").custom == metadata


def test_worst_case_size_decides_what_is_batched():
    exactly = plans.MAX_INSERT_BYTES
    planned = _planned([Put(b"x" * exactly, compression="none"), Put(b"x" * exactly)])
    assert [op.alone for op in planned] == [False, True]


def _parts(raw: bytes, boundary: str = "XyZ", read_size: int = 7):
    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(raw)

        def read(self, size: int = -1) -> bytes:
            return self.data.read(min(read_size, size if size >= 0 else read_size))

    return list(answers.iter_parts(Trickle(), boundary))  # type: ignore[arg-type]


def test_iter_parts_reads_in_small_pieces():
    raw = b"--XyZ\r\nA: 1\r\n\r\nbody with --XyZ inside\r\n--XyZ\r\nB: 2\r\nC: 3\r\n\r\n\r\n--XyZ--"
    parts = _parts(raw)
    assert [(dict(p.headers), p.body) for p in parts] == [
        ({"a": "1"}, b"body with --XyZ inside"),
        ({"b": "2", "c": "3"}, b""),
    ]
    assert _parts(b"--XyZ--") == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"--XyZ\r\nA: 1", id="inside-head"),
        pytest.param(b"--XyZ\r\nA: 1\r\n\r\nbody", id="inside-body"),
    ],
)
def test_iter_parts_rejects_truncated_answers(raw):
    with pytest.raises(ProtocolError):
        _parts(raw)


def test_batch_body_is_well_formed():
    planned = _planned([Put(b"hello", key="a/b c", compression="none"), Get("x")])
    _, body = plans.plan_batch(planned)
    data = body.read()
    assert body.read() == b""
    assert data.endswith(b"--\r\n")
    assert b"x-sn-batch-operation-key: a%2Fb%20c\r\n" in data
    assert b"\r\n\r\nhello\r\n" in data
    assert body.sent == 5


def test_leaving_iter_many_early_stops_cleanly(session):
    operations = [Put(b"x", key=f"early/{i}") for i in range(2500)]
    results = session.iter_many(operations, max_batches=1)
    first = next(results)
    assert first.ok
    results.close()  # what leaving a for loop early does


def test_a_raising_progress_callback_propagates(session):
    class Stop(Exception):
        pass

    def progress(report):
        raise Stop

    with pytest.raises(Stop):
        session.many([Put(b"x", key="raise/1"), Put(b"y", key="raise/2")], progress=progress)


def test_batch_errors_pickle():
    import pickle

    error = BatchFailed([(1, ObjectNotFound("gone", 404, ""))], 3)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert copy.total == 3
    assert isinstance(copy.errors[0][1], ObjectNotFound)
