"""Request paths and headers (pure), and keys round-tripping through a real server."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from objectstore_client import Client, InvalidArgument, Manual, TimeToLive, Usecase
from objectstore_client._protocol import (
    encode_key,
    object_path,
    parse_key_response,
    put_headers,
    url_origin,
)
from objectstore_client._validation import check_key
from objectstore_client.errors import ProtocolError
from objectstore_client.scope import Scope


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a/b/c", "a/b/c", id="slashes-kept"),
        pytest.param("a b", "a%20b", id="space"),
        pytest.param("a#b", "a%23b", id="hash"),
        pytest.param("a?b", "a%3Fb", id="question-mark"),
        pytest.param("a%20b", "a%2520b", id="percent"),
        pytest.param("a%2Fb", "a%252Fb", id="encoded-slash-stays-literal"),
        pytest.param("ü😀", "%C3%BC%F0%9F%98%80", id="non-ascii"),
        pytest.param("~._-", "~._-", id="unreserved"),
        pytest.param("!$&'()*+,;=:@", "!$&'()*+,;=:@", id="sub-delims"),
        pytest.param('"<>[]\\^`{|}', "%22%3C%3E%5B%5D%5C%5E%60%7B%7C%7D", id="unsafe-ascii"),
    ],
)
def test_encode_key(key, encoded):
    assert encode_key(key) == encoded
    assert urllib.parse.unquote(encoded) == key


def test_object_path():
    scope = Scope(org=42, project=1337)
    assert object_path("", "attachments", scope, "k") == (
        "/v1/objects/attachments/org=42;project=1337/k"
    )
    assert object_path("/prefix/", "attachments", scope, None) == (
        "/prefix/v1/objects/attachments/org=42;project=1337/"
    )


def test_empty_scope_is_underscore_on_the_wire():
    assert object_path("", "u", Scope(), "k") == "/v1/objects/u/_/k"


def test_usecase_segment_is_encoded():
    assert object_path("", "my usecase%", Scope(), None) == "/v1/objects/my%20usecase%25/_/"


@pytest.mark.parametrize(
    ("scheme", "host", "port", "expected"),
    [
        pytest.param("http", "localhost", 8888, "http://localhost:8888", id="http"),
        pytest.param("https", "example.com", 443, "https://example.com", id="https-default"),
        pytest.param("http", "example.com", 80, "http://example.com", id="http-default"),
        pytest.param("https", "::1", 8443, "https://[::1]:8443", id="ipv6"),
        pytest.param("http", "[::1]", 80, "http://[::1]", id="ipv6-bracketed"),
        pytest.param("http", "h", None, "http://h", id="no-port"),
    ],
)
def test_origin(scheme, host, port, expected):
    assert url_origin(scheme, host, port) == expected


def test_put_headers():
    headers = put_headers(
        compression="zstd",
        content_type="text/plain",
        expiration_policy=TimeToLive(timedelta(days=1)),
        origin="café",
        filename="a b.txt",
        metadata={"build": "日本"},
    )
    assert headers == {
        "Content-Encoding": "zstd",
        "Content-Type": "text/plain",
        "x-sn-expiration": "ttl:1d",
        "x-sn-origin": "caf%C3%A9",
        "x-sn-filename": "a b.txt",
        "x-snme-build": "%E6%97%A5%E6%9C%AC",
    }


def test_put_headers_minimal_and_manual():
    headers = put_headers(
        compression="none",
        content_type=None,
        expiration_policy=Manual(),
        origin=None,
        filename=None,
        metadata={},
    )
    assert headers == {"x-sn-expiration": "manual"}


def test_parse_key_response():
    assert parse_key_response(b'{"key":"abc"}', "POST", "/p") == "abc"
    for body in (b"", b"not json", b"[]", b'{"key": 1}', b'{"key": ""}'):
        with pytest.raises(ProtocolError, match="POST /p"):
            parse_key_response(body, "POST", "/p")


# Characters that exercise every encoding rule: path syntax, percent signs, query and
# fragment delimiters, whitespace, sub-delims, non-ASCII and astral characters.
SPECIAL = list("%#?& .=;+~:@!$'()*,\"<>[]\\^`{|}aZ09-_")
KEY_CHARS = st.one_of(
    st.sampled_from(SPECIAL),
    st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\x7f"),
)


@st.composite
def storable_keys(draw: st.DrawFn) -> str:
    """Keys of 1-1,000 characters, some characters turned into `/` separators."""
    length = draw(st.integers(min_value=1, max_value=1000))
    chars = draw(st.lists(KEY_CHARS, min_size=length, max_size=length))
    for index in draw(st.lists(st.integers(1, max(1, length - 2)), max_size=12)):
        if 0 < index < length - 1 and "/" not in (chars[index - 1], chars[index + 1]):
            chars[index] = "/"
    return "".join(chars)


# Plus short arbitrary text with separators and control characters, which the client
# must either store faithfully or reject before sending.
keys = st.one_of(
    storable_keys(),
    st.text(st.one_of(KEY_CHARS, st.sampled_from(["/", "\x00", "\n"])), min_size=1, max_size=50),
)


def _variants(key: str) -> set[str]:
    """Keys a broken encoder would confuse with `key`."""
    return {
        key,
        urllib.parse.unquote(key),
        urllib.parse.quote(key),
        key.replace("/", "%2F"),
        key.replace("%", "%25"),
        key.split("#")[0] or "x",
        key.split("?")[0] or "x",
        key.replace(" ", "+"),
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=keys)
@example(key="k" * 1000)
@example(key="😀" * 1000)
@example(key="%2F/%25/a%20b/#?/ü")
def test_any_key_round_trips_and_never_aliases(objectstore_url, key):
    """Every storable key reads back its own object; near-identical keys never collide."""
    with Client(objectstore_url) as client:
        session = client.session(Usecase("hypothesis-keys"), org=1)
        candidates = {}
        for candidate in sorted(_variants(key)):
            try:
                check_key(candidate)
            except InvalidArgument:
                # The client rejects exactly the keys with empty, "." or ".." segments
                # or control characters (test_validation shows nothing is sent then).
                assert (
                    "" in candidate.split("/")
                    or {".", ".."} & set(candidate.split("/"))
                    or any(ord(c) < 32 or ord(c) == 127 for c in candidate)
                )
                continue
            candidates[candidate] = candidate.encode("utf-8", "surrogatepass")
        for candidate, payload in candidates.items():
            assert session.put(payload, key=candidate, compression="none") == candidate
        for candidate, payload in candidates.items():
            with session.get(candidate) as response:
                assert response.payload.read() == payload
