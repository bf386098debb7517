"""Bad input raises a ValueError/TypeError subclass naming the argument, before any request.

The sessions here point at `dead_url`, where nothing listens: had a request been sent, the
test would see `ConnectError` instead of the argument error.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from objectstore_client import (
    Client,
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
        pytest.param("/a", "must not start or end with '/'", id="leading-slash"),
        pytest.param("a/", "must not start or end with '/'", id="trailing-slash"),
        pytest.param("a//b", "contain '//'", id="double-slash"),
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
        pytest.param({"token": ""}, InvalidArgument, "token", id="token-empty"),
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
