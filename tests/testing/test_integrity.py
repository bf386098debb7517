"""Storage integrity under concurrent requests (real HTTP on loopback)."""

from __future__ import annotations

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

        def write(name, header, chunks, *rest, **kw):  # type: ignore[no-untyped-def]
            # A rewrite of a version already stored is the bump's metadata update: slow it
            # down so that the PUT below lands between its read and its write.
            if name.startswith("objects/") and header.get("version") in seen:
                rewriting.set()
                time.sleep(0.5)
            seen.add(header.get("version"))
            return real_write(name, header, chunks, *rest, **kw)

        backend.write = write
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
            "PUT", f"/v1/objects/u/_/r?session={token}", body=b"done",
            headers={"upload-offset": "0"},
        )
        assert chunk.status == 201, chunk.data
        assert not (tmp_path / "data" / "data").exists()
