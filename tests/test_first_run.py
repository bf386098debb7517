"""The first ten minutes of a new user: what used to fail with a bare status now explains."""

from __future__ import annotations

import socket

import pytest

from objectstore_client import (
    Client,
    EndpointNotFound,
    InvalidArgument,
    ObjectNotFound,
    PermissionDenied,
    SecretKey,
    Usecase,
)
from objectstore_client._validation.arguments import (
    MAX_HEADER_FIELDS,
    MAX_HEADER_LINE_BYTES,
    MAX_REQUEST_HEAD_BYTES,
    RESERVED_HEAD_BYTES,
    RESERVED_HEADER_FIELDS,
)
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair


def test_an_auth_key_without_permissions_argument_allows_everything() -> None:
    keys = generate_keypair()
    with LocalServer(storage="memory", auth_keys={"kid": AuthKey((keys.public_pem,))}) as server:
        client = Client(server.url, token=SecretKey("kid", keys.private_pem))
        session = client.session(Usecase("first"), org=1)
        key = session.put(b"first test")
        assert session.get(key).payload.read() == b"first test"
        session.delete(key)


def test_an_auth_key_with_no_permissions_is_explicit() -> None:
    keys = generate_keypair()
    locked = AuthKey((keys.public_pem,), max_permissions=frozenset())
    with LocalServer(storage="memory", auth_keys={"kid": locked}) as server:
        session = Client(server.url, token=SecretKey("kid", keys.private_pem)).session(
            Usecase("first"), org=1
        )
        with pytest.raises(PermissionDenied):
            session.put(b"x", key="k")


def _unreachable_session() -> Client:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there: a check that let the request through would raise ConnectError.
    return Client(f"http://127.0.0.1:{port}", retries=0)


def test_too_many_metadata_entries_are_refused_before_any_request() -> None:
    session = _unreachable_session().session(Usecase("first"), org=1)
    allowed = MAX_HEADER_FIELDS - RESERVED_HEADER_FIELDS
    # With compression "none" the only headers are the metadata entries.
    metadata = {f"m{i}": "v" for i in range(allowed + 1)}
    with pytest.raises(InvalidArgument, match="header fields per request") as error:
        session.put(b"x", key="k", metadata=metadata, compression="none")
    assert error.value.argument == "metadata"
    assert "protocol §14" in str(error.value)


def test_oversized_metadata_is_refused_before_any_request() -> None:
    session = _unreachable_session().session(Usecase("first"), org=1)
    limit = MAX_REQUEST_HEAD_BYTES - RESERVED_HEAD_BYTES
    values = {f"v{i}": "x" * 60_000 for i in range(limit // 60_000 + 1)}
    with pytest.raises(InvalidArgument, match="bytes of request head"):
        session.put(b"x", key="k", metadata=values)
    with pytest.raises(InvalidArgument, match="could not be read back"):
        session.put(b"x", key="k", metadata={"big": "x" * MAX_HEADER_LINE_BYTES})
    # Percent-encoding counts: "é" is sent as "%C3%A9", six bytes.
    with pytest.raises(InvalidArgument, match="percent-encoded"):
        session.put(b"x", key="k", metadata={"big": "é" * (MAX_HEADER_LINE_BYTES // 6)})


def test_metadata_up_to_the_checked_limits_is_accepted_by_the_server(
    objectstore_url: str, objectstore_usecase: str
) -> None:
    session = Client(objectstore_url).session(Usecase(objectstore_usecase), org=1)
    many = {f"m{i}": "v" for i in range(MAX_HEADER_FIELDS - RESERVED_HEADER_FIELDS)}
    session.put(b"x", key="many", metadata=many, compression="none")
    assert session.head("many").custom == many
    value = "y" * (MAX_HEADER_LINE_BYTES - len("x-snme-v0: \r\n"))
    large = {f"v{i}": value for i in range(6)}
    session.put(b"x", key="large", metadata=large, compression="none")
    assert session.head("large").custom == large


@pytest.mark.parametrize("key", ["k", None])
def test_a_404_on_upload_names_the_base_url(objectstore_url: str, key: str | None) -> None:
    session = Client(objectstore_url + "/wrong-prefix").session(Usecase("first"), org=1)
    with pytest.raises(EndpointNotFound) as error:
        session.put(b"x", key=key)
    assert not isinstance(error.value, ObjectNotFound)
    assert error.value.status == 404
    assert "base URL" in str(error.value)
    assert "usecase" in str(error.value)
    # Reads keep their meaning: a 404 there is a missing object.
    with pytest.raises(ObjectNotFound):
        session.get("k")


def test_a_404_on_any_post_names_the_base_url(objectstore_url: str, tmp_path) -> None:
    from objectstore_client.batch import Put
    from objectstore_client.transfers import TransferConfig

    session = Client(objectstore_url + "/wrong-prefix").session(Usecase("first"), org=1)
    results = session.many([Put(b"x", key="k")])
    assert isinstance(results[0].error, EndpointNotFound)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (6 << 20))
    config = TransferConfig(threshold=5 << 20, part_size=5 << 20)
    with pytest.raises(EndpointNotFound, match="base URL's path and the usecase"):
        session.upload_file(big, "big", config=config)
