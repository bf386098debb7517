"""Network failures raise errors that handlers written for objectstore-client 0.2.x catch.

0.2.10 let urllib3's exceptions through. Run against the same loopback failures (checked
with the 0.2.10 wheel while writing these tests), it raised:

* refused connection, any method: `MaxRetryError` whose `reason` is a `NewConnectionError`;
* server silent past the read timeout: `MaxRetryError` (`reason` a `ReadTimeoutError`)
  for GET, HEAD, PUT, DELETE; the bare `ReadTimeoutError` for a POST;
* connection closed without an answer: `MaxRetryError` (`reason` a urllib3
  `ProtocolError`) for GET, HEAD, PUT, DELETE; the bare `ProtocolError` for a POST;
* connection closed in the middle of a download's body: the bare `ProtocolError`.

No urllib3 exception is an `OSError`, so `except OSError` never caught any of these.
Each test provokes the real failure and checks that the error is of the SDK's class and of
each of those urllib3 classes, with `reason` set, and that it survives pickling.
"""

from __future__ import annotations

import pickle
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from objectstore_client import Client, RequestError, Session, Usecase
from objectstore_client.errors import (
    ConnectError,
    ConnectTimeout,
    ObjectstoreError,
    ProtocolError,
    TransportError,
    TransportTimeout,
)


@pytest.fixture
def session_for() -> Iterator[object]:
    clients: list[Client] = []

    def build(url: str, **kwargs: object) -> Session:
        clients.append(Client(url, **kwargs))  # type: ignore[arg-type]
        return clients[-1].session(Usecase("u"), org=1)

    yield build
    for client in clients:
        client.close()


class RawServer:
    """A loopback server that reads one request head, then sends `reply` and closes."""

    def __init__(self, reply: bytes) -> None:
        self._reply = reply
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                conn.sendall(self._reply)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def raw_server() -> Iterator[object]:
    servers: list[RawServer] = []

    def start(reply: bytes) -> RawServer:
        servers.append(RawServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def assert_survives_pickling(error: TransportError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert type(getattr(copy, "reason", None)) is type(getattr(error, "reason", None))


def assert_old_handlers_catch(error: BaseException) -> None:
    # The handlers 0.2.x code wrote around its calls.
    with pytest.raises((RequestError, urllib3.exceptions.HTTPError)) as caught:
        raise error
    assert caught.value is error
    assert not isinstance(error, OSError)
    assert isinstance(error, ObjectstoreError)


CALLS = {
    "GET": lambda s: s.get("k").payload.read(),
    "HEAD": lambda s: s.head("k"),
    "PUT": lambda s: s.put(b"x", key="k", compression="none"),
    "DELETE": lambda s: s.delete("k"),
    "POST": lambda s: s.put(b"x", compression="none", server_key=True),
}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_refused_connection(dead_url, session_for, method):
    with pytest.raises(ConnectError) as info:
        CALLS[method](session_for(dead_url, retries=1))
    error = info.value
    assert isinstance(error, MaxRetryError)
    assert isinstance(error.reason, NewConnectionError)
    assert isinstance(error, NewConnectionError)  # what 0.2.x raised with retries=False
    assert error.url.startswith("/v1/objects/u/org=1/")
    assert str(error).startswith(f"{'POST' if method == 'POST' else method} /v1/objects/")
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_read_timeout(scripted, session_for, method):
    server = scripted.start(lambda request, index: scripted.Reply(204, read_delay=0.6))
    with pytest.raises(TransportTimeout) as info:
        CALLS[method](session_for(server.url, retries=0, timeout_ms=150))
    error = info.value
    assert isinstance(error, ReadTimeoutError)
    if method == "POST":
        # urllib3 does not count a POST as retryable, so it raised the bare error.
        assert not isinstance(error, MaxRetryError)
    else:
        assert isinstance(error, MaxRetryError)
        assert isinstance(error.reason, ReadTimeoutError)
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_connection_closed_without_answer(scripted, session_for, method):
    server = scripted.start(lambda request, index: scripted.Reply(drop=True))
    with pytest.raises(ProtocolError) as info:
        CALLS[method](session_for(server.url, retries=0))
    error = info.value
    assert isinstance(error, Urllib3ProtocolError)
    if method == "POST":
        assert not isinstance(error, MaxRetryError)
    else:
        assert isinstance(error, MaxRetryError)
        assert isinstance(error.reason, Urllib3ProtocolError)
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


def test_connection_closed_in_the_middle_of_a_download(raw_server, session_for):
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-this")
    response = session_for(server.url, retries=0).get("k")
    with pytest.raises(ProtocolError) as info:
        response.payload.read()
    error = info.value
    assert isinstance(error, Urllib3ProtocolError)
    assert not isinstance(error, MaxRetryError)
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


def test_connection_closed_in_the_middle_of_an_upload_answer(raw_server, session_for):
    server = raw_server(b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"key":')
    with pytest.raises(ProtocolError) as info:
        session_for(server.url, retries=0).put(b"x", key="k", compression="none")
    error = info.value
    assert isinstance(error, MaxRetryError)
    assert isinstance(error.reason, Urllib3ProtocolError)
    assert isinstance(error, Urllib3ProtocolError)
    assert_old_handlers_catch(error)


def test_write_timeout_is_a_timeout_and_what_urllib3_raised(scripted, session_for):
    # The server reads nothing for a second while a 32 MiB body is sent: the write stalls.
    server = scripted.start(lambda request, index: scripted.Reply(read_delay=1.0))
    with pytest.raises(TransportTimeout) as info:
        session_for(server.url, retries=0, timeout_ms=150).put(
            b"\0" * (32 * 1024 * 1024), key="k", compression="none"
        )
    error = info.value
    # urllib3 reports a socket timeout while sending as a dropped connection.
    assert isinstance(error, MaxRetryError)
    assert isinstance(error.reason, Urllib3ProtocolError)
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


def test_0_2_retry_filter_keeps_working(scripted, session_for):
    """The retry filter of 0.2.10's own resumable loop, applied to what we raise."""

    def is_transient(error: BaseException) -> bool:
        if isinstance(error, MaxRetryError):
            return isinstance(error.reason, Exception) and is_transient(error.reason)
        if isinstance(error, RequestError):
            return error.status in (408, 429, 502, 503, 504)
        return isinstance(error, ReadTimeoutError | Urllib3ProtocolError)

    server = scripted.start(lambda request, index: scripted.Reply(204, read_delay=0.6))
    with pytest.raises(HTTPError) as info:
        session_for(server.url, retries=0, timeout_ms=150).head("k")
    assert is_transient(info.value)


def test_errors_built_directly_stay_plain():
    # Only failures translated from urllib3 carry urllib3's classes.
    error = ConnectError("x")
    assert not isinstance(error, HTTPError)
    assert type(error) is ConnectError


@pytest.mark.skipif(
    sys.platform != "linux", reason="Linux drops connections to a full accept queue silently"
)
def test_connect_timeout(full_backlog, session_for):
    with pytest.raises(ConnectTimeout) as info:
        session_for(full_backlog, retries=0).get("k")
    error = info.value
    assert isinstance(error, MaxRetryError)
    assert isinstance(error.reason, ConnectTimeoutError)
    assert isinstance(error, ConnectTimeoutError)
    assert not isinstance(error.reason, NewConnectionError)
    assert_old_handlers_catch(error)
    assert_survives_pickling(error)


class UnpicklableReason(Urllib3ProtocolError):
    """A reason that cannot be pickled, as one holding a live socket."""

    def __reduce__(self):
        raise TypeError("cannot pickle a socket")


def test_an_unpicklable_reason_is_dropped_when_pickling():
    pool: Any = None
    error = ProtocolError.from_urllib3(
        "GET /k: connection failed", MaxRetryError(pool, "/k", UnpicklableReason("dropped"))
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == "GET /k: connection failed"
    assert getattr(copy, "reason", "missing") is None
