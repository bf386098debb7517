from __future__ import annotations

import io
import logging
import os
import random
import threading

import pytest
import urllib3

from objectstore_client import Client, InvalidArgument, InvalidArgumentType, Usecase
from objectstore_client.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT,
    USER_AGENT,
    _ConnectionDefaults,
)


def test_defaults():
    with Client("http://localhost:8888") as client:
        pool = client._pool
        assert pool.pool is not None
        assert isinstance(pool.retries, urllib3.Retry)
        assert pool.pool.maxsize == DEFAULT_MAX_CONNECTIONS == 32
        assert pool.block is False
        assert pool.timeout.connect_timeout == DEFAULT_CONNECT_TIMEOUT == 0.1
        assert pool.timeout.read_timeout == DEFAULT_READ_TIMEOUT == 60.0
        assert pool.conn_kw["write_timeout"] == DEFAULT_READ_TIMEOUT
        assert pool.retries.connect == 3
        assert pool.retries.read == 0
        assert pool.headers["User-Agent"] == USER_AGENT
        assert client._transport.max_replays == 3


def test_connection_defaults_dataclass_from_0_0_19():
    defaults = _ConnectionDefaults()
    assert isinstance(defaults.retries, urllib3.Retry)
    assert isinstance(defaults.timeout, urllib3.Timeout)
    # 0.0.19 declared plain class-level defaults, read as class attributes.
    assert _ConnectionDefaults.retries.connect == 3
    assert _ConnectionDefaults.retries.read == 0
    assert _ConnectionDefaults.timeout.connect_timeout == 0.1
    assert _ConnectionDefaults.maxsize == defaults.maxsize


def test_0_0_19_client_module_names_are_the_real_ones():
    from objectstore_client import client, metadata, metrics

    assert client.measure_storage_operation is metrics.measure_storage_operation
    assert client.Metadata is metadata.Metadata
    assert client.format_expiration is metadata.format_expiration
    assert (client.HEADER_EXPIRATION, client.HEADER_META_PREFIX, client.HEADER_ORIGIN) == (
        metadata.HEADER_EXPIRATION,
        metadata.HEADER_META_PREFIX,
        metadata.HEADER_ORIGIN,
    )


def test_0_0_19_options():
    with Client(
        "https://objectstore.example:8443/prefix",
        propagate_traces=False,
        retries=5,
        timeout_ms=2500,
        connection_kwargs={"maxsize": 4, "headers": {"X-Extra": "1"}},
    ) as client:
        pool = client._pool
        assert pool.pool is not None
        assert isinstance(pool.retries, urllib3.Retry)
        assert pool.scheme == "https"
        assert pool.retries.connect == 5
        assert pool.timeout.read_timeout == 2.5
        assert pool.conn_kw["write_timeout"] == 2.5
        assert pool.pool.maxsize == 4
        assert pool.headers["X-Extra"] == "1"
        assert pool.headers["User-Agent"] == USER_AGENT
        assert client._base_path == "/prefix"
        assert client._transport.max_replays == 5


def test_connection_kwargs_override_everything():
    timeout = urllib3.Timeout(connect=5.0, read=30.0)
    with Client(
        "http://h", connection_kwargs={"timeout": timeout, "retries": urllib3.Retry(0)}
    ) as client:
        assert client._pool.timeout.connect_timeout == 5.0
        assert client._pool.conn_kw["write_timeout"] == 30.0
        assert isinstance(client._pool.retries, urllib3.Retry)
        assert client._pool.retries.total == 0


def test_timeout_ms_zero_means_no_read_timeout_as_in_0_0_19():
    with Client("http://h", timeout_ms=0) as client:
        assert client._pool.timeout.read_timeout is None


def test_keyword_options():
    with Client("http://h", max_connections=8, user_agent="my-service/1.0") as client:
        assert client._pool.pool is not None
        assert client._pool.pool.maxsize == 8
        assert client._transport.headers["User-Agent"] == "my-service/1.0"


def test_positional_parameters_keep_the_0_0_19_order():
    import inspect

    parameters = list(inspect.signature(Client).parameters.values())
    assert [p.name for p in parameters[:7]] == [
        "base_url",
        "metrics_backend",
        "propagate_traces",
        "retries",
        "timeout_ms",
        "connection_kwargs",
        "token",
    ]
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[7:])


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        pytest.param(
            "http://localhost:8888", "http://localhost:8888/v1/objects/u/_/a%20b", id="http"
        ),
        pytest.param("https://os.example", "https://os.example/v1/objects/u/_/a%20b", id="https"),
        pytest.param("http://[::1]:8888", "http://[::1]:8888/v1/objects/u/_/a%20b", id="ipv6"),
        pytest.param(
            "https://[2001:db8::1]/api", "https://[2001:db8::1]/api/v1/objects/u/_/a%20b", id="v6"
        ),
    ],
)
def test_object_url(base_url, expected):
    with Client(base_url) as client:
        assert client.session(Usecase("u")).object_url("a b") == expected


def test_close_and_context_manager(objectstore_url):
    client = Client(objectstore_url)
    with client as entered:
        assert entered is client
        entered.session(Usecase("u")).put(b"x")
    assert client._pool.pool is None
    client.close()  # idempotent


def test_user_agent_on_the_wire(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with Client(server.url) as client:
        client.session(Usecase("u")).head("k")
    assert server.requests[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("objectstore-client/")


def test_one_client_shared_by_16_threads(session, caplog):
    """1,000 mixed operations from 16 threads: no error, no pool warning, no mix-up."""
    threads, total = 16, 1000
    stored: dict[str, bytes] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        rng = random.Random(worker)
        mine: dict[str, bytes] = {}
        for step in range(total // threads + (worker < total % threads)):
            try:
                choice = rng.random()
                if not mine or choice < 0.3:
                    data = os.urandom(rng.randint(0, 20_000))
                    if step % 2:
                        key = session.put(io.BytesIO(data), compression="none")
                    else:
                        key = session.put(data, key=f"worker-{worker}/{step}")
                    mine[key] = data
                elif choice < 0.65:
                    key = rng.choice(list(mine))
                    with session.get(key) as response:
                        assert response.payload.read() == mine[key]
                elif choice < 0.9:
                    key = rng.choice(list(mine))
                    assert session.head(key).compression in (None, "zstd")
                else:
                    key = rng.choice(list(mine))
                    session.delete(key)
                    del mine[key]
            except BaseException as exc:
                errors.append(exc)
                return
        with lock:
            stored.update(mine)

    with caplog.at_level(logging.WARNING, logger="urllib3"):
        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
    assert "Connection pool is full" not in caplog.text
    assert caplog.records == []
    for key, data in stored.items():
        with session.get(key) as response:
            assert response.payload.read() == data


def test_an_empty_token_means_no_token(scripted):
    # As in 0.0.19, where a blank token setting sent requests without auth.
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with Client(server.url, token="") as client:
        session = client.session(Usecase("u"))
        session.head("k")
        with pytest.raises(InvalidArgument, match="has no token"):
            session.mint_token(expiry_seconds=10)
    assert "authorization" not in server.requests[0].headers
    assert "x-os-auth" not in server.requests[0].headers


@pytest.mark.parametrize(
    ("connection_kwargs", "error"),
    [
        pytest.param({"bogus": 1}, InvalidArgumentType, id="unknown"),
        pytest.param({"timeout": "abc"}, InvalidArgument, id="timeout"),
        pytest.param({"headers": 5}, InvalidArgumentType, id="headers"),
    ],
)
def test_bad_connection_kwargs_are_refused_by_the_constructor(connection_kwargs, error):
    # An unknown key went to urllib3's connections unchecked: the client was built, and
    # its first request raised a bare TypeError from inside urllib3.
    with pytest.raises(error, match="connection_kwargs"):
        Client("http://127.0.0.1:1", connection_kwargs=connection_kwargs)
