"""No request can read or write outside the storage directory (issue: bad input)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import urllib3

from objectstore_client.testing import LocalServer

# Raw paths as sent on the wire: traversal via the key, the usecase and the scopes.
HOSTILE = [
    pytest.param("/v1/objects/u/_/../../../escape", id="dotdot-key"),
    pytest.param("/v1/objects/u/_/%2E%2E%2F%2E%2E%2Fescape", id="encoded-dotdot-key"),
    pytest.param("/v1/objects/u/_/%2Fetc%2Fescape", id="absolute-key"),
    pytest.param("/v1/objects/u/_//tmp/escape", id="double-slash-key"),
    pytest.param("/v1/objects//_/escape", id="empty-usecase"),
    pytest.param("/v1/objects/../_/escape", id="dotdot-usecase"),
    pytest.param("/v1/objects/%2E%2E%2F%2E%2E/_/escape", id="encoded-dotdot-usecase"),
    pytest.param("/v1/objects/./_/escape", id="dot-usecase"),
    pytest.param("/v1/objects/u/_/a/", id="trailing-slash-key"),
]


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_stay_inside_the_data_dir(tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    data = outside / "data"
    with LocalServer(data_dir=data) as server:
        before = _snapshot(outside)
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        put = pool.urlopen("PUT", path, body=b"payload")
        assert put.status == 200, put.data
        got = pool.urlopen("GET", path)
        assert (got.status, got.data) == (200, b"payload")
        created = _snapshot(outside) - before
        assert created, "the object must have been stored somewhere"
        assert all(name.startswith("data" + os.sep) for name in created), created
        assert not any(p.name == "escape" for p in tmp_path.rglob("*")), "key used as a path"


def test_keys_that_alias_on_the_filesystem_backend_are_distinct(tmp_path: Path) -> None:
    """`a` and `a/b`, `x/../y` and `y`, `a//b` and `a/b` are different objects (§2.5)."""
    with LocalServer(data_dir=tmp_path / "data") as server:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        keys = ["a", "a/b", "x/../y", "y", "a//b", "a/"]
        for key in keys:
            assert pool.urlopen("PUT", f"/v1/objects/u/_/{key}", body=key.encode()).status == 200
        for key in keys:
            reply = pool.urlopen("GET", f"/v1/objects/u/_/{key}")
            assert (reply.status, reply.data) == (200, key.encode())


def test_a_temporary_data_dir_is_removed_on_stop() -> None:
    server = LocalServer().start()
    data_dir = server.data_dir
    assert data_dir is not None
    assert data_dir.is_dir()
    server.stop()
    assert not data_dir.exists()


def test_a_given_data_dir_is_kept_and_reused(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path) as server:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        assert pool.urlopen("PUT", "/v1/objects/u/_/k", body=b"kept").status == 200
    with LocalServer(data_dir=tmp_path) as server:
        pool = urllib3.HTTPConnectionPool("127.0.0.1", server.port, retries=False)
        assert pool.urlopen("GET", "/v1/objects/u/_/k").data == b"kept"
