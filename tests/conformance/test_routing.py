"""§1 transport, §2 URL layout and §3 processing order."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import _wire
from ._api import (
    JSON,
    READ,
    SERVER,
    Api,
    assert_empty,
    assert_json_error,
    assert_text_error,
    make_token,
    uniq,
)
from ._wire import RawConnection, Response

# -- §1 transport basics -------------------------------------------------------------------


def _response_for(api: Api, case: str) -> Response:
    key = uniq()
    api.put_ok(key, b"data")
    if case == "put 200":
        return api.put(key, b"data")
    if case == "post 201":
        return api.post(b"x")
    if case == "get 200":
        return api.get(key)
    if case == "get 206":
        return api.get(key, {"range": "bytes=0-1"})
    if case == "get 416":
        return api.get(key, {"range": "bytes=10-"})
    if case == "head":
        return api.head(key)
    if case == "delete 204":
        return api.delete(key)
    if case == "get 404 missing object":
        return api.get(uniq())
    if case == "404 no route":
        return api.request("GET", "/nope", auth=False)
    if case == "405 wrong method":
        return api.request("POST", api.path(key), auth=False)
    if case == "400 path":
        return api.request("GET", api.path(key, scopes="org"))
    if case == "400 json range":
        return api.get(key, {"range": "bytes=5-3"})
    assert case == "health"
    return api.request("GET", "/health", auth=False)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        pytest.param(case, status, id=case)
        for case, status in [
            ("put 200", 200),
            ("post 201", 201),
            ("get 200", 200),
            ("get 206", 206),
            ("get 416", 416),
            ("head", 0),
            ("delete 204", 204),
            ("get 404 missing object", 404),
            ("404 no route", 404),
            ("405 wrong method", 405),
            ("400 path", 400),
            ("400 json range", 400),
            ("health", 200),
        ]
    ],
)
def test_server_header_on_every_response(api: Api, case: str, status: int) -> None:
    """§1: responses carry `server: objectstore/0.1.0`, including 404/405 and errors."""
    resp = _response_for(api, case)
    # HEAD: 204 on 0.2.0, 200 today (protocol §6.4).
    assert resp.status == (status or (200 if api.target.current else 204)), resp
    assert resp.header("server") == SERVER, resp


def test_server_header_on_auth_error(api: Api) -> None:
    """§1: application errors (here a 400 auth error) also carry the server header."""
    api.require_auth()
    resp = api.request("GET", api.path(uniq()), auth=False)
    assert resp.status == 400, resp
    assert resp.header("server") == SERVER


def test_date_header(api: Api) -> None:
    """§1: responses carry hyper's `date` header (IMF-fixdate)."""
    resp = api.request("GET", "/health", auth=False)
    date = resp.header("date")
    assert date is not None, resp
    assert date.endswith(" GMT"), date


def test_response_header_names_are_lower_case(api: Api) -> None:
    """§1/§19.10: every response header name is lower-case, also metadata and errors."""
    key = uniq()
    api.put_ok(
        key,
        b"x",
        {
            "Content-Type": "text/plain",
            "X-Sn-Expiration": "ttl:1h",
            "X-Sn-Origin": "1.2.3.4",
            "X-Sn-Filename": "a.txt",
            "X-Snme-Mixed": "v",
        },
    )
    for resp in (
        api.get(key),
        api.head(key),
        api.get(key, {"range": "bytes=0-0"}),
        api.get(key, {"range": "bytes=5-"}),
        api.request("PATCH", api.path(key)),
        api.get(key, {"range": "bytes=3-2"}),
    ):
        assert resp.names, resp
        assert all(name == name.lower() for name in resp.names), resp.names


def test_http_1_0_request(api: Api) -> None:
    """§1: plain HTTP/1.0 is served (no chunking possible, so the body is close-delimited)."""
    key = uniq()
    api.put_ok(key, b"hello over 1.0")
    path = api.path(key)
    lines = [f"GET {path} HTTP/1.0", f"host: {api.target.host}"]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    resp = _wire.raw_exchange(api.target.host, api.target.port, raw)
    assert resp.status == 200, resp
    assert resp.body == b"hello over 1.0"
    # 0.2.0 streams GET bodies chunked to HTTP/1.1 (protocol §1); HTTP/1.0 has no chunked
    # coding, so hyper sends the body as it is, up to the close.
    assert resp.header("transfer-encoding") is None, resp


@pytest.mark.parametrize("length", [b"\xb2", b"-1", b"+5", b"5 5"])
def test_a_content_length_that_is_not_ascii_digits_is_400(api: Api, length: bytes) -> None:
    """§1: `content-length` must be ASCII digits (hyper); anything else → 400, nothing stored.

    Byte 0xB2 is a superscript two in Latin-1: a digit to Python's `str.isdigit`.
    """
    key = uniq()
    head = _put_head(api, key, [b"connection: close", b"content-length: " + length])
    resp = _wire.raw_exchange(api.target.host, api.target.port, head + b"hello", method="PUT")
    assert resp.status == 400, resp
    assert api.get(key).status == 404


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"x-(a): b", id="name-not-a-token"),
        pytest.param(b"x-a: b\x01c", id="control-byte-in-value"),
        pytest.param(b"x-a: b\x7fc", id="del-in-value"),
        pytest.param(b"x-a: b\rc", id="bare-cr-in-value"),
    ],
)
def test_a_header_httparse_refuses_is_400(api: Api, header: bytes) -> None:
    """§1: a header httparse refuses makes the whole request a 400, whatever its path.

    hyper parses request heads with httparse: a name must be a token, a value must hold no
    control byte but tab.
    """
    raw = b"GET /health HTTP/1.1\r\nhost: x\r\n" + header + b"\r\nconnection: close\r\n\r\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == 400


@pytest.mark.parametrize("method", [b"get", b"M-SEARCH", b"FOO"])
def test_any_token_method_is_routed(api: Api, method: bytes) -> None:
    """§1/§2.1: any token is a method; on an object route an unknown one is a 405.

    httparse takes any token as a method, case-sensitively: `get` is not GET.
    """
    path = api.path(uniq()).encode()
    raw = method + b" " + path + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    resp = _wire.raw_exchange(api.target.host, api.target.port, raw)
    assert resp.status == 405, resp
    assert "GET" in (resp.header("allow") or "").split(",")


def test_bare_lf_line_ends_are_read(api: Api) -> None:
    """§1: httparse ends request-head lines at a bare LF as well as at CRLF."""
    raw = b"GET /health HTTP/1.1\nhost: x\nconnection: close\n\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == 200


def test_a_folded_header_line_is_400(api: Api) -> None:
    """§1: a header line continued on the next (obsolete folding) → 400, as hyper does."""
    raw = b"GET /health HTTP/1.1\r\nhost: x\r\nx-a: b\r\n c\r\nconnection: close\r\n\r\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == 400


def test_a_header_value_with_obs_text_is_read(api: Api) -> None:
    """§1: bytes from 0x80 are allowed in header values (httparse's obs-text)."""
    raw = b"GET /health HTTP/1.1\r\nhost: x\r\nx-a: caf\xe9\r\nconnection: close\r\n\r\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == 200


@pytest.mark.parametrize("keep_alive", [True, False])
def test_http_1_0_is_answered_in_http_1_0(api: Api, keep_alive: bool) -> None:
    """§1: hyper answers HTTP/1.0 in HTTP/1.0; `keep-alive` keeps the connection and is echoed.

    Without it the connection closes after the answer, which has no `connection` header.
    """
    request = b"GET /health HTTP/1.0\r\n" + (b"connection: keep-alive\r\n" * keep_alive) + b"\r\n"
    with RawConnection(api.target.host, api.target.port, timeout=10) as conn:
        conn.send(request + request)
        answers = b""
        while answers.count(b"HTTP/1.0 200 ") < 2 and (piece := conn.sock.recv(65536)):
            answers += piece
    assert answers.startswith(b"HTTP/1.0 200 "), answers
    head = answers.split(b"\r\n\r\n")[0].lower()
    assert (b"\r\nconnection: keep-alive" in head) is keep_alive, head
    assert answers.count(b"HTTP/1.0 200 ") == (2 if keep_alive else 1), answers


def test_a_fragment_in_the_target_is_dropped(api: Api) -> None:
    """§1: the URI parser drops a `#` fragment, whatever it holds: the key ends before it."""
    key = uniq()
    resp = api.request("PUT", api.path(key) + "#frag<`>", body=b"f")
    assert resp.status == 200, resp
    assert resp.json()["key"] == key
    assert api.get(key).body == b"f"


@pytest.mark.parametrize("suffix", ["<", ">", "`", '?q="', "?q=<", "?q=>"])
def test_a_byte_the_uri_parser_refuses_is_400(api: Api, suffix: str) -> None:
    """§1: `<`, `>` or a backtick in the path, `"`, `<` or `>` in the query → 400."""
    raw = f"GET /health{suffix} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode()
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == 400


@pytest.mark.parametrize(
    ("suffix", "status"),
    [('"', 404), ("{}", 404), ("|^[]~", 404), ("?q=`{}|^[]~?", 200)],
)
def test_bytes_the_uri_parser_lets_through_are_routed(api: Api, suffix: str, status: int) -> None:
    """§1: `"`, `{`, `}` and the other visible bytes pass in a path, a backtick in a query."""
    raw = f"GET /health{suffix} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode()
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == status


def test_a_target_over_65534_bytes_is_414(api: Api) -> None:
    """§1: hyper answers 414 to a request target of more than 65,534 bytes."""
    target = b"/health?q=" + b"a" * (65_535 - len(b"/health?q="))
    for sent, status in ((target, 414), (target[:-1], 200)):
        raw = b"GET " + sent + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == status


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        pytest.param(b"/health#caf\xc3\xa9", 200, id="utf8-in-fragment"),
        pytest.param(b"/health#caf\xe9", 400, id="not-utf8-in-fragment"),
        pytest.param(b"/health?q=" + b"a" * 65_524 + b"\xe9", 400, id="long-not-utf8"),
        pytest.param(b"/health?q=" + b"a" * 65_523 + b"\xc3\xa9", 414, id="long-utf8"),
    ],
)
def test_a_target_is_utf8_as_a_whole(api: Api, sent: bytes, status: int) -> None:
    """§1: httparse takes a target only if it is UTF-8 as a whole, before hyper's 414."""
    raw = b"GET " + sent + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == status


@pytest.mark.parametrize(
    ("sent", "name_length", "status"),
    [
        (b"/health", 65_535, 200),
        (b"/health", 65_536, 431),
        (b"/health<", 65_536, 431),
        (b"/health?q=" + b"a" * 65_525, 65_536, 414),
    ],
)
def test_a_header_name_of_64_kib_is_431(
    api: Api, sent: bytes, name_length: int, status: int
) -> None:
    """§1: hyper answers 431 to a header name of 64 KiB or more, after the target's 414."""
    name = b"x" * name_length
    raw = b"GET " + sent + b" HTTP/1.1\r\nhost: x\r\n" + name + b": v\r\nconnection: close\r\n\r\n"
    assert _wire.raw_exchange(api.target.host, api.target.port, raw).status == status


def _put_head(api: Api, key: str, framing: list[bytes]) -> bytes:
    """The head of a PUT of `key` with the given framing header lines, ending in CRLF CRLF."""
    path = api.path(key)
    lines = [f"PUT {path} HTTP/1.1", f"host: {api.target.host}"]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    return "\r\n".join(lines).encode() + b"\r\n" + b"".join(h + b"\r\n" for h in framing) + b"\r\n"


def _closed_after_response(conn: RawConnection) -> bool:
    conn.sock.settimeout(5)
    try:
        return conn.sock.recv(1) == b""
    except TimeoutError:
        return False


@pytest.mark.parametrize("second", [b"5", b"05"])
def test_content_lengths_that_agree_in_value_are_one(api: Api, second: bytes) -> None:
    """§1: several `content-length` headers are one length if their numbers agree (hyper)."""
    key = uniq()
    raw = _put_head(api, key, [b"content-length: 5", b"content-length: " + second]) + b"hello"
    resp = _wire.raw_exchange(api.target.host, api.target.port, raw, method="PUT")
    assert resp.status == 200, resp
    assert api.get(key).body == b"hello"


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        pytest.param([b"content-length: 5", b"content-length: 6"], 400, id="disagreeing"),
        pytest.param([b"content-length: 18446744073709551616"], 400, id="over-64-bits"),
        pytest.param([b"content-length: 18446744073709551614"], 431, id="2**64-2"),
        pytest.param([b"content-length: x", b"transfer-encoding: chunked"], 400, id="x-then-te"),
        pytest.param([b"transfer-encoding: gzip"], 400, id="not-chunked"),
        pytest.param([b"transfer-encoding: chunked, gzip"], 400, id="chunked-not-last"),
    ],
)
def test_a_framing_hyper_refuses(api: Api, framing: list[bytes], status: int) -> None:
    """§1: hyper's reading of `content-length` and `transfer-encoding`, header by header."""
    key = uniq()
    raw = _put_head(api, key, [*framing, b"connection: close"])
    resp = _wire.raw_exchange(api.target.host, api.target.port, raw, method="PUT")
    assert resp.status == status, resp
    assert api.get(key).status == 404


def test_transfer_encoding_voids_content_length_and_closes_the_connection(api: Api) -> None:
    """§1: `transfer-encoding: chunked` voids `content-length` and closes the connection.

    The `content-length` after it is not even read (`x` is not a number), and hyper closes
    the connection after the response to a request with both.
    """
    key = uniq()
    raw = _put_head(api, key, [b"transfer-encoding: chunked", b"content-length: x"])
    with RawConnection(api.target.host, api.target.port, timeout=10) as conn:
        conn.send(raw + b"5\r\nhello\r\n0\r\n\r\n")
        assert conn.response("PUT").status == 200
        assert _closed_after_response(conn)
    assert api.get(key).body == b"hello"


def test_any_connection_close_header_closes_the_connection(api: Api) -> None:
    """§1: a `close` token in any `connection` header closes it, whatever came before."""
    raw = b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\nconnection: close\r\n\r\n"
    with RawConnection(api.target.host, api.target.port, timeout=10) as conn:
        conn.send(raw)
        assert conn.response().status == 200
        assert _closed_after_response(conn)


def test_expect_100_continue(api: Api) -> None:
    """§1: `Expect: 100-continue` gets an interim 100 before the body is sent."""
    key = uniq()
    path = api.path(key)
    lines = [f"PUT {path} HTTP/1.1", f"host: {api.target.host}"]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    lines += ["content-length: 5", "expect: 100-continue"]
    with RawConnection(api.target.host, api.target.port, timeout=10) as conn:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode())
        interim = conn.read_until(b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        conn.send(b"hello")
        resp = conn.response("PUT")
    assert resp.status == 200, resp
    assert api.get(key).body == b"hello"


def test_chunked_request_body(api: Api) -> None:
    """§1: request bodies may be chunked."""
    key = uniq()
    resp = api.request("PUT", api.path(key), chunks=[b"abc", b"", b"defg", b"h" * 5000])
    assert resp.status == 200, resp
    assert api.get(key).body == b"abcdefg" + b"h" * 5000


# -- §2.1 route table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/", id="root"),
        pytest.param("GET", "/v1", id="v1"),
        pytest.param("GET", "/v1/", id="v1-slash"),
        pytest.param("GET", "/v1/objects", id="objects"),
        pytest.param("GET", "/v1/objects/u", id="only-usecase"),
        pytest.param("POST", "/v1/objects/u", id="post-only-usecase"),
        pytest.param("GET", "/V1/objects/u/_/k", id="upper-case-V1"),
        pytest.param("GET", "/v1/Objects/u/_/k", id="upper-case-Objects"),
        pytest.param("GET", "/v2/objects/u/_/k", id="v2"),
        pytest.param("GET", "/api/v1/objects/u/_/k", id="base-path"),
        pytest.param("POST", "/v1/objects:batch/u/_", id="batch-without-trailing-slash"),
        pytest.param("POST", "/v1/objects:batch/u/_/x", id="batch-with-key"),
        pytest.param("POST", "/v1/objects:batch/u", id="batch-only-usecase"),
        pytest.param("GET", "/v1/objects:unknown/u/_/k", id="unknown-verb"),
        pytest.param("GET", "/v1/objects:multipart:parts/u/_", id="parts-without-key"),
        pytest.param("POST", "/v1/objects:multipart:complete/u/_", id="complete-without-key"),
        pytest.param("GET", "/v1/objects:list/u/_/", id="no-listing"),
        pytest.param("GET", "/healthz", id="healthz"),
        pytest.param("GET", "/metrics", id="metrics"),
    ],
)
def test_unmatched_path_is_404_with_empty_body(api: Api, method: str, path: str) -> None:
    """§2.1: unmatched paths are 404 with an empty body (§3: before auth, so no token)."""
    resp = api.request(method, path, auth=False)
    assert_empty(resp, 404)


OBJECT_ALLOW = "GET,HEAD,PUT,DELETE"
# Today's server registers PATCH between PUT and DELETE (protocol §2.1, §22).
OBJECT_ALLOW_CURRENT = "GET,HEAD,PUT,PATCH,DELETE"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("POST", "/v1/objects/u/_/k", OBJECT_ALLOW, id="post-object"),
        pytest.param("OPTIONS", "/v1/objects/u/_/k", OBJECT_ALLOW, id="options-object"),
        pytest.param("GET", "/v1/objects/u/_", "POST", id="get-collection"),
        pytest.param("PUT", "/v1/objects/u/_", "POST", id="put-collection"),
        pytest.param("GET", "/v1/objects/u/_/", "POST", id="get-empty-key"),
        pytest.param("PUT", "/v1/objects/u/_/", "POST", id="put-empty-key"),
        pytest.param("DELETE", "/v1/objects/u/_/", "POST", id="delete-empty-key"),
        pytest.param("HEAD", "/v1/objects/u/_/", "POST", id="head-empty-key"),
        pytest.param("GET", "/v1/objects:batch/u/_/", "POST", id="get-batch"),
        pytest.param("PUT", "/v1/objects:batch/u/_/", "POST", id="put-batch"),
        pytest.param("GET", "/v1/objects:multipart/u/_", "POST", id="get-initiate"),
        pytest.param("PUT", "/v1/objects:multipart/u/_/", "POST", id="put-initiate-slash"),
        pytest.param("GET", "/v1/objects:multipart:complete/u/_/k", "POST", id="get-complete"),
    ],
)
def test_wrong_method_is_405_with_allow(api: Api, method: str, path: str, allow: str) -> None:
    """§2.1: matched path, wrong method → 405, empty body, exact `allow` (before auth, §3)."""
    resp = api.request(method, path, auth=False)
    assert_empty(resp, 405)
    if api.target.current and allow == OBJECT_ALLOW:
        allow = OBJECT_ALLOW_CURRENT
    assert resp.header("allow") == allow, resp


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH"])
def test_parts_route_allow_order(api: Api, method: str) -> None:
    """§2.1/§11: the parts route lists its methods in registration order, `GET,HEAD,PUT`."""
    resp = api.request(method, "/v1/objects:multipart:parts/u/_/k", auth=False)
    assert_empty(resp, 405)
    assert resp.header("allow") == "GET,HEAD,PUT", resp


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        pytest.param("POST", "/v1/objects:multipart/u/_/k", {"PUT", "DELETE"}, id="post-mp-key"),
        pytest.param("GET", "/v1/objects:multipart/u/_/k", {"PUT", "DELETE"}, id="get-mp-key"),
        pytest.param(
            "POST", "/v1/objects:multipart:parts/u/_/k", {"PUT", "GET", "HEAD"}, id="post-parts"
        ),
        pytest.param(
            "DELETE", "/v1/objects:multipart:parts/u/_/k", {"PUT", "GET", "HEAD"}, id="del-parts"
        ),
        pytest.param("POST", "/health", {"GET", "HEAD"}, id="post-health"),
        pytest.param("POST", "/ready", {"GET", "HEAD"}, id="post-ready"),
        pytest.param("DELETE", "/keda", {"GET", "HEAD"}, id="delete-keda"),
    ],
)
def test_wrong_method_allow_lists_route_methods(
    api: Api, method: str, path: str, methods: set[str]
) -> None:
    """§2.1: `allow` lists the route's methods comma-separated without spaces (GET adds HEAD)."""
    resp = api.request(method, path, auth=False)
    assert_empty(resp, 405)
    allow = resp.header("allow")
    assert allow is not None, resp
    assert " " not in allow
    assert set(allow.split(",")) == methods, allow
    assert len(allow.split(",")) == len(methods), allow


def test_query_string_ignored_on_object_routes(api: Api) -> None:
    """§2.1: unknown query parameters are ignored by object routes.

    (Today's server interprets `upload_type` and `session` on PUT/POST/DELETE, protocol
    §23.1; the 0.2.0 release ignores them too, see test_quirks.)
    """
    key = uniq()
    assert api.request("PUT", api.path(key) + "?x=1&uploadType=resumable", body=b"q").status == 200
    resp = api.request("GET", api.path(key) + "?foo=bar&range=bytes%3D0-0")
    assert resp.status == 200, resp
    assert resp.body == b"q"


def test_miscellaneous_request_headers_ignored(api: Api) -> None:
    """§17: x-downstream-service, sentry-trace, baggage and user-agent have no effect."""
    key = uniq()
    extra = {
        "x-downstream-service": "relay-7d9f8c6b5-x2x4z",
        "sentry-trace": "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1",
        "baggage": "sentry-environment=prod",
        "user-agent": "conformance/1.0",
    }
    assert api.put(key, b"v", extra).status == 200
    assert api.get(key, extra).body == b"v"


# -- §2.2 path parameter extraction --------------------------------------------------------


def test_encoded_slash_in_key_is_a_slash(api: Api) -> None:
    """§2.2: `a%2Fb` and `a/b` address the same object."""
    resp = api.put(uniq(), raw_key="a%2Fb", body=b"one")
    assert resp.json() == {"key": "a/b"}
    assert api.get("a/b").body == b"one"
    assert api.put("a/b", b"two").status == 200
    assert api.get("", raw_key="a%2Fb").body == b"two"


def test_percent_decoding_of_any_hex_case(api: Api) -> None:
    """§2.2: every %XX (either hex case) is decoded after routing: `%41%62%2f` → `Ab/`."""
    resp = api.put("", raw_key="%41%62%2fc", body=b"decoded")
    assert resp.status == 200, resp
    assert resp.json() == {"key": "Ab/c"}
    assert api.get("Ab/c").body == b"decoded"


@pytest.mark.parametrize(
    ("raw_key", "key"),
    [
        pytest.param("100%zz", "100%zz", id="percent-non-hex"),
        pytest.param("end%", "end%", id="percent-at-end"),
        pytest.param("x%4", "x%4", id="percent-one-digit"),
    ],
)
def test_lone_percent_stays_literal(api: Api, raw_key: str, key: str) -> None:
    """§2.2: a `%` not followed by two hex digits stays literal."""
    resp = api.put("", raw_key=raw_key, body=b"lit")
    assert resp.status == 200, resp
    assert resp.json() == {"key": key}
    assert api.get(key).body == b"lit"


def test_plus_is_not_a_space(api: Api) -> None:
    """§2.2: `+` in the path is not turned into a space."""
    resp = api.put("", raw_key="a+b", body=b"plus")
    assert resp.json() == {"key": "a+b"}
    assert api.get("a b").status == 404
    assert api.get("", raw_key="a%2Bb").body == b"plus"


@pytest.mark.parametrize(
    ("usecase", "scopes", "raw_key"),
    [
        pytest.param(None, None, "bad%FFkey", id="key"),
        pytest.param(None, None, "%C3%28", id="key-overlong-sequence"),
        pytest.param(None, "org=%FF", "k", id="scopes"),
        pytest.param("%C3", None, "k", id="usecase"),
    ],
)
def test_invalid_utf8_parameter_is_400_text(
    api: Api, usecase: str | None, scopes: str | None, raw_key: str
) -> None:
    """§2.2: a parameter that decodes to invalid UTF-8 → 400 `Invalid URL: Invalid UTF-8 in `."""
    u = api.usecase if usecase is None else usecase
    s = api.scopes if scopes is None else scopes
    resp = api.request("GET", f"/v1/objects/{u}/{s}/{raw_key}")
    assert_text_error(resp, 400, "Invalid URL: Invalid UTF-8 in `")
    assert resp.text.endswith("`"), resp


def test_empty_scopes_segment_is_400(api: Api) -> None:
    """§2.2/§19.12: `/v1/objects/u//k` matches with empty scopes, which fail scope parsing."""
    resp = api.request("PUT", f"/v1/objects/{api.usecase}//k", body=b"x")
    assert_text_error(resp, 400, "Invalid URL: ")
    assert "scope must be 'key=value'" in resp.text, resp


def test_empty_usecase_is_accepted(api: Api) -> None:
    """§2.2/§2.3/§19.12: an empty usecase (`/v1/objects//_/k`) is accepted."""
    key = uniq()
    path = f"/v1/objects//_/{key}"
    resp = api.request("PUT", path, body=b"empty usecase")
    assert resp.status == 200, resp
    assert api.request("GET", path).body == b"empty usecase"


@pytest.mark.parametrize(
    ("raw_key", "key"),
    [
        pytest.param("a//b", "a//b", id="double-slash"),
        pytest.param("a/", "a/", id="trailing-slash"),
        pytest.param("/k", "/k", id="leading-slash"),
        pytest.param("/", "/", id="only-slash"),
        pytest.param("a/./b/../c", "a/./b/../c", id="dot-segments"),
        pytest.param("..", "..", id="dotdot"),
        pytest.param("a%2F%2Fb", "a//b", id="encoded-slashes"),
    ],
)
def test_key_is_the_whole_remainder(api: Api, raw_key: str, key: str) -> None:
    """§2.2/§2.5: the key is the whole remainder, verbatim (multipart initiate echoes it)."""
    resp = api.request("PUT", api.path(route="objects:multipart", raw_key=raw_key))
    assert resp.status == 200, resp
    assert resp.json()["key"] == key


@pytest.mark.profile("production")
def test_slash_variants_are_distinct_keys(api: Api) -> None:
    """§2.5: the server normalises nothing, so `a/b`, `a//b`, `a/` and `a` are four objects."""
    for raw, body in (("a/b", b"1"), ("a//b", b"2"), ("a/", b"3"), ("a", b"4")):
        assert api.put("", raw_key=raw, body=body).status == 200
    for raw, body in (("a/b", b"1"), ("a//b", b"2"), ("a/", b"3"), ("a", b"4")):
        assert api.get("", raw_key=raw).body == body


# -- §2.3 usecase --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "usecase",
    [
        pytest.param("UPPER.case", id="dot-and-case"),
        pytest.param("a b", id="space"),
        pytest.param("é-ü", id="non-ascii"),
        pytest.param("ab", id="two-chars"),
        pytest.param("x" * 200, id="long"),
        pytest.param("semi;colon=eq", id="sub-delims"),
        pytest.param("a/b", id="encoded-slash"),
    ],
)
def test_usecase_is_not_validated(api: Api, usecase: str) -> None:
    """§2.3: any usecase is accepted; it need not be configured."""
    key = uniq()
    assert api.put(key, b"u", usecase=usecase).status == 200
    resp = api.get(key, usecase=usecase)
    assert resp.status == 200, resp
    assert resp.body == b"u"


def test_usecase_is_part_of_identity(api: Api) -> None:
    """§2.3: the same key and scopes under another usecase is another object."""
    key = uniq()
    api.put_ok(key, b"first")
    other = api.usecase + "-other"
    assert api.get(key, usecase=other).status == 404
    assert api.put(key, b"second", usecase=other).status == 200
    assert api.get(key).body == b"first"


# -- §2.4 scopes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param("_", id="none"),
        pytest.param("org=42", id="one"),
        pytest.param("org=42;project=1337", id="two"),
        pytest.param("a=$!+'()-_", id="special-value"),
        pytest.param("$!+'()-_=v", id="special-name"),
        pytest.param("ORG=Abc09", id="case"),
        pytest.param("org%3D42", id="encoded-equals"),
        pytest.param("org=42%3Bproject=1", id="encoded-semicolon"),
    ],
)
def test_valid_scopes(api: Api, scopes: str) -> None:
    """§2.4: `_` or `name=value` pairs joined by `;`, from the allowed character set."""
    key = uniq()
    resp = api.put(key, b"s", scopes=scopes)
    assert resp.status == 200, resp
    assert api.get(key, scopes=scopes).body == b"s"


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        pytest.param("org", "scope must be 'key=value'", id="no-equals"),
        pytest.param("_x", "scope must be 'key=value'", id="underscore-prefix"),
        pytest.param("__", "scope must be 'key=value'", id="double-underscore"),
        pytest.param("org=1;project", "scope must be 'key=value'", id="second-no-equals"),
        pytest.param("org=", "key and value must be non-empty", id="empty-value"),
        pytest.param("=1", "key and value must be non-empty", id="empty-name"),
        pytest.param("org=1;", "", id="trailing-semicolon"),
        pytest.param(";org=1", "", id="leading-semicolon"),
        pytest.param("org=1;;project=2", "", id="empty-piece"),
        pytest.param("org=1=2", "invalid character '='", id="equals-in-value"),
        pytest.param("org=a.b", "invalid character '.'", id="dot"),
        pytest.param("or.g=1", "invalid character '.'", id="dot-in-name"),
        pytest.param("org=a%2Fb", "invalid character '/'", id="slash"),
        pytest.param("org=a%20b", "invalid character ' '", id="space"),
        pytest.param("org=a*b", "invalid character '*'", id="star"),
        pytest.param("org=%C3%A9", "invalid character", id="non-ascii"),
        pytest.param("org=%3B", "", id="encoded-semicolon-only"),
        pytest.param("org=a,b", "invalid character ','", id="comma"),
    ],
)
def test_invalid_scopes_are_400_text(api: Api, scopes: str, message: str) -> None:
    """§2.4: scope errors → 400 `text/plain` `Invalid URL: <message>`."""
    resp = api.request("PUT", api.path(uniq(), scopes=scopes), body=b"x")
    assert_text_error(resp, 400, "Invalid URL: ")
    assert message in resp.text, resp


def test_scope_order_is_significant(api: Api) -> None:
    """§2.4: `org=1;project=2` and `project=2;org=1` are different namespaces."""
    key = uniq()
    assert api.put(key, b"ordered", scopes="org=1;project=2").status == 200
    assert api.get(key, scopes="project=2;org=1").status == 404
    assert api.get(key, scopes="org=1;project=2").body == b"ordered"


def test_duplicate_scope_name_accepted(api: Api) -> None:
    """§2.4: the same scope name may appear twice."""
    key = uniq()
    assert api.put(key, b"dup", scopes="org=1;org=2").status == 200
    assert api.get(key, scopes="org=1;org=2").body == b"dup"


def test_scopes_are_identity(api: Api) -> None:
    """§2.4: the same key under different scopes (or none) is a different object."""
    key = uniq()
    assert api.put(key, b"42", scopes="org=42").status == 200
    assert api.get(key, scopes="org=43").status == 404
    assert api.get(key, scopes="_").status == 404
    assert api.get(key, scopes="org=42;project=1").status == 404
    assert api.get(key, scopes="org=42").body == b"42"


def test_scopes_decoded_before_parsing(api: Api) -> None:
    """§2.2/§2.4: `org%3D42` decodes to `org=42`, the same namespace."""
    key = uniq()
    assert api.put(key, b"enc", scopes="org%3D42").status == 200
    assert api.get(key, scopes="org=42").body == b"enc"


# -- §2.6 client encoding ------------------------------------------------------------------


def test_encoded_percent_survives(api: Api) -> None:
    """§2.6: `PUT .../looks%2520encoded` stores and returns key `looks%20encoded`."""
    resp = api.put("", raw_key="looks%2520encoded", body=b"p")
    assert resp.json() == {"key": "looks%20encoded"}
    assert api.get("looks%20encoded").body == b"p"
    assert api.get("", raw_key="looks%20encoded").status == 404


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("with space", id="space"),
        pytest.param("ünïcödé", id="unicode"),
        pytest.param("emoji-\U0001f680", id="emoji"),
        pytest.param("a+b", id="plus"),
        pytest.param("!$&'()*,;=", id="sub-delims"),
        pytest.param("tilde~dot.dash-under_", id="unreserved"),
        pytest.param("50%", id="percent"),
        pytest.param("q?x=1#frag", id="query-and-fragment-chars"),
        pytest.param('quote"<>[]\\^`{|}', id="unsafe-ascii"),
        pytest.param("at@colon:", id="at-colon"),
        pytest.param("dir/sub/file.txt", id="slashes"),
    ],
)
def test_encoded_keys_round_trip(api: Api, key: str) -> None:
    """§2.6: keys percent-encoded as specified round-trip; JSON echoes the decoded key."""
    resp = api.put(key, key.encode())
    assert resp.status == 200, resp
    assert resp.json() == {"key": key}
    got = api.get(key)
    assert got.status == 200, got
    assert got.body == key.encode()


@pytest.mark.profile("production")
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40))
def test_any_key_round_trips(api: Api, key: str) -> None:
    """§2.5/§2.6: keys are opaque; any (encoded) text key round-trips and is echoed decoded."""
    resp = api.put(key, key.encode())
    assert resp.status == 200, resp
    assert resp.json() == {"key": key}
    assert api.get(key).body == key.encode()


# -- §3 processing order -------------------------------------------------------------------


def test_auth_before_path_validation(api: Api) -> None:
    """§3/§19.28: an unauthenticated request with malformed scopes gets the auth error."""
    api.require_auth()
    resp = api.request("GET", api.path("k", scopes="org"), auth=False)
    assert_json_error(resp, 400, "auth error: bad request: No authorization token provided")


def test_token_verification_before_path_validation(api: Api) -> None:
    """§3: a token with an unknown kid on a malformed path → 401, not the 400 path error."""
    main = api.require_auth()
    token = make_token(main, api.usecase, kid="no-such-kid")
    resp = api.request(
        "GET", api.path("k", scopes="org=1;"), {"x-os-auth": f"Bearer {token}"}, auth=False
    )
    assert_json_error(resp, 401)


def test_path_error_after_successful_auth(api: Api) -> None:
    """§3: with a valid token, malformed scopes are a 400 plain-text path error."""
    resp = api.request("GET", api.path("k", scopes="org=a.b"))
    assert_text_error(resp, 400, "Invalid URL: ")


def test_path_error_before_authorization(api: Api) -> None:
    """§3: path errors (stage 4) precede the permission check (stage 8)."""
    api.require_auth()
    resp = api.request("PUT", api.path("k", scopes="org"), body=b"x", permissions=())
    assert_text_error(resp, 400, "Invalid URL: ")


def test_metadata_error_before_permission_check(api: Api) -> None:
    """§3/§19.28: malformed metadata is a 400 even when the token lacks write permission."""
    api.require_auth()
    resp = api.put(uniq(), b"x", {"content-encoding": "br"}, permissions=READ)
    assert_json_error(resp, 400)


def test_permission_check_without_reading_body(api: Api) -> None:
    """§3: a 403 is sent without consuming the upload (the body never arrives here)."""
    api.require_auth()
    path = api.path(uniq())
    lines = [f"PUT {path} HTTP/1.1", f"host: {api.target.host}"]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path, READ)]
    lines += ["content-length: 10000000"]
    with RawConnection(api.target.host, api.target.port, timeout=10) as conn:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + b"only a little")
        resp = conn.response("PUT")
    assert_json_error(resp, 403, "auth error: operation not allowed")


def test_json_error_content_type(api: Api) -> None:
    """§4.1: application errors are `application/json`."""
    resp = api.get(uniq(), {"range": "bytes=2-1"})
    assert resp.status == 400
    assert resp.header("content-type") == JSON
