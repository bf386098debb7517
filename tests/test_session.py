"""Every operation against the local server, with auth off and on (the `session` fixture)."""

from __future__ import annotations

import io
import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import urllib3
import zstandard

from objectstore_client import (
    Client,
    ExpiryExtensionRejected,
    ExpiryExtensionUnsupported,
    GetResponse,
    Manual,
    Metadata,
    NoOpMetricsBackend,
    ObjectNotFound,
    Permission,
    PermissionDenied,
    RequestError,
    Scope,
    Session,
    TimeToIdle,
    TimeToLive,
    TokenGenerator,
    TransportError,
    UnsupportedCompression,
    Usecase,
    parse_accept_encoding,
)
from objectstore_client.testing import AuthKey, LocalServer

from .conftest import TEST_KID

PAYLOAD = b"Hello, objectstore! " * 1000


def read(session: Session, key: str, **kwargs: Any) -> bytes:
    with session.get(key, **kwargs) as response:
        return response.payload.read()


def test_put_without_key_lets_the_server_choose(session):
    key = session.put(PAYLOAD)
    assert uuid.UUID(key).version == 4
    assert read(session, key) == PAYLOAD


def test_put_with_empty_key_is_a_put_without_key(session):
    key = session.put(b"x", key="")
    assert uuid.UUID(key)


def test_put_with_key_creates_and_overwrites(session):
    assert session.put(b"first", key="doc", origin="a", metadata={"v": "1"}) == "doc"
    assert session.put(b"second", key="doc", content_type="text/plain") == "doc"
    with session.get("doc") as response:
        assert response.payload.read() == b"second"
        # An overwrite replaces all metadata.
        assert response.metadata.origin is None
        assert response.metadata.custom == {}
        assert response.metadata.content_type == "text/plain"


@pytest.mark.parametrize("compression", ["zstd", "none"])
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(bytes, id="bytes"),
        pytest.param(bytearray, id="bytearray"),
        pytest.param(memoryview, id="memoryview"),
        pytest.param(io.BytesIO, id="file"),
    ],
)
def test_put_contents_types(session, make, compression):
    key = session.put(make(PAYLOAD), compression=compression)
    assert read(session, key) == PAYLOAD


def test_put_from_a_pipe(session):
    read_fd, write_fd = os.pipe()

    def produce() -> None:
        with open(write_fd, "wb") as pipe:
            for _ in range(100):
                pipe.write(PAYLOAD)

    writer = threading.Thread(target=produce)
    writer.start()
    with open(read_fd, "rb") as pipe:
        key = session.put(pipe, key="piped")
    writer.join()
    assert read(session, key) == PAYLOAD * 100


def test_put_from_a_file_on_disk(session, tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(PAYLOAD)
    with path.open("rb") as file:
        file.seek(6)
        key = session.put(file)
        assert not file.closed
    assert read(session, key) == PAYLOAD[6:]


def test_put_empty(session):
    assert read(session, session.put(b"")) == b""
    assert read(session, session.put(io.BytesIO(), compression="none")) == b""


def test_compression_is_recorded_and_reversible(session):
    zstd_key = session.put(PAYLOAD)
    plain_key = session.put(PAYLOAD, compression="none")
    with session.get(zstd_key, decompress=False) as raw:
        assert raw.metadata.compression == "zstd"
        assert zstandard.ZstdDecompressor().decompressobj().decompress(raw.payload.read()) == (
            PAYLOAD
        )
    with session.get(zstd_key) as decoded:
        assert decoded.metadata.compression is None
        assert decoded.payload.read() == PAYLOAD
    with session.get(plain_key, decompress=False) as plain:
        assert plain.metadata.compression is None
        assert plain.payload.read() == PAYLOAD


def test_usecase_default_compression(client, objectstore_usecase):
    session = client.session(Usecase(objectstore_usecase, compression="none"))
    key = session.put(PAYLOAD)
    assert session.head(key).compression is None
    assert session.head(session.put(PAYLOAD, compression="zstd")).compression == "zstd"


def test_get_streams_and_unpacks_like_a_tuple(session):
    big = os.urandom(3 * 1024 * 1024)
    key = session.put(big)
    response = session.get(key)
    assert isinstance(response, GetResponse)
    metadata, payload = response
    assert isinstance(metadata, Metadata)
    assert payload.read(10) == big[:10]
    assert b"".join(response.iter_chunks(100_000)) == big[10:]
    response.close()


def test_get_missing_raises_object_not_found(session):
    with pytest.raises(ObjectNotFound) as info:
        session.get("missing")
    assert isinstance(info.value, RequestError)
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.status == 404
    assert "GET " in str(info.value)
    assert "/missing failed with status 404" in str(info.value)


def test_get_or_none(session):
    assert session.get_or_none("missing") is None
    key = session.put(b"x")
    response = session.get_or_none(key)
    assert response is not None
    with response:
        assert response.payload.read() == b"x"


def test_head(session):
    key = session.put(
        PAYLOAD,
        content_type="text/plain",
        origin="203.0.113.42",
        metadata={"source": "upload-service"},
        expiration_policy=TimeToIdle(timedelta(days=30)),
        filename="report.txt",
    )
    metadata = session.head(key)
    assert metadata.content_type == "text/plain"
    assert metadata.compression == "zstd"
    assert metadata.origin == "203.0.113.42"
    assert metadata.custom == {"source": "upload-service"}
    assert metadata.expiration_policy == TimeToIdle(timedelta(days=30))
    assert metadata.filename == "report.txt"
    assert metadata.time_created is not None
    assert metadata.time_expires is not None
    assert metadata.time_expires - metadata.time_created == timedelta(days=30)


def test_head_missing(session):
    with pytest.raises(ObjectNotFound, match="HEAD "):
        session.head("missing")
    assert session.head_or_none("missing") is None


def test_delete(session):
    key = session.put(b"x")
    session.delete(key)
    assert session.get_or_none(key) is None
    session.delete(key)  # deleting a missing object succeeds


def test_expiration_policies(client, objectstore_usecase):
    usecase = Usecase(objectstore_usecase, expiration_policy=TimeToLive(timedelta(days=1)))
    session = client.session(usecase, org=1)
    assert session.head(session.put(b"x")).expiration_policy == TimeToLive(timedelta(days=1))
    hour = TimeToIdle(timedelta(hours=1, minutes=30))
    assert session.head(session.put(b"x", expiration_policy=hour)).expiration_policy == hour
    manual = session.head(session.put(b"x", expiration_policy=Manual()))
    assert manual.expiration_policy is None
    assert manual.time_expires is None


def test_long_durations_read_back_exactly(session):
    for days in (31, 90, 365, 400):
        policy = TimeToLive(timedelta(days=days, seconds=7))
        assert session.head(session.put(b"x", expiration_policy=policy)).expiration_policy == (
            policy
        )


def test_unicode_metadata_round_trips(session):
    key = session.put(
        b"x",
        origin="café ☕",
        filename="résumé 日本.pdf",
        metadata={"note": "日本語 100% ✓", "Build-Id": "in  ner spaces"},
    )
    metadata = session.head(key)
    assert metadata.origin == "café ☕"
    assert metadata.filename == "résumé 日本.pdf"
    # A current server echoes spaces unescaped (protocol §5.8), so HTTP trims leading and
    # trailing ones on the way back; inner ones survive.
    assert metadata.custom == {"note": "日本語 100% ✓", "build-id": "in  ner spaces"}


def test_scopes_isolate_objects(client, objectstore_usecase):
    usecase = Usecase(objectstore_usecase)
    first = client.session(usecase, org=1, project=2)
    key = first.put(b"x", key="shared-key")
    assert client.session(usecase, org=1, project=3).get_or_none(key) is None
    assert client.session(usecase, project=2, org=1).get_or_none(key) is None
    assert read(first, key) == b"x"


def test_empty_scope(client, objectstore_usecase):
    session = client.session(Usecase(objectstore_usecase))
    key = session.put(b"unscoped", key="k")
    assert read(session, key) == b"unscoped"


def test_object_url_fetches_the_object(objectstore_server, objectstore_usecase):
    with Client(objectstore_server.url) as client:
        session = client.session(Usecase(objectstore_usecase), org=1)
        key = session.put(b"public bytes", key="dir/a b#c?d%", compression="none")
        url = session.object_url(key)
        assert url.startswith(objectstore_server.url)
        assert url.endswith("/dir/a%20b%23c%3Fd%25")
        assert urllib3.request("GET", url).data == b"public bytes"


def test_session_exposes_usecase_and_scope(client):
    usecase = Usecase("attachments")
    session = client.session(usecase, org=1)
    assert session.usecase is usecase
    assert str(session.scope) == "org=1"


def test_head_accepts_200_with_size_from_newer_servers(scripted):
    headers = {"X-Sn-Size": "5", "Content-Length": "5", "Content-Type": "text/plain"}
    server = scripted.start(lambda request, index: scripted.Reply(200, headers))
    with Client(server.url) as client:
        metadata = client.session(Usecase("u")).head("k")
    assert (metadata.size, metadata.content_type) == (5, "text/plain")


def test_unknown_content_encoding(scripted):
    headers = {"content-encoding": "gzip"}
    server = scripted.start(lambda request, index: scripted.Reply(200, headers, b"gz"))
    with Client(server.url) as client:
        session = client.session(Usecase("u"))
        with pytest.raises(UnsupportedCompression, match="gzip") as info:
            session.get("k")
        assert isinstance(info.value, NotImplementedError)
        with session.get("k", decompress=False) as raw:
            assert (raw.metadata.compression, raw.payload.read()) == ("gzip", b"gz")
        assert client._pool.num_connections == 1  # the failed get released its connection


def test_requests_follow_a_renamed_usecase(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, '{"key": "a b"}'))
    usecase = Usecase("before")
    with Client(server.url) as client:
        session = client.session(usecase, org=1)
        session.put(b"x", key="a b")
        usecase.name = "after rename"
        session.put(b"x", key="a b")
        session.put(b"x", server_key=True)
        assert session.object_url("k").endswith("/v1/objects/after%20rename/org=1/k")
    assert [request.path for request in server.requests] == [
        "/v1/objects/before/org=1/a%20b",
        "/v1/objects/after%20rename/org=1/a%20b",
        "/v1/objects/after%20rename/org=1/",
    ]


def test_whole_read_of_a_truncated_body_raises_and_drops_the_connection(scripted):
    body = zstandard.ZstdCompressor().compress(PAYLOAD)
    headers = {
        "Content-Encoding": "zstd",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    server = scripted.start(
        lambda request, index: scripted.Reply(200, headers, body[: len(body) // 2])
    )
    with Client(server.url) as client:
        response = client.session(Usecase("u")).get("k")
        with pytest.raises(TransportError):
            response.payload.read()
        assert client._pool.pool is not None
        connection = client._pool.pool.get_nowait()
        assert connection is None or connection.sock is None  # closed, not reused as is


def test_session_built_directly_as_in_0_0_19(objectstore_server, objectstore_usecase):
    pool = urllib3.connectionpool.connection_from_url(objectstore_server.url)
    session = Session(
        pool, "", NoOpMetricsBackend(), False, Usecase(objectstore_usecase), Scope(org=1)
    )
    key = session.put(b"direct")
    assert read(session, key) == b"direct"
    pool.close()


def test_expired_objects_are_not_found(objectstore_usecase):
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    with (
        LocalServer(storage="memory", clock=lambda: now[0]) as server,
        Client(server.url) as client,
    ):
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"x", expiration_policy=TimeToLive(timedelta(minutes=5)))
        assert read(session, key) == b"x"
        now[0] += timedelta(minutes=6)
        with pytest.raises(ObjectNotFound):
            session.get(key)
        assert session.head_or_none(key) is None


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> list[datetime]:
    """The local server's clock, advanced by tests."""
    return [T0]


@pytest.fixture
def extending_session(clock, objectstore_usecase) -> Iterator[Session]:
    """A session on a server that has the extend-expiry endpoint, with a fake clock."""
    with (
        LocalServer(storage="memory", extend_expiry=True, clock=lambda: clock[0]) as server,
        Client(server.url) as client,
    ):
        yield client.session(Usecase(objectstore_usecase), org=1)


def expires(session: Session, key: str) -> datetime | None:
    return session.head(key).time_expires


def test_extend_expiry_moves_the_deadline_as_asked(extending_session, clock):
    session = extending_session
    key = session.put(b"kept longer", expiration_policy=TimeToLive(timedelta(hours=1)))
    assert expires(session, key) == T0 + timedelta(hours=1)
    session.extend_expiry(key, from_creation=timedelta(hours=2))
    assert expires(session, key) == T0 + timedelta(hours=2)
    clock[0] += timedelta(minutes=10)
    session.extend_expiry(key, from_now=timedelta(hours=3))
    assert expires(session, key) == T0 + timedelta(hours=3, minutes=10)
    # An aware datetime in any zone; fractions of a second are rounded up.
    five_hours = (T0 + timedelta(hours=5, microseconds=1)).astimezone(timezone(timedelta(hours=-7)))
    session.extend_expiry(key, at=five_hours)
    assert expires(session, key) == T0 + timedelta(hours=5, seconds=1)
    # The time-to-live grows to match the new lifetime, rounded to the first of days, hours,
    # minutes within 1 % (protocol §22): 5 h 1 s is recorded as 5 h.
    assert session.head(key).expiration_policy == TimeToLive(timedelta(hours=5))
    with session.get(key) as response:
        assert response.payload.read() == b"kept longer"


@pytest.mark.parametrize(
    "target",
    [
        pytest.param({"at": T0}, id="at-in-the-past"),
        pytest.param({"from_creation": timedelta(minutes=30)}, id="shorter-from-creation"),
        pytest.param({"from_now": timedelta(0)}, id="zero-from-now"),
        pytest.param({"from_creation": timedelta(0)}, id="zero-from-creation"),
    ],
)
def test_extend_expiry_never_shortens(extending_session, target):
    session = extending_session
    key = session.put(b"x", expiration_policy=TimeToLive(timedelta(hours=1)))
    session.extend_expiry(key, **target)
    assert expires(session, key) == T0 + timedelta(hours=1)


def test_extend_expiry_keeps_a_time_to_idle(extending_session, clock):
    session = extending_session
    key = session.put(b"x", expiration_policy=TimeToIdle(timedelta(hours=1)))
    session.extend_expiry(key, from_now=timedelta(days=2))
    metadata = session.head(key)
    assert metadata.time_expires == T0 + timedelta(days=2)
    assert metadata.expiration_policy == TimeToIdle(timedelta(hours=1))


def test_extend_expiry_of_missing_and_expired_objects(extending_session, clock):
    session = extending_session
    with pytest.raises(ObjectNotFound):
        session.extend_expiry("missing", from_now=timedelta(days=1))
    key = session.put(b"x", expiration_policy=TimeToLive(timedelta(minutes=5)))
    clock[0] += timedelta(minutes=6)
    with pytest.raises(ObjectNotFound) as info:
        session.extend_expiry(key, from_now=timedelta(days=1))
    assert info.value.status == 404


def test_extend_expiry_of_an_object_that_never_expires(extending_session):
    session = extending_session
    key = session.put(b"forever")
    with pytest.raises(ExpiryExtensionRejected) as info:
        session.extend_expiry(key, from_now=timedelta(days=1))
    assert isinstance(info.value, RequestError)
    assert info.value.status == 409
    assert "PATCH" in str(info.value)
    assert session.head(key).time_expires is None


def test_extend_expiry_on_a_server_without_the_endpoint(objectstore_usecase):
    # The 0.2.0 release has no PATCH route; the fixture server is "current", which has it.
    with (
        LocalServer(storage="memory", server_version="0.2.0") as server,
        Client(server.url) as client,
    ):
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"x", expiration_policy=TimeToLive(timedelta(hours=1)))
        with pytest.raises(ExpiryExtensionUnsupported) as info:
            session.extend_expiry(key, from_now=timedelta(days=1))
    assert isinstance(info.value, RequestError)
    assert info.value.status == 405
    assert "does not support extending expiry" in str(info.value)


def test_extend_expiry_needs_write_permission(objectstore_keypair, objectstore_usecase):
    keys = {
        TEST_KID: AuthKey(
            public_keys=(objectstore_keypair.public_pem,),
            max_permissions=frozenset(str(p) for p in Permission.max()),
        )
    }
    with LocalServer(storage="memory", auth_keys=keys, extend_expiry=True) as server:
        writer = TokenGenerator(TEST_KID, objectstore_keypair.private_pem)
        reader = TokenGenerator(
            TEST_KID, objectstore_keypair.private_pem, permissions=[Permission.OBJECT_READ]
        )
        with Client(server.url, token=writer) as client:
            session = client.session(Usecase(objectstore_usecase), org=1)
            key = session.put(b"x", expiration_policy=TimeToLive(timedelta(hours=1)))
            session.extend_expiry(key, from_now=timedelta(hours=2))
        with Client(server.url, token=reader) as client:
            session = client.session(Usecase(objectstore_usecase), org=1)
            with pytest.raises(PermissionDenied):
                session.extend_expiry(key, from_now=timedelta(hours=3))


@pytest.mark.parametrize(
    ("target", "body"),
    [
        pytest.param(
            {"at": datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
            {"at": "2026-01-01T00:00:00+00:00"},
            id="at-in-utc",
        ),
        pytest.param(
            {"from_creation": timedelta(days=1, hours=2, microseconds=1)},
            {"after": "1d 2h 1s", "from": "creation"},
            id="from-creation-rounded-up",
        ),
        pytest.param(
            {"from_now": timedelta(0)}, {"after": "0s", "from": "now"}, id="from-now-zero"
        ),
    ],
)
def test_extend_expiry_on_the_wire(scripted, target, body):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with Client(server.url) as client:
        client.session(Usecase("u"), org=1).extend_expiry("a b", **target)
    (request,) = server.requests
    assert (request.method, request.path) == ("PATCH", "/v1/objects/u/org=1/a%20b")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"extend_expiry": body}


def test_extend_expiry_is_retried(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(503 if index == 0 else 204))
    with Client(server.url) as client:
        client.session(Usecase("u")).extend_expiry("k", from_now=timedelta(hours=1))
    assert [r.method for r in server.requests] == ["PATCH", "PATCH"]
    assert server.requests[0].body == server.requests[1].body


def zstd_frames(*chunks: bytes) -> bytes:
    """Independently compressed frames, concatenated: still one valid zstd stream."""
    return b"".join(zstandard.ZstdCompressor().compress(chunk) for chunk in chunks)


@pytest.mark.parametrize(
    "accept_encoding",
    [
        pytest.param(["zstd"], id="zstd"),
        pytest.param(["gzip", "ZSTD"], id="case-insensitive"),
        pytest.param(("*",), id="wildcard"),
        pytest.param(parse_accept_encoding("gzip, zstd;q=0.5"), id="parsed-header"),
    ],
)
def test_accepted_encodings_pass_stored_bytes_through(session, accept_encoding):
    stored = zstd_frames(b"first frame ", b"second frame")
    key = session.put(stored, precompressed="zstd")
    with session.get(key, accept_encoding=accept_encoding) as response:
        assert response.metadata.compression == "zstd"
        assert response.payload.read() == stored
    with session.get(key, True, accept_encoding) as positional:  # 0.2.x order
        assert positional.payload.read() == stored


@pytest.mark.parametrize(
    "accept_encoding",
    [
        pytest.param(None, id="none"),
        pytest.param([], id="empty"),
        pytest.param(["gzip", "br"], id="others"),
        pytest.param(parse_accept_encoding("zstd;q=0, *"), id="refused-beats-wildcard"),
    ],
)
def test_other_encodings_are_decompressed(session, accept_encoding):
    key = session.put(PAYLOAD)
    response = session.get_or_none(key, accept_encoding=accept_encoding)
    assert response is not None
    with response:
        assert response.metadata.compression is None
        assert response.payload.read() == PAYLOAD


def test_uncompressed_objects_ignore_accept_encoding(session):
    key = session.put(PAYLOAD, compression="none")
    with session.get(key, accept_encoding=["zstd", "*"]) as response:
        assert (response.metadata.compression, response.payload.read()) == (None, PAYLOAD)


def test_accepted_unknown_encoding_is_not_an_error(scripted):
    headers = {"content-encoding": "gzip"}
    server = scripted.start(lambda request, index: scripted.Reply(200, headers, b"gz"))
    with (
        Client(server.url) as client,
        client.session(Usecase("u")).get("k", accept_encoding=["gzip"]) as response,
    ):
        assert (response.metadata.compression, response.payload.read()) == ("gzip", b"gz")


def test_precompressed_round_trip(session):
    stored = zstd_frames(PAYLOAD[:500], PAYLOAD[500:])
    key = session.put(stored, precompressed="zstd", compression=None)
    assert session.head(key).compression == "zstd"
    assert read(session, key) == PAYLOAD
    assert read(session, key, decompress=False) == stored
    # Streams are sent as they are too, also under a usecase that compresses by default.
    streamed = session.put(io.BytesIO(stored), key="streamed", precompressed="zstd")
    assert read(session, streamed, decompress=False) == stored
    assert read(session, streamed) == PAYLOAD


def test_precompressed_on_the_wire(scripted):
    server = scripted.start(lambda request, index: scripted.json_reply(200, '{"key":"k"}'))
    stored = zstd_frames(b"abc")
    with Client(server.url) as client:
        client.session(Usecase("u")).put(stored, key="k", precompressed="zstd")
        client.session(Usecase("u")).put(b"plain", key="k", precompressed="none")
    zstd_request, plain_request = server.requests
    assert (zstd_request.headers["content-encoding"], zstd_request.body) == ("zstd", stored)
    assert "content-encoding" not in plain_request.headers
    assert plain_request.body == b"plain"


def test_compress_is_an_alias_of_compression(session):
    key = session.put(PAYLOAD, compress="none")
    assert session.head(key).compression is None
    key = session.put(PAYLOAD, compress="zstd")
    assert session.head(key).compression == "zstd"
    assert read(session, key) == PAYLOAD


def test_filename_is_served_as_content_disposition(objectstore_server, objectstore_usecase):
    with Client(objectstore_server.url) as client:
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"%PDF", filename="reports/q1 2026.pdf", compression="none")
        raw = urllib3.request("GET", session.object_url(key))
    assert raw.headers["content-disposition"] == 'attachment; filename="reports-q1 2026.pdf"'
    assert raw.data == b"%PDF"


@pytest.mark.parametrize("key", ["a//b", "/lead", "trail/"])
def test_keys_stored_by_other_clients_can_be_read_and_deleted(objectstore_server, key):
    # 0.0.19 and the server accept these keys on upload; this SDK refuses to create them
    # (the filesystem backend aliases them) but must still reach existing ones.
    url = f"{objectstore_server.url}/v1/objects/rawkeys/org=1/{key}"
    stored = urllib3.request("PUT", url, body=b"raw")
    assert stored.status in (200, 201), stored.data
    with Client(objectstore_server.url) as client:
        session = client.session(Usecase("rawkeys"), org=1)
        assert session.get(key).payload.read() == b"raw"
        assert session.head(key) is not None
        session.delete(key)
        assert session.get_or_none(key) is None
