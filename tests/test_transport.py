"""Retries, timeouts and error translation, against scripted loopback servers."""

from __future__ import annotations

import io
import os
import socket
import sys
import threading
import time

import pytest
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from objectstore_client import (
    Client,
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    ObjectNotFound,
    ProtocolError,
    RateLimited,
    RequestError,
    ServerError,
    TransportError,
    TransportTimeout,
    Usecase,
)
from objectstore_client._retry import MAX_RETRIES, connect_retries_only
from objectstore_client._transport import translate_error

OK_KEY = '{"key":"k"}'


@pytest.fixture
def session_for():
    """Builds sessions on fresh clients, closed when the test ends."""
    clients: list[Client] = []

    def build(url: str, **kwargs):
        clients.append(Client(url, **kwargs))
        return clients[-1].session(Usecase("u"), org=1)

    yield build
    for client in clients:
        client.close()


def fail_first(scripted, failures: int, failure):
    """A script that answers `failure` `failures` times, then succeeds."""

    def script(request, index):
        if index < failures:
            return failure
        if request.method == "GET":
            return scripted.Reply(200, {"content-type": "text/plain"}, b"payload")
        if request.method in ("HEAD", "DELETE"):
            return scripted.Reply(204)
        return scripted.json_reply(200 if request.method == "PUT" else 201, OK_KEY)

    return script


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_requests_are_retried_on_transient_statuses(scripted, status, session_for):
    server = scripted.start(fail_first(scripted, 2, scripted.Reply(status)))
    session = session_for(server.url)
    assert session.get("k").payload.read() == b"payload"
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.head("k"), id="head"),
        pytest.param(lambda s: s.delete("k"), id="delete"),
        pytest.param(lambda s: s.put(b"bytes", key="k"), id="put-bytes"),
        pytest.param(lambda s: s.put(io.BytesIO(b"stream"), key="k"), id="put-seekable"),
    ],
)
def test_replayable_operations_are_retried(scripted, operation, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503)))
    operation(session_for(server.url))
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_replayed_stream_sends_the_same_bytes_from_its_start(scripted, session_for):
    server = scripted.start(fail_first(scripted, 2, scripted.Reply(502)))
    source = io.BytesIO(b"skip" + b"payload" * 10_000)
    source.seek(4)
    session_for(server.url).put(source, key="k", compression="none")
    bodies = {request.body for request in server.requests}
    assert bodies == {b"payload" * 10_000}


def test_post_is_never_sent_twice(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503)))
    with pytest.raises(ServerError):
        session_for(server.url).put(b"x", server_key=True)
    assert len(server.requests) == 1


def test_dropped_post_is_not_resent(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(drop=True)))
    with pytest.raises(ProtocolError, match="POST "):
        session_for(server.url).put(b"x", server_key=True)
    assert len(server.requests) == 1


def test_put_from_a_pipe_is_not_replayed(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503)))
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"pipe")
    os.close(write_fd)
    with open(read_fd, "rb") as pipe, pytest.raises(ServerError):
        session_for(server.url).put(pipe, key="k")
    assert len(server.requests) == 1


def test_dropped_connection_is_retried_for_reads(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(drop=True)))
    assert session_for(server.url).get("k").payload.read() == b"payload"
    assert len(server.requests) == 2


def test_retries_give_up_with_the_last_status(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(429))
    with pytest.raises(RateLimited):
        session_for(server.url, retries=2).head("k")
    assert len(server.requests) == 3


def test_retries_zero_disables_replays(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503)))
    with pytest.raises(ServerError):
        session_for(server.url, retries=0).get("k")
    assert len(server.requests) == 1


def test_client_errors_are_not_retried(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(404))
    with pytest.raises(ObjectNotFound):
        session_for(server.url).get("k")
    assert len(server.requests) == 1


def test_retry_after_is_honoured(scripted, session_for):
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503, {"Retry-After": "0.3"})))
    started = time.monotonic()
    session_for(server.url).head("k")
    assert time.monotonic() - started >= 0.3


def test_read_timeout(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(204, read_delay=0.5))
    with pytest.raises(TransportTimeout, match="HEAD /v1/objects/u/org=1/k: timed out"):
        session_for(server.url, retries=0, timeout_ms=100).head("k")


def test_write_timeout_applies_when_set(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(read_delay=1.0))
    with pytest.raises(TransportTimeout):
        session_for(server.url, retries=0, timeout_ms=150).put(
            os.urandom(32 * 1024 * 1024), key="k", compression="none"
        )


def test_connect_failure(dead_url, session_for):
    session = session_for(dead_url, retries=0)
    with pytest.raises(ConnectError, match=r"GET /v1/objects/u/org=1/k: could not connect") as info:
        session.get("k")
    assert isinstance(info.value.__cause__, urllib3.exceptions.HTTPError)


def test_connect_error_names_host_and_port_plainly(dead_url, session_for):
    session = session_for(dead_url, retries=0)
    with pytest.raises(ConnectError) as info:
        session.get("k")
    message = str(info.value)
    assert f": {dead_url.removeprefix('http://')}: " in message
    assert "Connection(" not in message
    assert "host=" not in message


def test_connect_failures_are_retried_for_posts_too(dead_url, session_for):
    started = time.monotonic()
    with pytest.raises(ConnectError):
        session_for(dead_url, retries=2).put(b"x")
    # urllib3 backs off 0 s then 0.2 s between attempts.
    assert time.monotonic() - started >= 0.15


def test_closed_client(scripted):
    server = scripted.start(fail_first(scripted, 0, scripted.Reply()))
    client = Client(server.url)
    session = client.session(Usecase("u"))
    session.head("k")
    client.close()
    with pytest.raises(TransportError, match="closed"):
        session.head("k")


def test_errors_of_the_callers_stream_propagate_unchanged(scripted, session_for):
    server = scripted.start(fail_first(scripted, 0, scripted.Reply()))

    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise PermissionError("cannot read the source")

    with pytest.raises(PermissionError, match="cannot read the source"):
        session_for(server.url).put(io.BufferedReader(Failing()), key="k")


def test_injected_pool(scripted):
    server = scripted.start(fail_first(scripted, 0, scripted.Reply()))
    pool = urllib3.HTTPConnectionPool("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    with Client(server.url + "/prefix", pool=pool) as client:
        client.session(Usecase("u")).head("k")
    assert server.requests[0].path == "/prefix/v1/objects/u/_/k"
    assert server.requests[0].headers["user-agent"].startswith("objectstore-client/")
    assert pool.pool is not None  # left open
    with pytest.raises(Exception, match="pool"):
        Client("http://other:1", pool=pool)
    with pytest.raises(Exception, match="configure the pool itself"):
        Client(server.url, pool=pool, timeout_ms=5)
    pool.close()


@pytest.mark.parametrize(
    ("retries", "sent"),
    [
        pytest.param(urllib3.Retry(total=0), 1, id="total-0"),
        pytest.param(urllib3.Retry(total=1), 2, id="total-1"),
        pytest.param(urllib3.Retry(total=5, status=1), 2, id="status-1"),
        pytest.param(False, 1, id="false"),
        pytest.param(None, 4, id="urllib3-default"),
    ],
)
@pytest.mark.parametrize("how", ["pool", "connection_kwargs"])
def test_configured_urllib3_retries_bound_replays(scripted, session_for, retries, sent, how):
    # The bug: an injected pool's Retry(total=0) still let a HEAD answered 503 go out 4 times.
    server = scripted.start(lambda request, index: scripted.Reply(503))
    if how == "pool":
        port = int(server.url.rsplit(":", 1)[1])
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=retries)
        session = session_for(server.url, pool=pool)
    else:
        session = session_for(server.url, connection_kwargs={"retries": retries})
    with pytest.raises(ServerError):
        session.head("k")
    assert len(server.requests) == sent


def test_the_pools_read_count_bounds_replays_after_dropped_connections(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(drop=True))
    port = int(server.url.rsplit(":", 1)[1])
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=urllib3.Retry(total=5, read=1))
    with pytest.raises(ProtocolError):
        session_for(server.url, pool=pool).head("k")
    assert len(server.requests) == 2


def test_explicit_retries_win_over_the_pools(scripted, session_for):
    server = scripted.start(lambda request, index: scripted.Reply(503))
    port = int(server.url.rsplit(":", 1)[1])
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=urllib3.Retry(total=0))
    with pytest.raises(ServerError):
        session_for(server.url, pool=pool, retries=2).head("k")
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "retries",
    [
        pytest.param(urllib3.Retry(total=10**6), id="total"),
        pytest.param(urllib3.Retry(total=None, status=10**6), id="status"),
    ],
)
def test_a_huge_pool_retry_count_is_capped(scripted, session_for, retries):
    # Uncapped, one HEAD went out a million times (answered 503 with `Retry-After: 0`, so
    # without waiting); the server gives in after 150 so that the uncapped case ends.
    def script(request, index):
        if index < 150:
            return scripted.Reply(503, headers={"Retry-After": "0"})
        return scripted.Reply(204)

    server = scripted.start(script)
    port = int(server.url.rsplit(":", 1)[1])
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=retries)
    with pytest.raises(ServerError):
        session_for(server.url, pool=pool).head("k")
    assert len(server.requests) == MAX_RETRIES + 1


@pytest.mark.parametrize(
    ("retries", "connect"),
    [
        pytest.param(urllib3.Retry(total=None), MAX_RETRIES, id="unlimited"),
        pytest.param(urllib3.Retry(total=10**6), MAX_RETRIES, id="huge-total"),
        pytest.param(urllib3.Retry(total=10**6, connect=2), 2, id="small-connect"),
    ],
)
def test_a_pools_connection_retries_are_capped(retries, connect):
    # The pool's Retry is what urllib3 itself applies to failed connections, so its counts
    # are the observable: urllib3 never exhausts a Retry whose counts are all unset.
    trimmed = connect_retries_only(retries)
    assert (trimmed.total, trimmed.connect) == (connect, connect)
    for _ in range(connect):
        trimmed = trimmed.increment("HEAD", "/k", error=NewConnectionError(CONNECTION, "refused"))
    with pytest.raises(MaxRetryError):
        trimmed.increment("HEAD", "/k", error=NewConnectionError(CONNECTION, "refused"))


GREEDY_RETRY = urllib3.Retry(
    3, status_forcelist=[503], allowed_methods=None, backoff_factor=0, raise_on_status=False
)


@pytest.mark.parametrize(
    "failure",
    [pytest.param({"drop": True}, id="dropped"), pytest.param({"status": 503}, id="503")],
)
@pytest.mark.parametrize("how", ["pool", "connection_kwargs", "int"])
def test_urllib3_never_resends_a_post_itself(scripted, session_for, failure, how):
    # Retries that would resend anything, from an injected pool or connection_kwargs:
    # urllib3 may only retry connecting, the transport decides about the rest.
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(**failure)))
    port = int(server.url.rsplit(":", 1)[1])
    if how == "pool":
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=GREEDY_RETRY)
        session = session_for(server.url, pool=pool)
    elif how == "connection_kwargs":
        session = session_for(server.url, connection_kwargs={"retries": GREEDY_RETRY})
    else:
        session = session_for(server.url, connection_kwargs={"retries": 3})
    with pytest.raises((ProtocolError, ServerError)):
        session.put(b"x", server_key=True)
    assert len(server.requests) == 1


def test_connect_retries_of_a_greedy_pool_are_kept(dead_url, session_for):
    port = int(dead_url.rsplit(":", 1)[1])
    retry = urllib3.Retry(2, backoff_factor=0.1, allowed_methods=None)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, retries=retry)
    started = time.monotonic()
    with pytest.raises(ConnectError):
        session_for(dead_url, pool=pool).put(b"x")
    # urllib3 backs off 0 s then 0.2 s between attempts.
    assert time.monotonic() - started >= 0.15


POOL = urllib3.HTTPConnectionPool("h")
CONNECTION = urllib3.connection.HTTPConnection("h")


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        pytest.param(NewConnectionError(CONNECTION, "refused"), ConnectError, id="refused"),
        pytest.param(
            NameResolutionError("h", CONNECTION, socket.gaierror()), ConnectError, id="dns"
        ),
        pytest.param(ConnectTimeoutError(CONNECTION, "slow"), ConnectTimeout, id="connect"),
        pytest.param(ReadTimeoutError(POOL, "/", "slow"), TransportTimeout, id="read-timeout"),
        pytest.param(
            Urllib3ProtocolError("Connection aborted.", TimeoutError()),
            TransportTimeout,
            id="write-timeout",
        ),
        pytest.param(Urllib3ProtocolError("Connection aborted."), ProtocolError, id="dropped"),
        pytest.param(
            MaxRetryError(POOL, "/", NewConnectionError(CONNECTION, "refused")),
            ConnectError,
            id="max-retries",
        ),
        pytest.param(urllib3.exceptions.SSLError("bad cert"), ProtocolError, id="ssl"),
    ],
)
def test_translate_error(exception, expected):
    translated = translate_error(exception, "GET", "/v1/x")
    # The SDK's class (by name: ConnectTimeout is a ConnectError too), and urllib3's.
    assert isinstance(translated, expected)
    assert type(translated).__name__ == expected.__name__
    assert isinstance(translated, type(exception))
    assert str(translated).startswith("GET /v1/x: ")


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "-1", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_malformed_retry_after_falls_back_to_backoff(scripted, session_for, value):
    # `Retry-After: nan` parsed as a float and went to `time.sleep`, which raised a bare
    # ValueError out of `head`.
    server = scripted.start(fail_first(scripted, 1, scripted.Reply(503, {"Retry-After": value})))
    session_for(server.url, deadline=15).head("k")
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.delete("k"), id="delete"),
        pytest.param(lambda s: s.put(b"x", key="k"), id="put"),
        pytest.param(lambda s: s.get("k").payload.read(), id="get"),
        pytest.param(lambda s: s.head("k"), id="head"),
    ],
)
def test_a_redirect_is_not_taken_for_success(scripted, session_for, status, operation):
    # Objectstore never redirects; a proxy's 3xx was returned as the answer: a DELETE
    # "succeeded", a PUT returned its key as stored, a GET returned the redirect's body.
    server = scripted.start(
        lambda request, index: scripted.Reply(
            status,
            {"Location": "https://elsewhere/", "Content-Type": "application/json"},
            b'{"key":"k"}',
        )
    )
    with pytest.raises(
        RequestError, match=f"status {status}: redirected to https://elsewhere/"
    ) as info:
        operation(session_for(server.url, retries=0))
    assert info.value.status == status
    assert len(server.requests) == 1


def test_the_deadline_bounds_waiting_for_a_pooled_connection(scripted):
    # With `block=True`, a request waited for a free connection forever, deadline or not.
    server = scripted.start(fail_first(scripted, 0, scripted.Reply()))
    client = Client(server.url, deadline=0.5, connection_kwargs={"block": True, "maxsize": 1})
    session = client.session(Usecase("u"), org=1)
    held = session.get("k")  # Its connection stays out of the pool until read.
    outcome: list[object] = []

    def second() -> None:
        try:
            session.head("k")
            outcome.append("returned")
        except Exception as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    thread.join(5)
    try:
        assert outcome, "still waiting for a connection 5 s after a 0.5 s deadline"
        assert isinstance(outcome[0], DeadlineExceeded)
        assert time.monotonic() - started < 2
    finally:
        held.payload.read()
        client.close()


@pytest.mark.skipif(
    sys.platform != "linux", reason="Linux drops connections to a full accept queue silently"
)
def test_connection_retries_stop_at_the_deadline(full_backlog, session_for):
    # Each of urllib3's connection retries waited the time left at the start of the
    # request, and backed off in between: a 0.5 s deadline took 2.6 s.
    session = session_for(
        full_backlog,
        deadline=0.5,
        retries=3,
        connection_kwargs={"timeout": urllib3.Timeout(connect=5, read=5)},
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        session.head("k")
    assert time.monotonic() - started < 0.9
