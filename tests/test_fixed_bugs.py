"""One regression test per objectstore-client 0.0.19 bug that this SDK fixes.

Numbers refer to shared/research/landscape.md §4; the others are from its §3.2 table.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from datetime import timedelta
from typing import Any

import pytest
import zstandard

from objectstore_client import (
    Client,
    ConnectError,
    InvalidArgument,
    Manual,
    ObjectNotFound,
    ObjectstoreError,
    RequestError,
    TimeToLive,
    TokenGenerator,
    Usecase,
)
from objectstore_client.client import USER_AGENT

KEY_JSON = '{"key":"k"}'


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, dict[str, Any]]] = []

    def increment(self, name, value=1, tags=None):
        self.calls.append((name, value, dict(tags or {})))

    def gauge(self, name, value, tags=None):
        self.calls.append((name, value, dict(tags or {})))

    def distribution(self, name, value, tags=None, unit=None):
        self.calls.append((name, value, dict(tags or {})))


def test_bug_1_keys_are_percent_encoded(session):
    keys = ["a#b", "a", "a?b=c", "a b", "a%20b", "a%2Fb", "a/b", "ü/😀", "100%"]
    for key in keys:
        assert session.put(key.encode(), key=key) == key
    for key in keys:
        with session.get(key) as response:
            assert response.payload.read() == key.encode()


def test_bug_1_keys_on_the_wire(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with Client(server.url) as client:
        client.session(Usecase("u")).head("dir/a b#c?d%e")
    assert server.requests[0].path == "/v1/objects/u/_/dir/a%20b%23c%3Fd%25e"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(bytearray, id="bytearray"),
        pytest.param(memoryview, id="memoryview"),
        pytest.param("pipe", id="pipe"),
    ],
)
def test_bug_2_uploads_that_lost_their_key_return_it(objectstore_url, objectstore_usecase, make):
    metrics = Recorder()
    if make == "pipe":
        read_fd, write_fd = os.pipe()
        os.write(write_fd, b"payload")
        os.close(write_fd)
        contents = open(read_fd, "rb")  # noqa: SIM115
    else:
        contents = make(b"payload")
    with Client(objectstore_url, metrics_backend=metrics) as client:
        session = client.session(Usecase(objectstore_usecase), org=1)
        key = session.put(contents, compression="none")
        assert session.get(key).payload.read() == b"payload"
    if make == "pipe":
        contents.close()
    sizes = [c for c in metrics.calls if c[0] == "storage.put.size"]
    assert sizes == [
        ("storage.put.size", 7, {"usecase": objectstore_usecase, "compression": "none"})
    ]


def test_bug_4_response_headers_are_read_case_insensitively(scripted):
    body = b"".join(zstandard.ZstdCompressor().compress(p) for p in (b"hello ", b"world"))
    headers = {"Content-Encoding": "zstd", "Content-Type": "text/plain", "X-Sn-Origin": "o"}
    server = scripted.start(lambda request, index: scripted.Reply(200, headers, body))
    with Client(server.url) as client:
        session = client.session(Usecase("u"))
        with session.get("k") as response:
            assert response.payload.read() == b"hello world"
            assert response.metadata.compression is None
            assert response.metadata.origin == "o"
        assert session.head("k").compression == "zstd"


def test_bug_5_durations_are_written_compactly(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, KEY_JSON))
    with Client(server.url) as client:
        session = client.session(Usecase("u"))
        for delta in (timedelta(days=31), timedelta(0), timedelta(hours=1, seconds=5)):
            session.put(b"x", key="k", expiration_policy=TimeToLive(delta))
    written = [request.headers["x-sn-expiration"] for request in server.requests]
    assert written == ["ttl:31d", "ttl:0s", "ttl:1h 5s"]


def test_bug_5_long_durations_are_read_back_correctly(session):
    # The server answers in humantime: "1month 13h 26m 24s", "1year", ...
    for days in (31, 366, 1000):
        policy = TimeToLive(timedelta(days=days))
        assert session.head(session.put(b"x", expiration_policy=policy)).expiration_policy == (
            policy
        )


def test_bug_6_non_ascii_metadata(scripted, session):
    server = scripted.start(lambda request, index: scripted.json_reply(200, KEY_JSON))
    with Client(server.url) as client:
        client.session(Usecase("u")).put(b"x", key="k", origin="café", metadata={"n": "日本"})
    sent = server.requests[0].headers
    assert (sent["x-sn-origin"], sent["x-snme-n"]) == ("caf%C3%A9", "%E6%97%A5%E6%9C%AC")
    key = session.put(b"x", origin="café", metadata={"n": "日本", "raw": "50%"})
    metadata = session.head(key)
    assert (metadata.origin, metadata.custom) == ("café", {"n": "日本", "raw": "50%"})


@pytest.mark.parametrize("as_stream", [False, True])
def test_bug_11_connect_timeout_does_not_bound_body_writes(scripted, as_stream):
    # The server stalls 0.5 s before reading; the connect timeout is 0.1 s.
    server = scripted.start(
        lambda request, index: (
            scripted.json_reply(200, KEY_JSON)
            if index
            else scripted.Reply(
                200, {"Content-Type": "application/json"}, KEY_JSON.encode(), read_delay=0.5
            )
        )
    )
    payload = os.urandom(32 * 1024 * 1024)
    contents = io.BytesIO(payload) if as_stream else payload
    with Client(server.url, retries=0) as client:
        assert client.session(Usecase("u")).put(contents, key="k", compression="none") == "k"
    assert server.requests[0].body == payload


def test_bug_12_network_failures_raise_sdk_exceptions(dead_url):
    with Client(dead_url, retries=0) as client, pytest.raises(ConnectError) as info:
        client.session(Usecase("u")).get("k")
    assert isinstance(info.value, ObjectstoreError)
    assert "could not connect" in str(info.value)


def test_bug_13_pool_serves_32_concurrent_threads_without_churn(scripted, caplog):
    server = scripted.start(lambda request, index: scripted.Reply(204, read_delay=0.05))
    with Client(server.url) as client, caplog.at_level(logging.WARNING, logger="urllib3"):
        session = client.session(Usecase("u"))
        threads = [
            threading.Thread(target=lambda: [session.head("k") for _ in range(5)])
            for _ in range(32)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert client._pool.num_connections <= 32
    assert len(server.requests) == 160
    assert "Connection pool is full" not in caplog.text


def test_bug_15_known_size_bodies_carry_content_length(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, KEY_JSON))
    with Client(server.url) as client:
        session = client.session(Usecase("u"))
        session.put(b"bytes", key="k")
        session.put(bytearray(b"bytes"), key="k", compression="none")
        session.put(io.BytesIO(b"stream"), key="k")
    sized, sized_raw, streamed = server.requests
    assert not sized.chunked
    assert int(sized.headers["content-length"]) == len(sized.body)
    assert sized_raw.headers["content-length"] == "5"
    assert streamed.chunked
    assert "content-length" not in streamed.headers


def test_bug_17_partial_reads_release_the_connection(objectstore_url, objectstore_usecase):
    with Client(objectstore_url, max_connections=2) as client:
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(os.urandom(1024 * 1024))
        for _ in range(5):
            with session.get(key) as response:
                response.payload.read(10)
        for _ in range(5):
            session.get(key).payload.read()
        pool = client._pool
        assert pool.pool is not None
        assert pool.pool.qsize() == 2  # every connection is back
        before = pool.num_connections
        for _ in range(5):
            session.get(key).payload.read()  # full reads reuse one connection
        assert pool.num_connections == before


def test_bug_25_falsy_scope_values_and_short_usecase_names(session, client):
    zero = client.session(Usecase("ab"), org=0, flag=False)
    key = zero.put(b"x")
    assert zero.get(key).payload.read() == b"x"
    assert str(zero.scope) == "org=0;flag=False"


def test_bug_26_manual_expiration_overrides_the_usecase_default(client, objectstore_usecase):
    usecase = Usecase(objectstore_usecase, expiration_policy=TimeToLive(timedelta(hours=1)))
    session = client.session(usecase)
    kept = session.head(session.put(b"x", expiration_policy=Manual()))
    assert (kept.expiration_policy, kept.time_expires) == (None, None)


def test_bug_28_secret_key_is_validated_when_the_generator_is_built():
    with pytest.raises(InvalidArgument, match="secret_key"):
        TokenGenerator("kid", "not a key")


def test_bug_object_url_uses_the_pool_scheme_brackets_and_encoding():
    with Client("https://[2001:db8::1]:8443") as client:
        url = client.session(Usecase("u"), org=1).object_url("a b#c")
    assert url == "https://[2001:db8::1]:8443/v1/objects/u/org=1/a%20b%23c"


def test_bug_empty_scope_is_written_as_underscore(client, objectstore_usecase):
    session = client.session(Usecase(objectstore_usecase))
    assert session.get(session.put(b"x")).payload.read() == b"x"


def test_bug_retries_zero_is_honoured(dead_url, caplog):
    with (
        Client(dead_url, retries=0) as client,
        caplog.at_level(logging.WARNING, "urllib3"),
        pytest.raises(ConnectError),
    ):
        client.session(Usecase("u")).head("k")
    assert "Retrying" not in caplog.text


def test_bug_user_agent_identifies_the_sdk(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with Client(server.url) as client:
        client.session(Usecase("u")).head("k")
    assert server.requests[0].headers["user-agent"] == USER_AGENT


def test_missing_objects_still_raise_request_error_404_as_in_0_0_19(session):
    with pytest.raises(RequestError) as info:
        session.get("missing")
    assert info.value.status == 404
    assert type(info.value) is ObjectNotFound
