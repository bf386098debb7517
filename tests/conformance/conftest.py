"""Fixtures of the HTTP conformance suite: which server the tests talk to.

The suite checks a server against docs/protocol.md over raw HTTP. By default it
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

``OBJECTSTORE_TEST_SERVER_VERSION`` = ``0.2.0`` (default) | ``current``
    Which server version the external server is: ``0.2.0`` (the public release, the default
    because it is the only released server) or ``current`` (today's server: the "current:"
    rules of docs/protocol.md). Tests marked ``@pytest.mark.server_version("current")``
    or ``("0.2.0")`` hold for that version only; tests of the other version are skipped.
    Unmarked tests hold for both.

Locally (no ``OBJECTSTORE_TEST_URL``) local servers of both versions and both profiles run,
each rule against the servers it applies to, keeping the suite's runtime close to one pass:
unmarked tests run against a current server with ``semantics="production"`` (memory storage)
and a 0.2.0 server with ``semantics="filesystem"`` (filesystem storage), so every unmarked
rule is checked on each version and on each profile; a test marked with one axis runs on both
values of the other; a test marked with both runs once. All servers enforce auth with three
kids configured as above. ``local_only`` tests start servers of their own with the
configuration they need (the marked version, else current). Each test works in a usecase of
its own (``conf-<random hex>``), so tests never see each other's objects.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ._api import Api, SigningKey, Target, new_signing_key, uniq

PROFILES = ("production", "filesystem")
VERSIONS = ("current", "0.2.0")
FULL = frozenset({"object.read", "object.write", "object.delete"})

EXTERNAL_URL = os.environ.get("OBJECTSTORE_TEST_URL") or None
EXTERNAL_PROFILE = os.environ.get("OBJECTSTORE_TEST_PROFILE") or "filesystem"
EXTERNAL_VERSION = os.environ.get("OBJECTSTORE_TEST_SERVER_VERSION") or "0.2.0"

# Unmarked tests: one pass that still covers each version and each profile once.
_UNMARKED = (("current", "production"), ("0.2.0", "filesystem"))


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
    if EXTERNAL_URL is not None and EXTERNAL_VERSION not in VERSIONS:
        raise pytest.UsageError(
            f"OBJECTSTORE_TEST_SERVER_VERSION must be one of {VERSIONS}, not {EXTERNAL_VERSION!r}"
        )


def _marked(node: pytest.Item | pytest.Function, name: str, allowed: tuple[str, ...]) -> str | None:
    marker = node.get_closest_marker(name)
    if marker is None:
        return None
    (value,) = marker.args
    assert value in allowed, f"unknown {name} {value!r}"
    return str(value)


def _profile_of(node: pytest.Item | pytest.Function) -> str | None:
    return _marked(node, "profile", PROFILES)


def _version_of(node: pytest.Item | pytest.Function) -> str | None:
    return _marked(node, "server_version", VERSIONS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    profile = _profile_of(metafunc.definition)
    version = _version_of(metafunc.definition)
    if EXTERNAL_URL is not None:
        pairs = [(EXTERNAL_VERSION, EXTERNAL_PROFILE)]
    elif profile is None and version is None:
        pairs = list(_UNMARKED)
    else:
        pairs = [
            (v, p)
            for v in ([version] if version else VERSIONS)
            for p in ([profile] if profile else PROFILES)
        ]
    params = [f"{v}-{p}" for v, p in pairs]
    metafunc.parametrize("target", params, indirect=True, scope="session")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if EXTERNAL_URL is None:
        return
    if item.get_closest_marker("local_only") is not None:
        pytest.skip("local_only: needs server configuration, runs against the local server only")
    profile = _profile_of(item)
    if profile is not None and profile != EXTERNAL_PROFILE:
        pytest.skip(f"{profile}-profile rule; the external server is {EXTERNAL_PROFILE}")
    version = _version_of(item)
    if version is not None and version != EXTERNAL_VERSION:
        pytest.skip(f"server {version} rule; the external server is {EXTERNAL_VERSION}")


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

    def target(self, url: str, profile: str, version: str) -> Target:
        return Target(url, profile, True, self.main, self.readonly, self.noperm, version)


@pytest.fixture(scope="session")
def local_keys() -> LocalKeys:
    return LocalKeys()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, local_keys: LocalKeys) -> Iterator[Target]:
    """The server under test, for the `<version>-<profile>` this instance is parametrized with."""
    version, profile = str(request.param).split("-")
    if EXTERNAL_URL is not None:
        yield Target(
            EXTERNAL_URL.rstrip("/"),
            profile,
            False,
            _env_key("OBJECTSTORE_TEST"),
            _env_key("OBJECTSTORE_TEST_READONLY"),
            _env_key("OBJECTSTORE_TEST_NOPERM"),
            version,
        )
        return
    from objectstore_client.testing import LocalServer

    options: dict[str, Any] = {
        "storage": "memory" if profile == "production" else "filesystem",
        "semantics": profile,
        "auth_keys": local_keys.auth_keys(),
        "server_version": version,
    }
    with LocalServer(**options) as server:
        yield local_keys.target(server.url, profile, version)


@dataclass
class Expired:
    """Objects past their deadline on one server, and a `manual` one that never expires.

    `spare` is an expired TTL object that tests may overwrite; the others stay untouched.
    """

    api: Api
    ttl: str
    tti: str
    manual: str
    spare: str
    seconds: int
    """The TTL/TTI duration they were written with."""


@pytest.fixture(scope="session")
def expired(target: Target) -> Expired:
    """Expired objects, shared by every test of one server so that it sleeps only once.

    0.2.0: written with 2 s policies, read 2.5 s later. Today's server rounds the request
    time up to a whole second (protocol §5.5) and expiry is strict (`expires < now`): 1 s
    policies are surely past after 2.2 s.
    """
    api = Api(target)
    seconds = 1 if target.current else 2
    ttl, tti, manual, spare = uniq("ttl"), uniq("tti"), uniq("manual"), uniq("spare")
    api.put_ok(ttl, b"ttl", {"x-sn-expiration": f"ttl:{seconds}s"})
    api.put_ok(tti, b"tti", {"x-sn-expiration": f"tti:{seconds}s"})
    api.put_ok(manual, b"manual")
    api.put_ok(spare, b"spare", {"x-sn-expiration": f"ttl:{seconds}s"})
    time.sleep(2.2 if target.current else 2.5)
    return Expired(api, ttl, tti, manual, spare, seconds)


@pytest.fixture
def api(target: Target) -> Api:
    """A client for the target server, in a usecase no other test uses."""
    return Api(target)


ServerFactory = Callable[..., Target]


@pytest.fixture
def make_server(request: pytest.FixtureRequest, local_keys: LocalKeys) -> Iterator[ServerFactory]:
    """Start a dedicated local server: `make_server(**LocalServer options) -> Target`.

    The three kids of `local_keys` are configured unless `auth_keys` is given. `profile` in the
    returned target is the `semantics` option (default production); the server version is the
    test's `server_version` marker (default current) unless `server_version` is given.
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
            options.setdefault("server_version", _version_of(request.node) or "current")
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
                options["server_version"],
            )

        yield factory
