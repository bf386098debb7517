"""Fixtures of the HTTP conformance suite: which server the tests talk to.

The suite checks a server against shared/objectstore-http-api.md over raw HTTP. By default it
runs against local servers it starts in-process; the same tests run unchanged against the
real Rust server.

Target selection (environment variables):

``OBJECTSTORE_TEST_URL`` (e.g. ``http://127.0.0.1:8888``)
    Run against this external server instead of starting local ones. Tests marked
    ``local_only`` (they need server configuration: usecase expiration policies, killswitches,
    rate limits, ``enforce=false`` auth, request/concurrency limits, the ready/down file) are
    skipped.

``OBJECTSTORE_TEST_PROFILE`` = ``filesystem`` (default) | ``production``
    Which backend-dependent rules the external server follows. Tests marked
    ``@pytest.mark.profile("filesystem")`` hold for the filesystem backend only (the real test
    server), ``@pytest.mark.profile("production")`` for GCS/BigTable only; tests of the other
    profile are skipped. Unmarked tests hold for every backend.

``OBJECTSTORE_TEST_KID`` and ``OBJECTSTORE_TEST_PRIVATE_KEY``
    Key id and path to the Ed25519 PKCS#8 PEM private key whose public key the external server
    has configured under that kid with all three permissions (``object.read``,
    ``object.write``, ``object.delete``) and auth enforced. Without ``OBJECTSTORE_TEST_KID``
    the external server is assumed to run with auth disabled: requests carry no token and
    tests that need auth are skipped.

``OBJECTSTORE_TEST_READONLY_KID`` and ``OBJECTSTORE_TEST_READONLY_PRIVATE_KEY`` (optional)
    A kid configured with ``max_permissions = [object.read]``. Tests that need it are skipped
    if it is not given.

``OBJECTSTORE_TEST_NOPERM_KID`` and ``OBJECTSTORE_TEST_NOPERM_PRIVATE_KEY`` (optional)
    A kid configured without ``max_permissions`` (so it grants nothing). Tests that need it
    are skipped if it is not given.

Locally (no ``OBJECTSTORE_TEST_URL``) both profiles run: every unmarked test runs twice, once
against a server with ``semantics="production"`` (memory storage) and once against one with
``semantics="filesystem"`` (filesystem storage); profile-marked tests run against the matching
one only. Both enforce auth with three kids configured as above. ``local_only`` tests start
servers of their own with the configuration they need. Each test works in a usecase of its
own (``conf-<random hex>``), so tests never see each other's objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from ._api import Api, SigningKey, Target, new_signing_key

PROFILES = ("production", "filesystem")
FULL = frozenset({"object.read", "object.write", "object.delete"})

EXTERNAL_URL = os.environ.get("OBJECTSTORE_TEST_URL") or None
EXTERNAL_PROFILE = os.environ.get("OBJECTSTORE_TEST_PROFILE") or "filesystem"


def _env_key(prefix: str) -> SigningKey | None:
    kid = os.environ.get(f"{prefix}_KID")
    if not kid:
        return None
    key_path = os.environ.get(f"{prefix}_PRIVATE_KEY")
    if not key_path:
        raise pytest.UsageError(f"{prefix}_KID is set but {prefix}_PRIVATE_KEY is not")
    return SigningKey(kid, Path(key_path).read_text())


def pytest_configure(config: pytest.Config) -> None:
    if EXTERNAL_URL is not None and EXTERNAL_PROFILE not in PROFILES:
        raise pytest.UsageError(
            f"OBJECTSTORE_TEST_PROFILE must be one of {PROFILES}, not {EXTERNAL_PROFILE!r}"
        )


def _profile_of(node: pytest.Item | pytest.Function) -> str | None:
    marker = node.get_closest_marker("profile")
    if marker is None:
        return None
    (name,) = marker.args
    assert name in PROFILES, f"unknown profile {name!r}"
    return str(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    profile = _profile_of(metafunc.definition)
    if EXTERNAL_URL is not None:
        params = [EXTERNAL_PROFILE]
    elif profile is not None:
        params = [profile]
    else:
        params = list(PROFILES)
    metafunc.parametrize("target", params, indirect=True, scope="session")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if EXTERNAL_URL is None:
        return
    if item.get_closest_marker("local_only") is not None:
        pytest.skip("local_only: needs server configuration, runs against the local server only")
    profile = _profile_of(item)
    if profile is not None and profile != EXTERNAL_PROFILE:
        pytest.skip(f"{profile}-profile rule; the external server is {EXTERNAL_PROFILE}")


class LocalKeys:
    """The three kids every local server trusts, and their public keys."""

    def __init__(self) -> None:
        self.main, self.main_pub = new_signing_key("test_kid")
        self.readonly, self.readonly_pub = new_signing_key("readonly_kid")
        self.noperm, self.noperm_pub = new_signing_key("noperm_kid")

    def auth_keys(self) -> dict[str, Any]:
        from objectstore_client.testing import AuthKey

        return {
            "test_kid": AuthKey(public_keys=(self.main_pub,), max_permissions=FULL),
            "readonly_kid": AuthKey(
                public_keys=(self.readonly_pub,), max_permissions=frozenset({"object.read"})
            ),
            "noperm_kid": AuthKey(public_keys=(self.noperm_pub,), max_permissions=frozenset()),
        }

    def target(self, url: str, profile: str) -> Target:
        return Target(url, profile, True, self.main, self.readonly, self.noperm)


@pytest.fixture(scope="session")
def local_keys() -> LocalKeys:
    return LocalKeys()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, local_keys: LocalKeys) -> Iterator[Target]:
    """The server under test, for the profile this test instance is parametrized with."""
    profile: str = request.param
    if EXTERNAL_URL is not None:
        yield Target(
            EXTERNAL_URL.rstrip("/"),
            profile,
            False,
            _env_key("OBJECTSTORE_TEST"),
            _env_key("OBJECTSTORE_TEST_READONLY"),
            _env_key("OBJECTSTORE_TEST_NOPERM"),
        )
        return
    from objectstore_client.testing import LocalServer

    options: dict[str, Any] = {
        "storage": "memory" if profile == "production" else "filesystem",
        "semantics": profile,
        "auth_keys": local_keys.auth_keys(),
        "server_version": "0.2.0",
    }
    with LocalServer(**options) as server:
        yield local_keys.target(server.url, profile)


@pytest.fixture
def api(target: Target) -> Api:
    """A client for the target server, in a usecase no other test uses."""
    return Api(target)


ServerFactory = Callable[..., Target]


@pytest.fixture
def make_server(request: pytest.FixtureRequest, local_keys: LocalKeys) -> Iterator[ServerFactory]:
    """Start a dedicated local server: `make_server(**LocalServer options) -> Target`.

    The three kids of `local_keys` are configured unless `auth_keys` is given. `profile` in the
    returned target is the `semantics` option (default production).
    """
    if request.node.get_closest_marker("local_only") is None:
        pytest.fail("tests using make_server must be marked local_only")
    if EXTERNAL_URL is not None:
        pytest.skip("local_only")
    from objectstore_client.testing import LocalServer

    with ExitStack() as stack:

        def factory(**options: Any) -> Target:
            options.setdefault("storage", "memory")
            options.setdefault("semantics", "production")
            options.setdefault("auth_keys", local_keys.auth_keys())
            options.setdefault("server_version", "0.2.0")
            server = stack.enter_context(LocalServer(**options))
            keys = options["auth_keys"]
            main = local_keys.main if "test_kid" in keys else None
            return Target(
                server.url,
                options["semantics"],
                True,
                main,
                local_keys.readonly if main else None,
                local_keys.noperm if main else None,
            )

        yield factory
