"""Bad input raises a ValueError/TypeError subclass naming the argument, before any request.

The sessions here point at `dead_url`, where nothing listens: had a request been sent, the
test would see `ConnectError` instead of the argument error.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
import zstandard

from objectstore_client import (
    Client,
    ConnectError,
    InvalidArgument,
    InvalidArgumentType,
    Scope,
    TimeToLive,
    TokenGenerator,
    Usecase,
)
from objectstore_client._validation import check_key, check_usecase_name
from objectstore_client.testing import generate_keypair


@pytest.fixture
def dead_session(dead_url):
    with Client(dead_url, retries=0) as client:
        yield client.session(Usecase("usecase"), org=1)


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        pytest.param("", "must not be empty", id="empty"),
        pytest.param(".", "'.' or '..'", id="dot"),
        pytest.param("a/../b", "'.' or '..'", id="dot-dot"),
        pytest.param("a/./b", "'.' or '..'", id="dot-segment"),
        pytest.param("a\nb", "control characters", id="newline"),
        pytest.param("a\x00b", "control characters", id="nul"),
        pytest.param("a\ud800b", "lone surrogate", id="surrogate"),
    ],
)
def test_keys_the_server_cannot_store(dead_session, key, rule):
    for operation in (
        dead_session.get,
        dead_session.head,
        dead_session.delete,
        dead_session.object_url,
        dead_session.get_or_none,
        lambda k: dead_session.put(b"x", key=k or "/"),
    ):
        with pytest.raises(InvalidArgument, match="invalid key") as info:
            operation(key)
        assert info.value.argument == "key"
        assert rule in str(info.value) or key == ""


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        pytest.param("/a", "must not start or end with '/'", id="leading-slash"),
        pytest.param("a/", "must not start or end with '/'", id="trailing-slash"),
        pytest.param("a//b", "contain '//'", id="double-slash"),
        pytest.param("/", "must not start or end with '/'", id="slash"),
    ],
)
def test_keys_the_filesystem_backend_would_alias_cannot_be_uploaded(dead_session, key, rule):
    with pytest.raises(InvalidArgument, match="invalid key") as info:
        dead_session.put(b"x", key=key)
    assert rule in str(info.value)


@pytest.mark.parametrize("key", ["/a", "a/", "a//b", "/"])
def test_keys_other_clients_can_store_can_be_read_and_deleted(dead_session, key):
    # The connection error shows the request got past validation.
    for operation in (dead_session.get, dead_session.head, dead_session.delete):
        with pytest.raises(ConnectError):
            operation(key)
    assert dead_session.object_url(key).endswith(key)


@pytest.mark.parametrize("key", ["..a", "a..", "a.b", ".hidden", "...", "a/.b/c", "%2E%2E"])
def test_dots_inside_segments_are_fine(key):
    assert check_key(key) == key


@pytest.mark.parametrize("key", [None, 1, b"key"])
def test_key_type(dead_session, key):
    with pytest.raises(InvalidArgumentType, match="invalid key: must be a str"):
        dead_session.get(key)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param("", InvalidArgument, id="empty"),
        pytest.param("a/b", InvalidArgument, id="slash"),
        pytest.param(".", InvalidArgument, id="dot"),
        pytest.param("..", InvalidArgument, id="dot-dot"),
        pytest.param("a\tb", InvalidArgument, id="control"),
        pytest.param(None, InvalidArgumentType, id="none"),
        pytest.param(b"x", InvalidArgumentType, id="bytes"),
    ],
)
def test_invalid_usecase_names(name, error):
    with pytest.raises(error) as info:
        Usecase(name)
    assert info.value.argument == "name"


@pytest.mark.parametrize("name", ["a", "ab", "attachments", "a b", "ü", "x%y", "a.b", "A-Z_0"])
def test_short_and_unusual_usecase_names_are_accepted(name):
    assert Usecase(name).name == name
    assert check_usecase_name(name) == name


def test_usecase_name_is_validated_on_assignment():
    usecase = Usecase("ok")
    usecase.name = "renamed"
    assert usecase.name == "renamed"
    with pytest.raises(InvalidArgument):
        usecase.name = "a/b"


def test_usecase_compression_and_policy():
    with pytest.raises(InvalidArgument, match="compression"):
        Usecase("u", compression="gzip")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentType, match="expiration_policy"):
        Usecase("u", expiration_policy=timedelta(days=1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        pytest.param({"compression": "gzip"}, InvalidArgument, "compression", id="compression"),
        pytest.param(
            {"compression": "ZSTD"}, InvalidArgument, "compression", id="compression-case"
        ),
        pytest.param(
            {"expiration_policy": "ttl:1d"}, InvalidArgumentType, "expiration_policy", id="policy"
        ),
        pytest.param({"metadata": {"a": 1}}, InvalidArgumentType, "metadata", id="int-value"),
        pytest.param({"metadata": {"a": None}}, InvalidArgumentType, "metadata", id="none-value"),
        pytest.param({"metadata": {1: "a"}}, InvalidArgumentType, "metadata", id="int-name"),
        pytest.param({"metadata": {"a b": "x"}}, InvalidArgument, "metadata", id="space-name"),
        pytest.param({"metadata": {"": "x"}}, InvalidArgument, "metadata", id="empty-name"),
        pytest.param({"metadata": {"é": "x"}}, InvalidArgument, "metadata", id="non-ascii-name"),
        pytest.param({"metadata": [("a", "b")]}, InvalidArgumentType, "metadata", id="list"),
        pytest.param(
            {"content_type": "text/plain\r\nx: y"},
            InvalidArgument,
            "content_type",
            id="header-injection",
        ),
        pytest.param({"content_type": "tëxt/plain"}, InvalidArgument, "content_type", id="ct"),
        pytest.param({"origin": 42}, InvalidArgumentType, "origin", id="origin"),
        pytest.param({"filename": b"x"}, InvalidArgumentType, "filename", id="filename"),
        pytest.param({"origin": "\udc80"}, InvalidArgument, "origin", id="origin-surrogate"),
        pytest.param({"compress": "gzip"}, InvalidArgument, "compress", id="compress"),
        pytest.param(
            {"compress": "zstd", "compression": "zstd"},
            InvalidArgument,
            "compress",
            id="compress-and-compression",
        ),
        pytest.param(
            {"precompressed": "zstd", "compression": "zstd"},
            InvalidArgument,
            "precompressed",
            id="precompressed-and-compression",
        ),
        pytest.param(
            {"precompressed": "zstd", "compression": "none"},
            InvalidArgument,
            "precompressed",
            id="precompressed-and-compression-none",
        ),
        pytest.param(
            {"precompressed": "zstd", "compress": "zstd"},
            InvalidArgument,
            "precompressed",
            id="precompressed-and-compress",
        ),
        pytest.param({"precompressed": "gzip"}, InvalidArgument, "precompressed", id="gzip"),
        pytest.param(
            {"precompressed": "zstd"}, InvalidArgument, "precompressed", id="not-zstd-bytes"
        ),
    ],
)
def test_invalid_put_arguments(dead_session, kwargs, error, argument):
    with pytest.raises(error) as info:
        dead_session.put(b"payload", **kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param("text", id="str"),
        pytest.param(io.StringIO("text"), id="text-stream"),
        pytest.param(123, id="int"),
        pytest.param([b"a"], id="list"),
    ],
)
def test_invalid_contents(dead_session, contents):
    with pytest.raises(InvalidArgumentType) as info:
        dead_session.put(contents)
    assert info.value.argument == "contents"


def test_invalid_scopes_raise_before_a_session_exists(dead_url):
    with Client(dead_url) as client:
        with pytest.raises(InvalidArgument, match="scope 'org'"):
            client.session(Usecase("u"), org="a/b")
        with pytest.raises(InvalidArgumentType, match="usecase"):
            client.session("u", org=1)  # type: ignore[arg-type]


def test_a_stream_is_not_read_when_arguments_are_invalid(dead_session):
    stream = io.BytesIO(b"payload")
    with pytest.raises(InvalidArgument):
        dead_session.put(stream, compression="gzip")
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        pytest.param({"base_url": "localhost:8888"}, InvalidArgument, "base_url", id="no-scheme"),
        pytest.param({"base_url": "ftp://h"}, InvalidArgument, "base_url", id="ftp"),
        pytest.param({"base_url": "http://"}, InvalidArgument, "base_url", id="no-host"),
        pytest.param({"base_url": "http://h/?q=1"}, InvalidArgument, "base_url", id="query"),
        pytest.param({"base_url": "http://h:99999"}, InvalidArgument, "base_url", id="port"),
        pytest.param({"base_url": b"http://h"}, InvalidArgumentType, "base_url", id="bytes"),
        pytest.param({"retries": -1}, InvalidArgument, "retries", id="retries"),
        pytest.param({"retries": 1.5}, InvalidArgumentType, "retries", id="retries-type"),
        pytest.param({"timeout_ms": -1}, InvalidArgument, "timeout_ms", id="timeout"),
        pytest.param({"timeout_ms": "5"}, InvalidArgumentType, "timeout_ms", id="timeout-type"),
        pytest.param({"max_connections": 0}, InvalidArgument, "max_connections", id="pool-size"),
        pytest.param({"auth_header": "cookie"}, InvalidArgument, "auth_header", id="header"),
        pytest.param({"token": 42}, InvalidArgumentType, "token", id="token-type"),
        pytest.param({"token": " "}, InvalidArgument, "token", id="token-blank"),
        pytest.param(
            {"metrics_backend": object()}, InvalidArgumentType, "metrics_backend", id="metrics"
        ),
        pytest.param({"user_agent": "x\n"}, InvalidArgument, "user_agent", id="user-agent"),
    ],
)
def test_invalid_client_arguments(kwargs, error, argument):
    arguments = {"base_url": "http://localhost:8888", **kwargs}
    with pytest.raises(error) as info:
        Client(**arguments)
    assert info.value.argument == argument


def test_static_token_error_does_not_echo_the_token():
    with pytest.raises(InvalidArgument) as info:
        Client("http://h", token="secret token")
    assert "secret" not in str(info.value)


def test_invalid_secret_keys_name_the_argument():
    with pytest.raises(InvalidArgument) as info:
        TokenGenerator("kid", "<private key>")
    assert info.value.argument == "secret_key"


def test_negative_policy_in_put_fails_at_construction():
    with pytest.raises(InvalidArgument, match="negative"):
        TimeToLive(timedelta(seconds=-5))


def test_scope_objects_from_0_0_19_code():
    token = TokenGenerator("kid", generate_keypair().private_pem)
    with pytest.raises(InvalidArgumentType, match="scope"):
        token.sign_for_scope("usecase", {"org": 1})  # type: ignore[arg-type]
    assert token.sign_for_scope("usecase", Scope(org=1)).count(".") == 2


@pytest.fixture
def dead_signing_session(dead_url):
    generator = TokenGenerator("kid", generate_keypair().private_pem)
    with Client(dead_url, retries=0, token=generator) as client:
        yield client.session(Usecase("usecase"), org=1)


@pytest.mark.parametrize(
    ("method", "error"),
    [
        pytest.param("PUT", InvalidArgument, id="put"),
        pytest.param("DELETE", InvalidArgument, id="delete"),
        pytest.param("POST", InvalidArgument, id="post"),
        pytest.param("PATCH", InvalidArgument, id="patch"),
        pytest.param("", InvalidArgument, id="empty"),
        pytest.param(b"GET", InvalidArgumentType, id="bytes"),
    ],
)
def test_only_get_and_head_can_be_presigned(dead_signing_session, method, error):
    with pytest.raises(error) as info:
        dead_signing_session.presigned_object_url(method, "k")
    assert info.value.argument == "method"


DURATIONS = [
    pytest.param(timedelta(0), InvalidArgument, "longer than zero", id="zero"),
    pytest.param(timedelta(seconds=-1), InvalidArgument, "longer than zero", id="negative"),
    pytest.param(timedelta(days=7, microseconds=1), InvalidArgument, "at most 7 days", id="max"),
    pytest.param(timedelta(days=365), InvalidArgument, "at most 7 days", id="year"),
    pytest.param(3600, InvalidArgumentType, "timedelta", id="int-seconds"),
]


@pytest.mark.parametrize(("duration", "error", "rule"), DURATIONS)
def test_presign_durations(dead_signing_session, duration, error, rule):
    with pytest.raises(error, match=rule) as info:
        dead_signing_session.presigned_object_url("GET", "k", duration)
    assert info.value.argument == "duration"


TOKEN_VALIDITIES = [param for param in DURATIONS if param.id not in ("max", "year")]


@pytest.mark.parametrize(("duration", "error", "rule"), TOKEN_VALIDITIES)
def test_token_validities(dead_signing_session, duration, error, rule):
    with pytest.raises(error, match=rule) as info:
        dead_signing_session.object_url("k", token_validity=duration)
    assert info.value.argument == "token_validity"


def test_longest_validities_are_accepted(dead_signing_session):
    seven_days = timedelta(days=7)
    assert "os_duration=604800&" in dead_signing_session.presigned_object_url(
        "GET", "k", seven_days
    )
    assert "?os_auth=" in dead_signing_session.object_url("k", token_validity=seven_days)
    tiny = timedelta(microseconds=1)
    assert "os_duration=1&" in dead_signing_session.presigned_object_url("GET", "k", tiny)


def test_token_validity_is_not_capped_at_the_presign_limit(dead_signing_session):
    # Seven days is the server's limit for presigned URLs only; a token may live longer.
    before = int(time.time())
    url = dead_signing_session.object_url("k", token_validity=timedelta(days=30))
    claims = jwt.decode(url.partition("os_auth=")[2], options={"verify_signature": False})
    assert claims["exp"] >= before + 30 * 86400


NAIVE = datetime(2030, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument", "rule"),
    [
        pytest.param({}, InvalidArgument, "at/from_creation/from_now", "got 0", id="none"),
        pytest.param(
            {"at": NAIVE.replace(tzinfo=UTC), "from_now": timedelta(1)},
            InvalidArgument,
            "at/from_creation/from_now",
            "got 2 (at, from_now)",
            id="two",
        ),
        pytest.param(
            {"at": NAIVE, "from_creation": timedelta(1), "from_now": timedelta(1)},
            InvalidArgument,
            "at/from_creation/from_now",
            "got 3",
            id="three",
        ),
        pytest.param({"at": NAIVE}, InvalidArgument, "at", "timezone-aware", id="naive"),
        pytest.param({"at": date(2030, 1, 1)}, InvalidArgumentType, "at", "datetime", id="date"),
        pytest.param(
            {"at": "2030-01-01T00:00:00Z"}, InvalidArgumentType, "at", "datetime", id="str"
        ),
        pytest.param(
            {"from_creation": timedelta(seconds=-1)},
            InvalidArgument,
            "from_creation",
            "negative",
            id="negative-from-creation",
        ),
        pytest.param(
            {"from_now": timedelta(days=-1)}, InvalidArgument, "from_now", "negative", id="negative"
        ),
        pytest.param({"from_now": 3600}, InvalidArgumentType, "from_now", "timedelta", id="int"),
    ],
)
def test_invalid_expiry_extensions(dead_session, kwargs, error, argument, rule):
    with pytest.raises(error, match=re.escape(rule)) as info:
        dead_session.extend_expiry("k", **kwargs)
    assert info.value.argument == argument


def test_valid_expiry_extension_reaches_the_network(dead_session):
    """The control for the test above: a valid call does try to connect."""
    with pytest.raises(ConnectError):
        dead_session.extend_expiry("k", from_now=timedelta(0))


@pytest.mark.parametrize(
    "accept_encoding",
    [
        pytest.param("zstd", id="str"),
        pytest.param(b"zstd", id="bytes"),
        pytest.param([1], id="int-item"),
        pytest.param(42, id="int"),
    ],
)
def test_invalid_accept_encoding(dead_session, accept_encoding):
    with pytest.raises(InvalidArgumentType) as info:
        dead_session.get("k", accept_encoding=accept_encoding)
    assert info.value.argument == "accept_encoding"


def test_minting_needs_a_secret_key(dead_session, dead_url):
    with pytest.raises(InvalidArgument, match="no token") as info:
        dead_session.mint_token()
    assert info.value.argument == "token"
    with Client(dead_url, token="static.jwt.token") as client:
        session = client.session(Usecase("u"))
        with pytest.raises(InvalidArgument, match="static token") as info:
            session.mint_token(expiry_seconds=10)
        assert "static.jwt.token" not in str(info.value)


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param(zstandard.ZstdCompressor().compress(b"abc"), id="zstd-frame"),
        pytest.param(b"\x5a\x2a\x4d\x18\x00\x00\x00\x00", id="skippable-frame"),
        pytest.param(b"", id="empty"),
        pytest.param(
            memoryview(bytes(b for byte in b"\x28\xb5\x2f\xfd" for b in (byte, 0)))[::2],
            id="non-contiguous-view",
        ),
        pytest.param(io.BytesIO(b"streams are not inspected"), id="stream"),
    ],
)
def test_precompressed_contents_that_pass_the_check(dead_session, contents):
    """They pass validation, so the upload is attempted (and cannot connect)."""
    with pytest.raises(ConnectError):
        dead_session.put(contents, precompressed="zstd")


@pytest.mark.parametrize(
    "content_type",
    [
        "text",
        "text/plain garbage",
        "text//plain",
        "text/plain;;",
        "text/plain; charset",
        "/plain",
        "application/foo+x",
        "application/foo+",
        "text/plain; -a=b",
    ],
)
def test_content_types_the_server_rejects(dead_session, content_type):
    with pytest.raises(InvalidArgument, match=r"content_type.*media type"):
        dead_session.put(b"x", key="k", content_type=content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8",
        "*/*",
        "application/vnd.foo+json",
        "text/plain ; a=b",
        "text/plain;",
        'text/plain; name="quoted \\" value"',
        "text/plain; charset=",
        "image/svg+xml",
    ],
)
def test_content_types_the_server_accepts_are_sent(dead_session, content_type):
    # The connection error shows the request got past validation.
    with pytest.raises(ConnectError):
        dead_session.put(b"x", key="k", content_type=content_type)
