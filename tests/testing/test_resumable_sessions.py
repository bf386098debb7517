"""Resumable sessions of the local server beyond the wire rules: lifetime, atomicity, 0.2.0.

The wire rules themselves are in tests/conformance/test_resumable.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
import urllib3

from objectstore_client.testing import LocalServer

PATH = "/v1/objects/test/org=1/"


def _pool(server: LocalServer) -> urllib3.HTTPConnectionPool:
    return urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False, maxsize=4)


def _create(pool: urllib3.HTTPConnectionPool, key: str, length: int) -> str:
    reply = pool.urlopen(
        "PUT", PATH + key + "?upload_type=resumable", headers={"upload-length": str(length)}
    )
    assert reply.status == 200, reply.data
    token: str = json.loads(reply.data)["session"]
    return token


def _write(
    pool: urllib3.HTTPConnectionPool, key: str, token: str, offset: int | str, body: bytes = b""
) -> urllib3.BaseHTTPResponse:
    return pool.urlopen(
        "PUT",
        PATH + key + f"?session={token}",
        headers={"upload-offset": str(offset)},
        body=body,
    )


def test_sessions_survive_a_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalServer(data_dir=data) as server:
        pool = _pool(server)
        token = _create(pool, "k", 6)
        assert _write(pool, "k", token, 0, b"abc").status == 204
        cancelled = _create(pool, "c", 3)
        assert pool.urlopen("DELETE", PATH + f"c?session={cancelled}").status == 204
        pool.close()
    with LocalServer(data_dir=data) as server:
        pool = _pool(server)
        reply = _write(pool, "k", token, "*")
        assert reply.status == 204
        assert reply.headers["upload-offset"] == "3"
        assert _write(pool, "c", cancelled, "*").status == 404
        assert _write(pool, "k", token, 3, b"def").status == 201
        assert pool.urlopen("GET", PATH + "k").data == b"abcdef"
        pool.close()
    # Completed and cancelled sessions leave no staging files behind.
    assert list((data / "resumable").iterdir()) == []


@pytest.mark.parametrize("storage", ["memory", "filesystem"])
def test_sessions_die_with_a_server_without_a_given_data_dir(storage: str) -> None:
    with LocalServer(storage=storage) as server:
        pool = _pool(server)
        token = _create(pool, "k", 6)
        pool.close()
    with LocalServer(storage=storage) as server:
        pool = _pool(server)
        assert _write(pool, "k", token, "*").status == 404
        pool.close()


def test_a_partial_object_is_never_visible() -> None:
    """Readers racing a chunked upload see the old object until the new one is complete."""
    old = b"o" * 4096
    chunks = [bytes([65 + i]) * 65536 for i in range(16)]
    new = b"".join(chunks)
    seen: set[str] = set()
    stop, reading = threading.Event(), threading.Event()
    with LocalServer() as server:
        pool = _pool(server)
        assert pool.urlopen("PUT", PATH + "k", body=old).status == 200
        token = _create(pool, "k", len(new))

        def reader() -> None:
            own = _pool(server)
            while not stop.is_set():
                seen.add(hashlib.sha256(own.urlopen("GET", PATH + "k").data).hexdigest())
                reading.set()
            own.close()

        thread = threading.Thread(target=reader)
        thread.start()
        # The writes start once the reader has read: else it may see only the end.
        assert reading.wait(10)
        try:
            offset = 0
            for chunk in chunks:
                reply = _write(pool, "k", token, offset, chunk)
                offset += len(chunk)
                assert reply.status == (201 if offset == len(new) else 204), reply.data
        finally:
            stop.set()
            thread.join(10)
        assert pool.urlopen("GET", PATH + "k").data == new
        pool.close()
    assert seen <= {hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest()}
    assert hashlib.sha256(old).hexdigest() in seen


def test_server_0_2_0_ignores_the_resumable_query() -> None:
    """Protocol §2.1/§18.2: the 0.2.0 server stores the (empty) body as a plain write."""
    with LocalServer(storage="memory", server_version="0.2.0") as server:
        pool = _pool(server)
        assert pool.urlopen("PUT", PATH + "k", body=b"data").status == 200
        reply = pool.urlopen(
            "PUT", PATH + "k?upload_type=resumable", headers={"upload-length": "6"}
        )
        assert reply.status == 200
        assert json.loads(reply.data) == {"key": "k"}
        assert pool.urlopen("GET", PATH + "k").data == b""
        reply = pool.urlopen(
            "POST", PATH + "?upload_type=multipart", headers={"upload-length": "6"}
        )
        assert reply.status == 201, "no query classification on 0.2.0"
        reply = pool.urlopen("DELETE", PATH + "k?session=AAAA")
        assert reply.status == 204
        assert pool.urlopen("GET", PATH + "k").status == 404
        pool.close()


def test_concurrent_chunks_at_one_offset_apply_once() -> None:
    """Two writers of the same chunk: one is applied, the other sees the moved offset (409)."""
    with LocalServer(storage="memory") as server:
        pool = _pool(server)
        token = _create(pool, "k", 8)
        statuses: list[int] = []

        def send(body: bytes) -> None:
            own = _pool(server)
            statuses.append(_write(own, "k", token, 0, body).status)
            own.close()

        threads = [threading.Thread(target=send, args=(b"abcd",)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(statuses) == [204, 409]
        reply = _write(pool, "k", token, "*")
        assert reply.headers["upload-offset"] == "4"
        pool.close()
