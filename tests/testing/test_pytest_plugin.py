"""The `pytest11` plugin: a user's own test suite gets the fixtures by installing the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = """
import urllib3


def test_server_fixture(objectstore_server, objectstore_url, objectstore_usecase):
    assert objectstore_url == objectstore_server.url
    http = urllib3.PoolManager(retries=False)
    url = f"{objectstore_url}/v1/objects/{objectstore_usecase}/_/k"
    assert http.request("PUT", url, body=b"v").status == 200
    assert http.request("GET", url).data == b"v"


SEEN = set()


def test_usecases_are_unique_per_test_1(objectstore_usecase):
    SEEN.add(objectstore_usecase)


def test_usecases_are_unique_per_test_2(objectstore_usecase):
    assert objectstore_usecase not in SEEN


def test_auth_server_fixture(objectstore_auth_server, objectstore_keypair):
    http = urllib3.PoolManager(retries=False)
    reply = http.request("GET", f"{objectstore_auth_server.url}/v1/objects/u/_/k")
    assert reply.status == 400  # enforced: no token
    assert "PRIVATE KEY" in objectstore_keypair.private_pem
"""


def test_fixtures_are_registered_through_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
