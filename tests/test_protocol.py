"""Request paths and headers (pure), and keys round-tripping through a real server."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from objectstore_client import Client, InvalidArgument, Manual, TimeToLive, Usecase
from objectstore_client._protocol import (
    U64_LIMIT,
    decimal,
    encode_key,
    extend_expiry_body,
    header_number,
    normalize_base_path,
    object_path,
    parse_key_response,
    put_headers,
    url_origin,
)
from objectstore_client._validation import check_key
from objectstore_client.errors import ProtocolError
from objectstore_client.scope import Scope

from .conftest import Reply, ScriptedServer


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
        pytest.param("http", "fe80::1%eth0", 80, "http://[fe80::1%25eth0]", id="ipv6-zone"),
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
                check_key(candidate, upload=True)
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


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(
            datetime(2030, 1, 1, 1, 0, 0, 500, tzinfo=timezone(timedelta(hours=1))),
            {"at": "2030-01-01T00:00:00.000500+00:00"},
            id="at",
        ),
        pytest.param(
            ("creation", timedelta(days=30)), {"after": "30d", "from": "creation"}, id="creation"
        ),
        pytest.param(
            ("now", timedelta(hours=1, minutes=30, milliseconds=1)),
            {"after": "1h 30m 1s", "from": "now"},
            id="now-rounded-up",
        ),
        pytest.param(("now", timedelta(0)), {"after": "0s", "from": "now"}, id="zero"),
    ],
)
def test_extend_expiry_body(target, expected):
    assert json.loads(extend_expiry_body(target)) == {"extend_expiry": expected}


@pytest.mark.parametrize(
    ("base_path", "expected"),
    [
        pytest.param("", "", id="none"),
        pytest.param("/objectstore", "/objectstore", id="plain"),
        pytest.param("/a%7e%2fb", "/a%7E%2Fb", id="escapes-upper-cased"),
        pytest.param("/a b/é", "/a%20b/%C3%A9", id="unsafe-encoded"),
        pytest.param("/100%/x%zz", "/100%25/x%25zz", id="stray-percent"),
        pytest.param("/!$&'()*+,;=:@~-._", "/!$&'()*+,;=:@~-._", id="allowed-kept"),
    ],
)
def test_normalize_base_path(base_path, expected):
    assert normalize_base_path(base_path) == expected
    assert normalize_base_path(expected) == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    segment=st.lists(
        st.one_of(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="?#"),
            st.sampled_from(["%", "%7e", "%2F", "%zz", "/"]),
        ),
        max_size=12,
    ).map("".join)
)
def test_base_path_is_sent_as_normalized(scripted_server, segment):
    """Presigned URLs sign `normalize_base_path`: it must be what actually reaches the server."""
    base_path = "/" + segment.strip("/")
    with Client(scripted_server.url + base_path) as client:
        client.session(Usecase("u")).delete("k")
    sent = scripted_server.requests.pop().path
    assert sent == normalize_base_path(base_path).rstrip("/") + "/v1/objects/u/_/k"


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer(lambda request, index: Reply(204))
    yield server
    server.close()


def test_object_url_of_an_ipv6_host_with_a_zone_id():
    # RFC 6874: the zone id follows `%25` in a URL; a bare `%` would start an escape.
    with Client("http://[fe80::1%25eth0]:8080/") as client:
        url = client.session(Usecase("u"), org=1).object_url("k")
    assert url == "http://[fe80::1%25eth0]:8080/v1/objects/u/org=1/k"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("007", 7),
        ("0" * 5000 + "42", 42),
        (str(U64_LIMIT - 1), U64_LIMIT - 1),
        (str(U64_LIMIT), U64_LIMIT),
        ("9" * 20, U64_LIMIT),  # at most U64_LIMIT: all of these are refused alike
        ("1" * 5000, U64_LIMIT),  # Python's int() refuses over 4,300 digits
        ("", None),
        ("+5", None),
        ("\u00b2", None),  # a digit to str.isdigit, not to int()
        (" 5", None),
    ],
)
def test_decimal_reads_ascii_digits_of_any_length(text: str, number: int | None) -> None:
    assert decimal(text) == number
    assert header_number(text) == number
    assert header_number(None) is None
