"""pytest fixtures for testing code that uses Objectstore, registered via `pytest11`.

Installing objectstore-client makes these fixtures available in every pytest run:

* `objectstore_server`: a session-wide `LocalServer` (no auth, in-memory storage) speaking
  today's protocol (`server_version="current"`);
* `objectstore_url`: its base URL;
* `objectstore_usecase`: a usecase name unique to the current test, so tests sharing the
  session server never see each other's objects;
* `objectstore_keypair` and `objectstore_auth_server`: a server that enforces auth with one
  key id, `"test_kid"`, allowed every permission, and the key pair to sign tokens with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from objectstore_client.testing._config import PERMISSIONS, AuthKey
from objectstore_client.testing._keys import KeyPair, generate_keypair
from objectstore_client.testing._server import LocalServer

TEST_KID = "test_kid"


@pytest.fixture(scope="session")
def objectstore_server() -> Iterator[LocalServer]:
    """A local Objectstore server shared by the whole test session, auth disabled."""
    with LocalServer(storage="memory", server_version="current") as server:
        yield server


@pytest.fixture(scope="session")
def objectstore_url(objectstore_server: LocalServer) -> str:
    """The base URL of `objectstore_server`."""
    return objectstore_server.url


@pytest.fixture
def objectstore_usecase() -> str:
    """A usecase name no other test uses: isolation on a shared server."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def objectstore_keypair() -> KeyPair:
    """The Ed25519 key pair that `objectstore_auth_server` trusts under `"test_kid"`."""
    return generate_keypair()


@pytest.fixture(scope="session")
def objectstore_auth_server(objectstore_keypair: KeyPair) -> Iterator[LocalServer]:
    """A local server enforcing auth: key id `"test_kid"` may be granted every permission."""
    key = AuthKey(
        public_keys=(objectstore_keypair.public_pem,), max_permissions=frozenset(PERMISSIONS)
    )
    with LocalServer(
        storage="memory", server_version="current", auth_keys={TEST_KID: key}
    ) as server:
        yield server
