"""Uploads never leave an object nobody can name, say what became of it, and time out.

Issue 11, Deliver 1-3: `put` without a key chooses the key itself (a PUT), errors carry
`stored` and `key`, PUT answers are checked against the key sent, a default read timeout
and an optional deadline bound every call, and absurd settings fail at construction.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import time
from typing import Any

import pytest

from objectstore_client import (
    Client,
    ConnectError,
    DeadlineExceeded,
    IntegrityError,
    InvalidArgument,
    InvalidArgumentType,
    ObjectstoreError,
    ProtocolError,
    RequestError,
    ServerError,
    Session,
    TransportError,
    TransportTimeout,
    Usecase,
)
from objectstore_client.batch import Put
from objectstore_client.testing import LocalServer
from tests.faults.proxy import FAULTS, FaultProxy

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _session(url: str, **kwargs: Any) -> Session:
    client = Client(url, **kwargs)
    return client.session(Usecase("u", compression="none"), org=1)


def test_put_without_key_puts_a_uuid4_key_it_chose(objectstore_server: LocalServer):
    session = _session(objectstore_server.url)
    key = session.put(b"hello")
    assert UUID4.match(key), key
    assert session.get(key).payload.read() == b"hello"
    assert session.put(b"other") != key


def test_put_without_key_sends_a_put_not_a_post(scripted):
    def echo(request, index):
        return scripted.json_reply(200, json.dumps({"key": request.path.rsplit("/", 1)[1]}))

    server = scripted.start(echo)
    key = _session(server.url).put(b"x")
    assert [(r.method, r.path) for r in server.requests] == [("PUT", f"/v1/objects/u/org=1/{key}")]


def test_server_key_is_the_post_of_0_0_19(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(201, '{"key": "srv"}'))
    assert _session(server.url).put(b"x", server_key=True) == "srv"
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/v1/objects/u/org=1/")]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"server_key": True, "key": "k"}, InvalidArgument),
        ({"server_key": 1}, InvalidArgumentType),
        ({"server_key": None}, InvalidArgumentType),
    ],
)
def test_server_key_arguments(dead_url, kwargs, error):
    with pytest.raises(error, match="server_key") as info:
        _session(dead_url).put(b"x", **kwargs)
    assert info.value.stored is False


def test_a_put_answer_naming_another_key_is_an_integrity_error(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, '{"key": "kez"}'))
    with pytest.raises(IntegrityError, match="kez") as info:
        _session(server.url).put(b"x", key="key")
    assert info.value.key == "key"
    assert info.value.stored is None


def test_a_garbled_put_answer_is_replayed(scripted):
    def script(request, index):
        if index == 0:
            return scripted.Reply(200, {"Content-Type": "application/json"}, b'{"key": "k')
        return scripted.json_reply(200, '{"key": "k"}')

    server = scripted.start(script)
    assert _session(server.url, retries=1).put(b"x", key="k") == "k"
    assert len(server.requests) == 2


def test_refused_connection_proves_nothing_was_stored(dead_url):
    with pytest.raises(ConnectError) as info:
        _session(dead_url, retries=1).put(b"x", key="k")
    assert (info.value.stored, info.value.key) == (False, "k")


def test_a_generated_key_is_on_the_error(dead_url):
    with pytest.raises(ConnectError) as info:
        _session(dead_url, retries=0).put(b"x")
    assert info.value.stored is False
    assert UUID4.match(info.value.key or "")


def test_a_4xx_refusal_is_not_stored(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(400, '{"detail": "no"}'))
    with pytest.raises(RequestError) as info:
        _session(server.url).put(b"x", key="k")
    assert (info.value.status, info.value.stored, info.value.key) == (400, False, "k")


def test_a_5xx_leaves_it_unknown(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(500, "{}"))
    with pytest.raises(ServerError) as info:
        _session(server.url).put(b"x", key="k")
    assert (info.value.stored, info.value.key) == (None, "k")


def test_a_refusal_after_a_dropped_attempt_is_unknown(scripted):
    # The first attempt was sent and may have been stored: a 400 to the replay proves
    # nothing about it.
    def script(request, index):
        return scripted.Reply(drop=True) if index == 0 else scripted.json_reply(400, "{}")

    server = scripted.start(script)
    with pytest.raises(RequestError) as info:
        _session(server.url, retries=1).put(b"x", key="k")
    assert info.value.stored is None
    assert len(server.requests) == 2


def test_a_dropped_connection_is_unknown(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(drop=True))
    with pytest.raises(ProtocolError) as info:
        _session(server.url, retries=0).put(b"x", key="k")
    assert (info.value.stored, info.value.key) == (None, "k")


def test_errors_of_other_operations_carry_no_outcome(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(500, "{}"))
    with pytest.raises(ServerError) as info:
        _session(server.url, retries=0).head("k")
    assert (info.value.stored, info.value.key) == (None, None)


@pytest.mark.parametrize(
    "error",
    [
        RequestError("m", 503, "body"),
        ServerError("m", 500, ""),
        ConnectError("m"),
        IntegrityError("m"),
        ProtocolError.from_urllib3("m", __import__("urllib3").exceptions.ProtocolError("x")),
        InvalidArgument("key", "bad"),
    ],
    ids=lambda error: type(error).__name__,
)
@pytest.mark.parametrize("stored", [True, False, None])
def test_outcome_survives_pickling(error: ObjectstoreError, stored):
    error.stored, error.key = stored, "the-key"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.stored, copy.key, str(copy)) == (stored, "the-key", str(error))


def test_the_default_read_timeout_applies_per_socket_operation():
    with Client("http://h") as client:
        assert client._pool.timeout.read_timeout == 60.0


def test_deadline_bounds_a_stalled_server(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(read_delay=3))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        _session(server.url, deadline=0.5).put(b"x", key="k")
    assert time.monotonic() - started < 2.0
    assert isinstance(info.value, TransportTimeout)
    assert (info.value.stored, info.value.key) == (None, "k")


def test_deadline_spans_replays_and_their_pauses(scripted):
    headers = {"Retry-After": "5"}
    server = scripted.start(lambda request, index: scripted.Reply(503, headers))
    started = time.monotonic()
    with pytest.raises(ServerError):
        _session(server.url, deadline=1.0, retries=5).head("k")
    # The 5 s pause would end past the deadline: the last answer is raised at once.
    assert time.monotonic() - started < 1.0
    assert len(server.requests) == 1


def test_a_deadline_does_not_cut_a_call_that_finishes(objectstore_server: LocalServer):
    session = _session(objectstore_server.url, deadline=5)
    key = session.put(b"x" * 100_000)
    assert session.get(key).payload.read() == b"x" * 100_000


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"retries": 101}, InvalidArgument, "retries"),
        ({"retries": -1}, InvalidArgument, "retries"),
        ({"retries": 2.0}, InvalidArgumentType, "retries"),
        ({"timeout_ms": float("nan")}, InvalidArgument, "timeout_ms"),
        ({"timeout_ms": float("inf")}, InvalidArgument, "timeout_ms"),
        ({"timeout_ms": 86_400_001}, InvalidArgument, "timeout_ms"),
        ({"timeout_ms": -5}, InvalidArgument, "timeout_ms"),
        ({"deadline": 0}, InvalidArgument, "deadline"),
        ({"deadline": -1}, InvalidArgument, "deadline"),
        ({"deadline": float("inf")}, InvalidArgument, "deadline"),
        ({"deadline": 86_401}, InvalidArgument, "deadline"),
        ({"deadline": "5"}, InvalidArgumentType, "deadline"),
        ({"deadline": True}, InvalidArgumentType, "deadline"),
    ],
)
def test_absurd_settings_fail_at_construction(kwargs, error, argument):
    with pytest.raises(error) as info:
        Client("http://h", **kwargs)
    assert info.value.argument == argument


def test_sensible_extremes_are_accepted():
    with Client("http://h", retries=100, timeout_ms=86_400_000, deadline=86_400) as client:
        assert client._transport.deadline == 86_400
    with Client("http://h", timeout_ms=0, deadline=0.01) as client:
        assert client._pool.timeout.read_timeout is None


def _batch_answer(scripted, part_headers: str):
    boundary = "b" * 8
    body = f"--{boundary}\r\n{part_headers}\r\n\r\n--{boundary}--".encode()
    content_type = {"Content-Type": f'multipart/form-data; boundary="{boundary}"'}
    return scripted.start(lambda request, index: scripted.Reply(200, content_type, body))


def test_batch_puts_without_key_carry_a_key_they_chose(scripted):
    server = _batch_answer(
        scripted,
        "x-sn-batch-operation-index: 0\r\nx-sn-batch-operation-status: 201 Created\r\n"
        "x-sn-batch-operation-kind: insert\r\nx-sn-batch-operation-key: elsewhere\r\n",
    )
    results = _session(server.url).many([Put(b"x")])
    error = results[0].error
    assert isinstance(error, IntegrityError)
    assert UUID4.match(error.key or "")
    assert error.stored is None
    assert f"x-sn-batch-operation-key: {error.key}".encode() in server.requests[0].body


def test_a_refused_batch_insert_is_not_stored(scripted):
    server = _batch_answer(
        scripted,
        "x-sn-batch-operation-index: 0\r\nx-sn-batch-operation-status: 400 Bad Request\r\n"
        "x-sn-batch-operation-kind: insert\r\n",
    )
    error = _session(server.url).many([Put(b"x", key="k")])[0].error
    assert isinstance(error, RequestError)
    assert (error.stored, error.key) == (False, "k")


def test_a_failed_batch_request_names_each_insert(dead_url):
    results = _session(dead_url, retries=0).many([Put(b"x", key="a"), Put(b"y", key="b")])
    errors = [result.error for result in results]
    assert all(isinstance(error, ConnectError) for error in errors)
    assert [(error.key, error.stored) for error in errors if error] == [("a", False), ("b", False)]


class _FailsWhenReadAgain(io.BytesIO):
    """A seekable stream whose second pass fails (a network file that went away)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_once = False

    def read(self, size: int | None = -1) -> bytes:
        if self.read_once and self.tell() == 0:
            raise OSError("the file went away")
        self.read_once = True
        return super().read(size)


def test_a_stream_failing_on_a_replay_still_names_the_key_it_may_have_stored(
    objectstore_server: LocalServer,
):
    # The first attempt reached the server, which stored the object; its answer was lost
    # (reset). The replay rewinds the stream, which fails. The object is stored under the
    # key the client chose: the error must name it, and say the outcome is unknown.
    reset = next(f for f in FAULTS if f.name == "reset_after_request")
    port = int(objectstore_server.url.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), reset) as proxy:
        with Client(proxy.url) as client, pytest.raises(TransportError) as caught:
            client.session(Usecase("u"), org=1).put(
                _FailsWhenReadAgain(b"payload"), compression="none"
            )
        assert proxy.applied == ["applied"]
        key = proxy.exchanges[0].target.rsplit("/", 1)[1]
    stored = Client(objectstore_server.url).session(Usecase("u"), org=1).get(key)
    assert stored.payload.read() == b"payload"
    assert (caught.value.key, caught.value.stored) == (key, None)
    assert isinstance(caught.value.__cause__, OSError)
    assert "went away" in str(caught.value.__cause__)


def test_a_stream_failing_on_its_first_pass_propagates_unchanged(session):
    # No attempt can have been stored: the caller's own error, as it was raised.
    class Fails(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("the file went away")

    with pytest.raises(OSError, match="went away") as caught:
        session.put(Fails(b"payload"), compression="none")
    assert not isinstance(caught.value, TransportError)
