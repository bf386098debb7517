"""Storage integrity under concurrent requests (real HTTP on loopback)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3

from objectstore_client.testing import LocalServer


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("storage", ["filesystem", "memory"])
def test_put_during_a_tti_bump_is_not_lost(tmp_path: Path, storage: str) -> None:
    """A GET's TTI bump rewrites the object; a PUT finishing meanwhile must win (§9.3)."""
    clock = _Clock()
    data_dir = tmp_path / "data" if storage == "filesystem" else None
    with LocalServer(storage=storage, data_dir=data_dir, clock=clock) as server:
        backend = server._app.storage._backend  # type: ignore[union-attr]
        real_write = backend.write
        seen: set[object] = set()
        rewriting = threading.Event()

        def write(name, header, chunks, *rest, **kw):
            # A rewrite of a version already stored is the bump's metadata update: slow it
            # down so that the PUT below lands between its read and its write.
            if name.startswith("objects/") and header.get("version") in seen:
                rewriting.set()
                time.sleep(0.5)
            seen.add(header.get("version"))
            return real_write(name, header, chunks, *rest, **kw)

        backend.write = write  # type: ignore[method-assign]
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False, maxsize=4)
        path = "/v1/objects/u/_/k"
        put = pool.urlopen("PUT", path, body=b"old", headers={"x-sn-expiration": "tti:1h"})
        assert put.status == 200, put.data
        clock.now += timedelta(minutes=30)  # past the debounce window: the next read bumps

        got: dict[str, object] = {}
        reader = threading.Thread(target=lambda: got.update(r=pool.urlopen("GET", path)))
        reader.start()
        assert rewriting.wait(5)
        assert pool.urlopen("PUT", path, body=b"new").status == 200
        reader.join(5)
        assert got["r"].data == b"old"  # type: ignore[attr-defined]

        final = pool.urlopen("GET", path)
        assert (final.status, final.data) == (200, b"new")


def test_a_relative_data_dir_survives_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects stay where they were stored when the process's working directory changes."""
    monkeypatch.chdir(tmp_path)
    with LocalServer(data_dir="data") as server:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        path = "/v1/objects/u/_/k"
        assert pool.urlopen("PUT", path, body=b"kept").status == 200
        session = pool.urlopen(
            "PUT", "/v1/objects/u/_/r?upload_type=resumable", headers={"upload-length": "4"}
        )
        assert session.status == 200, session.data
        token = session.json()["session"]
        monkeypatch.chdir(tmp_path / "data")  # e.g. a test using monkeypatch.chdir
        got = pool.urlopen("GET", path)
        assert (got.status, got.data) == (200, b"kept")
        assert pool.urlopen("PUT", "/v1/objects/u/_/k2", body=b"x").status == 200
        chunk = pool.urlopen(
            "PUT",
            f"/v1/objects/u/_/r?session={token}",
            body=b"done",
            headers={"upload-offset": "0"},
        )
        assert chunk.status == 201, chunk.data
        assert not (tmp_path / "data" / "data").exists()


def test_filesystem_semantics_refuse_a_conflicting_write_that_raced_the_check(
    tmp_path: Path,
) -> None:
    """`a` and `a/b` cannot both be written (§2.5), even when their PUTs overlap.

    The PUT of `a` is checked for path conflicts before its body arrives; `a/b` is written
    meanwhile. Both used to be acknowledged, after which neither could be read.
    """
    with LocalServer(data_dir=tmp_path / "data", semantics="filesystem") as server:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        with socket.create_connection(("127.0.0.1", server.port)) as slow:
            slow.sendall(
                b"PUT /v1/objects/u/_/a HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nfi"
            )
            time.sleep(0.3)  # the server has checked `a` and waits for the rest of the body
            inner = pool.urlopen("PUT", "/v1/objects/u/_/a/b", body=b"dir")
            slow.sendall(b"le")
            status = int(slow.recv(65536).split(b" ", 2)[1])
        acknowledged = {
            key for key, ok in (("a", status == 200), ("a/b", inner.status == 200)) if ok
        }
        assert len(acknowledged) == 1, (status, inner.status)
        for key, body in (("a", b"file"), ("a/b", b"dir")):
            got = pool.urlopen("GET", f"/v1/objects/u/_/{key}")
            if key in acknowledged:
                assert (got.status, got.data) == (200, body)
