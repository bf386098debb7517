"""Protocol §23 (addendum §5): resumable uploads on the object routes, today's server only.

Rules that hold for the filesystem backend only (it keeps a broken chunk's bytes, answers a
replay with 409, forgets a completed session) carry `profile("filesystem")`; the addendum
says other backends may differ there.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ._api import (
    JSON,
    READ,
    UUID4_RE,
    Api,
    Target,
    assert_json_error,
    assert_text_error,
    uniq,
)
from ._wire import Headers, RawConnection, Response

pytestmark = pytest.mark.server_version("current")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+$")
EMPTY_CREATE = "client error: resumable session creation must be sent with an empty body"
EMPTY_QUERY = "client error: Upload-Offset: * must be sent with an empty body"
NEEDS_LENGTH = "client error: content-length header is required"
INVALID_QUERY = "client error: invalid query parameters"
INVALID_TOKEN = "client error: invalid session token"


# -- helpers -------------------------------------------------------------------------------


def _pairs(headers: Headers | None) -> list[tuple[str, str | bytes]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def create(
    api: Api,
    key: str | None = None,
    length: int | str | None = 6,
    headers: Headers | None = None,
    *,
    query: str = "?upload_type=resumable",
    **kw: Any,
) -> Response:
    """`PUT {key}?upload_type=resumable` (or `POST` on the collection without a key)."""
    pairs = _pairs(headers)
    if length is not None:
        pairs.append(("upload-length", str(length)))
    if key is None:
        return api.request("POST", api.path() + query, pairs, **kw)
    return api.request("PUT", api.path(key) + query, pairs, **kw)


def create_ok(api: Api, key: str | None = None, length: int = 6, **kw: Any) -> tuple[str, str]:
    """Creates a session that must succeed; returns (key, token)."""
    resp = create(api, key, length, **kw)
    assert resp.status == 200, resp
    doc = resp.json()
    return doc["key"], doc["session"]


def write(
    api: Api,
    key: str,
    token: str,
    offset: int | str | None,
    body: bytes | None = None,
    headers: Headers | None = None,
    **kw: Any,
) -> Response:
    """`PUT {key}?session=<token>` with `upload-offset` (unless None) and the body."""
    pairs = _pairs(headers)
    if offset is not None:
        pairs.append(("upload-offset", str(offset)))
    return api.request("PUT", api.path(key) + f"?session={token}", pairs, body, **kw)


def progress(api: Api, key: str, token: str) -> Response:
    return write(api, key, token, "*")


def cancel(api: Api, key: str, token: str, **kw: Any) -> Response:
    return api.request("DELETE", api.path(key) + f"?session={token}", **kw)


def assert_offset(resp: Response, offset: int) -> None:
    """204 No Content with `upload-offset` (§23.4 step 5, §23.5)."""
    assert resp.status == 204, resp
    assert resp.header("upload-offset") == str(offset), resp
    assert resp.body == b"", resp


def assert_published(resp: Response, key: str) -> None:
    """201 Created with `{"key"}` (§23.4 step 6)."""
    assert resp.status == 201, resp
    assert resp.header("content-type") == JSON, resp
    assert resp.json() == {"key": key}, resp


def random_token() -> str:
    """A well-formed token no server issued."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()


def _no_auth_target(api: Api) -> None:
    if not api.target.auth:
        pytest.skip("needs a server enforcing auth")


# -- §23.1 dispatch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("?upload_type=multipart", id="other-type"),
        pytest.param("?upload_type=", id="empty-type"),
        pytest.param("?upload_type=resumable&upload_type=resumable", id="duplicate-type"),
        pytest.param("?session=a&session=b", id="duplicate-session"),
    ],
)
def test_invalid_query_parameters_400(api: Api, query: str) -> None:
    """§23.1: `upload_type` other than `resumable`, or a repeated parameter → 400 JSON."""
    key = uniq()
    resp = create(api, key, 6, query=query)
    doc = assert_json_error(resp, 400, INVALID_QUERY)
    assert doc.get("causes"), doc  # the deserializer's message
    assert api.get(key).status == 404, "nothing may be stored"


def test_other_query_parameters_are_ignored(api: Api) -> None:
    """§23.1: unknown parameters leave an ordinary PUT ordinary."""
    key = uniq()
    resp = api.request("PUT", api.path(key) + "?foo=bar&upload_typ=resumable", body=b"plain")
    assert resp.status == 200, resp
    assert resp.json() == {"key": key}
    assert api.get(key).body == b"plain"


def test_get_and_head_ignore_the_resumable_parameters(api: Api) -> None:
    """§23.1: GET and HEAD do not interpret `upload_type` / `session`."""
    key = uniq()
    api.put_ok(key, b"data")
    for query in ("?upload_type=multipart", "?session=%25%25", "?upload_type=resumable"):
        got = api.request("GET", api.path(key) + query)
        assert got.status == 200, (query, got)
        assert got.body == b"data"
        head = api.request("HEAD", api.path(key) + query)
        assert 200 <= head.status < 300, head  # the exact status is protocol §6.4's rule


def test_session_wins_over_upload_type(api: Api) -> None:
    """§23.1: with `session`, `upload_type` is ignored: an existing-session operation."""
    key, token = create_ok(api, uniq())
    path = api.path(key) + f"?upload_type=resumable&session={token}"
    resp = api.request("PUT", path, [("upload-offset", "*")])
    assert_offset(resp, 0)


def test_delete_with_upload_type_but_no_session_400(api: Api) -> None:
    """§23.1: the cancel handler requires `session`; the object is not deleted."""
    key = uniq()
    api.put_ok(key, b"keep")
    resp = api.request("DELETE", api.path(key) + "?upload_type=resumable")
    assert resp.status == 400, resp
    assert api.get(key).body == b"keep"


def test_post_with_session_and_no_upload_length_400(api: Api) -> None:
    """§23.1: `POST …/?session=…` (no `upload-length`) is rejected with 400."""
    resp = api.request("POST", api.path() + f"?session={random_token()}")
    assert resp.status == 400, resp


# -- §23.2 create ---------------------------------------------------------------------------


def test_create_with_put(api: Api) -> None:
    """§23.2: 200 JSON `{key, session, granularity}`; nothing is written at the key yet."""
    key = uniq()
    resp = create(api, key, 6, {"content-type": "text/plain"})
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON, resp
    doc = resp.json()
    assert set(doc) == {"key", "session", "granularity"}, doc
    assert doc["key"] == key
    assert TOKEN_RE.match(doc["session"]), doc  # canonical unpadded base64url
    assert isinstance(doc["granularity"], int), doc
    assert doc["granularity"] >= 0
    assert api.get(key).status == 404
    assert api.head(key).status == 404


@pytest.mark.profile("filesystem")
def test_filesystem_granularity_is_zero(api: Api) -> None:
    """§23.2: the filesystem backend has no granularity (0)."""
    resp = create(api, uniq())
    assert resp.json()["granularity"] == 0, resp


@pytest.mark.parametrize("slash", ["/", ""], ids=["slash", "no-slash"])
def test_create_with_post_generates_a_uuid4_key(api: Api, slash: str) -> None:
    """§23.2: POST on the collection (with or without the slash) → a fresh UUIDv4 key."""
    path = api.path().rstrip("/") + slash + "?upload_type=resumable"
    resp = api.request("POST", path, [("upload-length", "3")])
    assert resp.status == 200, resp
    key = resp.json()["key"]
    assert UUID4_RE.match(key), key
    assert api.get(key).status == 404
    assert_published(write(api, key, resp.json()["session"], 0, b"abc"), key)
    assert api.get(key).body == b"abc"


def test_upload_length_missing_400_plain(api: Api) -> None:
    """§23.2: no `upload-length` → 400 plain text."""
    resp = create(api, uniq(), None)
    assert_text_error(resp, 400, "Header of type `upload-length` was missing")


@pytest.mark.parametrize(
    "value",
    ["+1", "-1", "1.5", "", "lots", "0x10", "\uff11", "18446744073709551616"],
    ids=["plus", "minus", "fraction", "empty", "word", "hex", "fullwidth", "u64-overflow"],
)
def test_upload_length_malformed_400_plain(api: Api, value: str) -> None:
    """§23.2: `upload-length` must be ASCII digits (a u64) → else 400 plain text."""
    key = uniq()
    resp = create(api, key, None, [("upload-length", value.encode())])
    assert_text_error(resp, 400, "invalid HTTP header (upload-length)")
    assert api.get(key).status == 404


def test_upload_length_twice_400_plain(api: Api) -> None:
    """§23.2: exactly one `upload-length` header."""
    resp = create(api, uniq(), 6, [("upload-length", "6")])
    assert_text_error(resp, 400, "invalid HTTP header (upload-length)")


def test_upload_length_max_u64_accepted(api: Api) -> None:
    """§23.2, protocol §14: `upload-length` may be up to 2^64-1."""
    key, token = create_ok(api, uniq(), 2**64 - 1)
    assert_offset(progress(api, key, token), 0)
    assert cancel(api, key, token).status == 204


def test_create_body_must_be_empty(api: Api) -> None:
    """§23.2: a non-zero `content-length` → 400 JSON; nothing is stored."""
    key = uniq()
    resp = create(api, key, 3, body=b"abc")
    assert_json_error(resp, 400, EMPTY_CREATE)
    assert api.get(key).status == 404


def test_create_chunked_body_must_be_empty(api: Api) -> None:
    """§23.2: any streamed byte (chunked) → 400 JSON."""
    resp = create(api, uniq(), 3, chunks=[b"abc"])
    assert_json_error(resp, 400, EMPTY_CREATE)


def test_create_with_explicit_zero_content_length(api: Api) -> None:
    """§23.2: `content-length: 0` is an empty body."""
    resp = create(api, uniq(), 3, [("content-length", "0")])
    assert resp.status == 200, resp


def test_zero_upload_length_is_declined_501(api: Api) -> None:
    """§23.2: `upload-length: 0` → 501 JSON (the client falls back to a plain upload)."""
    key = uniq()
    resp = create(api, key, 0)
    assert_json_error(resp, 501)
    assert api.get(key).status == 404


def test_create_checks_upload_length_before_metadata(api: Api) -> None:
    """§23.2 order: `upload-length` → empty body → metadata → policy → permission."""
    bad_meta = {"content-encoding": "bogus"}
    resp = create(api, uniq(), None, bad_meta)
    assert_text_error(resp, 400, "Header of type `upload-length` was missing")
    resp = create(api, uniq(), 3, bad_meta, body=b"abc")
    assert_json_error(resp, 400, EMPTY_CREATE)
    resp = create(api, uniq(), 3, bad_meta)
    assert_json_error(resp, 400)


def test_create_needs_write_permission(api: Api) -> None:
    """§23.2: permission `object.write` → 403, checked after the metadata."""
    _no_auth_target(api)
    resp = create(api, uniq(), 3, permissions=READ)
    assert_json_error(resp, 403, "auth error: operation not allowed")
    resp = create(api, uniq(), 3, {"content-encoding": "bogus"}, permissions=READ)
    assert resp.status == 400, resp


def test_create_without_token_is_an_auth_error(api: Api) -> None:
    """§23.1: after classification the handler starts with auth."""
    _no_auth_target(api)
    resp = create(api, uniq(), 3, auth=False)
    assert_json_error(resp, 400, "auth error: bad request: No authorization token provided")


def test_existing_object_stays_until_the_upload_completes(api: Api) -> None:
    """§23.2: nothing is written at creation; the completing chunk replaces the object."""
    key = uniq()
    api.put_ok(key, b"old")
    _, token = create_ok(api, key, 6)
    assert_offset(write(api, key, token, 0, b"new"), 3)
    assert api.get(key).body == b"old"
    assert_published(write(api, key, token, 3, b"new"), key)
    assert api.get(key).body == b"newnew"


def test_several_sessions_for_one_key_last_publish_wins(api: Api) -> None:
    """§23.2: sessions for the same key coexist; the last to publish wins."""
    key = uniq()
    _, first = create_ok(api, key, 3)
    _, second = create_ok(api, key, 3)
    assert first != second
    assert_published(write(api, key, second, 0, b"two"), key)
    assert api.get(key).body == b"two"
    assert_published(write(api, key, first, 0, b"one"), key)
    assert api.get(key).body == b"one"


def _ts(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_metadata_is_fixed_at_creation(api: Api) -> None:
    """§23.2: metadata, `time_created` and the deadline come from the create request."""
    key = uniq()
    before = datetime.now(UTC)
    headers = {
        "content-type": "text/plain",
        "x-sn-expiration": "ttl:1h",
        "x-snme-color": "blue",
        "x-sn-filename": "a.txt",
    }
    _, token = create_ok(api, key, 4, headers=headers)
    after = datetime.now(UTC)
    time.sleep(1.5)
    other = {"content-type": "application/json", "x-snme-color": "red", "x-sn-expiration": "manual"}
    assert_offset(write(api, key, token, 0, b"ab", other), 2)
    assert_published(write(api, key, token, 2, b"cd", other), key)
    got = api.get(key)
    assert got.body == b"abcd"
    assert got.header("content-type") == "text/plain"
    assert got.header("x-snme-color") == "blue"
    assert got.header("x-sn-filename") == "a.txt"
    assert got.header("x-sn-expiration") == "ttl:1h"
    created = _ts(got.header("x-sn-time-created"))
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1), created
    expires = _ts(got.header("x-sn-time-expires"))
    assert abs(expires - created - timedelta(hours=1)) <= timedelta(seconds=1)


# -- §23.3 session tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("%25%25%25", id="percent-signs"),
        pytest.param("AAAAAAAAAAAAAAAAAAAAAA%3D%3D", id="padded"),
        pytest.param("AAAAAAAAAAAAAAAAAAAAAB", id="trailing-bits"),
        pytest.param("a+b/c", id="standard-alphabet"),
        pytest.param("A", id="one-char"),
    ],
)
def test_non_canonical_token_400(api: Api, token: str) -> None:
    """§23.3: a `session` that is not canonical unpadded base64url → 400 JSON."""
    key = uniq()
    for resp in (
        write(api, key, token, 0, b"x"),
        progress(api, key, token),
        cancel(api, key, token),
    ):
        assert_json_error(resp, 400, INVALID_TOKEN)


def test_unknown_token_404(api: Api) -> None:
    """§23.3: a well-formed token the server never issued → 404."""
    key = uniq()
    token = random_token()
    assert write(api, key, token, 0, b"abc").status == 404
    assert progress(api, key, token).status == 404
    assert cancel(api, key, token).status == 404
    assert api.get(key).status == 404


def test_token_for_another_object_404(api: Api) -> None:
    """§23.3: a token is bound to usecase + scopes + key; elsewhere it is unknown (404)."""
    key, token = create_ok(api, uniq(), 3)
    other = uniq()
    assert write(api, other, token, 0, b"abc").status == 404
    assert progress(api, other, token).status == 404
    assert cancel(api, other, token).status == 404
    other_scope = api.request(
        "PUT", api.path(key, scopes="org=43") + f"?session={token}", [("upload-offset", "*")]
    )
    assert other_scope.status == 404, other_scope
    assert api.get(other).status == 404
    assert_offset(progress(api, key, token), 0)  # the session itself is untouched


def test_token_path_comparison_uses_the_decoded_key(api: Api) -> None:
    """§23.3: `a%2Fb` and `a/b` are the same object."""
    key = f"{uniq()}/b"
    _, token = create_ok(api, key, 3)
    raw = key.replace("/", "%2F")
    resp = api.request(
        "PUT", api.path(raw_key=raw) + f"?session={token}", [("upload-offset", "0")], b"abc"
    )
    assert_published(resp, key)
    assert api.get(key).body == b"abc"


# -- §23.4 chunk writes ---------------------------------------------------------------------


def test_chunks_in_order_then_publish(api: Api) -> None:
    """§23.4: 204 + `upload-offset` per chunk, 201 `{"key"}` for the last; then readable."""
    key, token = create_ok(api, uniq(), 9, headers={"content-type": "text/plain"})
    assert_offset(write(api, key, token, 0, b"abc"), 3)
    assert api.get(key).status == 404, "a partial object is never visible"
    assert_offset(write(api, key, token, 3, b"def"), 6)
    assert_published(write(api, key, token, 6, b"ghi"), key)
    got = api.get(key)
    assert got.status == 200
    assert got.body == b"abcdefghi"
    assert got.header("content-type") == "text/plain"


def test_single_chunk_publishes(api: Api) -> None:
    """§23.4 step 6: one chunk carrying every byte publishes at once."""
    payload = bytes(range(256)) * 64
    key, token = create_ok(api, uniq(), len(payload))
    assert_published(write(api, key, token, 0, payload), key)
    assert api.get(key).body == payload


def test_upload_offset_missing_400_plain(api: Api) -> None:
    """§23.4: no `upload-offset` → 400 plain text."""
    key, token = create_ok(api, uniq())
    resp = write(api, key, token, None, b"abc")
    assert_text_error(resp, 400, "Header of type `upload-offset` was missing")
    assert_offset(progress(api, key, token), 0)


@pytest.mark.parametrize(
    "value", ["+0", "-1", "1.0", "", "**", "lots", "18446744073709551616"], ids=str
)
def test_upload_offset_malformed_400_plain(api: Api, value: str) -> None:
    """§23.4: `upload-offset` must be ASCII digits or `*` → else 400 plain text."""
    key, token = create_ok(api, uniq())
    resp = write(api, key, token, value, b"abc")
    assert_text_error(resp, 400, "invalid HTTP header (upload-offset)")
    assert_offset(progress(api, key, token), 0)


def test_upload_offset_twice_400_plain(api: Api) -> None:
    """§23.4: exactly one `upload-offset` header."""
    key, token = create_ok(api, uniq())
    resp = write(api, key, token, 0, b"abc", [("upload-offset", "0")])
    assert_text_error(resp, 400, "invalid HTTP header (upload-offset)")


def test_chunk_needs_content_length(api: Api) -> None:
    """§23.4: a chunked chunk (no `content-length`) → 400 JSON; nothing is written."""
    key, token = create_ok(api, uniq())
    resp = write(api, key, token, 0, chunks=[b"abc"])
    assert_json_error(resp, 400, NEEDS_LENGTH)
    assert_offset(progress(api, key, token), 0)


def test_chunk_beyond_declared_length_400(api: Api) -> None:
    """§23.4 step 1: offset + length > `upload-length` → 400; nothing is written."""
    key, token = create_ok(api, uniq(), 6)
    assert_offset(write(api, key, token, 0, b"abc"), 3)
    assert_json_error(write(api, key, token, 3, b"defg"), 400)
    assert_json_error(write(api, key, token, 0, b"abcdefg"), 400)
    assert_offset(progress(api, key, token), 3)
    assert api.get(key).status == 404
    assert_published(write(api, key, token, 3, b"def"), key)
    assert api.get(key).body == b"abcdef"


def test_chunk_past_the_current_offset_is_a_mismatch(api: Api) -> None:
    """§23.4 step 2: a gap is never written; the reply names the offset to continue from."""
    key, token = create_ok(api, uniq(), 6)
    resp = write(api, key, token, 2, b"cd")
    assert resp.status == 409, resp
    assert resp.header("upload-offset") == "0", resp
    assert_offset(progress(api, key, token), 0)


@pytest.mark.profile("filesystem")
def test_replayed_chunk_409_with_offset(api: Api) -> None:
    """§23.4 step 2 [FS]: offset ≠ current → 409, JSON naming it, `upload-offset` header."""
    key, token = create_ok(api, uniq(), 6)
    assert_offset(write(api, key, token, 0, b"abc"), 3)
    resp = write(api, key, token, 0, b"x")
    doc = assert_json_error(resp, 409)
    assert resp.header("upload-offset") == "3", resp
    assert "3" in doc["detail"] + "".join(doc.get("causes", [])), doc
    assert_offset(progress(api, key, token), 3)
    assert_published(write(api, key, token, 3, b"def"), key)
    assert api.get(key).body == b"abcdef"


def test_empty_chunk_reports_progress_without_offset_check(api: Api) -> None:
    """§23.4 step 3: a zero-length chunk acts like an offset query, whatever its offset."""
    key, token = create_ok(api, uniq(), 6)
    assert_offset(write(api, key, token, 0, b"ab"), 2)
    assert_offset(write(api, key, token, 5, b""), 2)
    assert_offset(write(api, key, token, 0, b""), 2)


@pytest.mark.profile("filesystem")
def test_broken_chunk_keeps_the_received_bytes(api: Api) -> None:
    """§23.4 step 4 [FS]: a body cut short keeps what arrived; the upload can continue."""
    key, token = create_ok(api, uniq(), 10)
    path = api.path(key) + f"?session={token}"
    head = [f"PUT {path} HTTP/1.1", f"host: {api.target.host}", "content-length: 10"]
    head += ["upload-offset: 0", "connection: close"]
    head += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    with RawConnection(api.target.host, api.target.port) as conn:
        conn.send(("\r\n".join(head) + "\r\n\r\n").encode() + b"abcd")
        time.sleep(0.3)
        conn.sock.shutdown(socket.SHUT_WR)
        try:
            resp: Response | None = conn.response("PUT")
        except OSError:
            resp = None  # the server may close without an answer
    if resp is not None:
        assert 400 <= resp.status < 500, resp
    deadline = time.monotonic() + 5
    while True:
        got = progress(api, key, token)
        if got.header("upload-offset") == "4" or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # the server may still be finishing the broken request
    assert_offset(got, 4)
    assert api.get(key).status == 404
    assert_published(write(api, key, token, 4, b"efghij"), key)
    assert api.get(key).body == b"abcdefghij"


def test_chunk_needs_write_permission_after_header_checks(api: Api) -> None:
    """§23.4 order: session → `upload-offset` → content-length → permission → token."""
    _no_auth_target(api)
    key, token = create_ok(api, uniq())
    resp = write(api, key, "%25", 0, b"abc", permissions=READ)
    assert_json_error(resp, 400, INVALID_TOKEN)
    resp = write(api, key, token, "x", b"abc", permissions=READ)
    assert_text_error(resp, 400, "invalid HTTP header (upload-offset)")
    resp = write(api, key, token, 0, chunks=[b"abc"], permissions=READ)
    assert_json_error(resp, 400, NEEDS_LENGTH)
    resp = write(api, key, random_token(), 0, b"abc", permissions=READ)
    assert_json_error(resp, 403, "auth error: operation not allowed")
    resp = write(api, key, token, 0, b"abc", permissions=READ)
    assert_json_error(resp, 403, "auth error: operation not allowed")
    assert_offset(progress(api, key, token), 0)


# -- §23.5 offset query ---------------------------------------------------------------------


def test_offset_query_body_must_be_empty(api: Api) -> None:
    """§23.5: `upload-offset: *` with a non-zero length or streamed bytes → 400 JSON."""
    key, token = create_ok(api, uniq())
    assert_json_error(write(api, key, token, "*", b"abc"), 400, EMPTY_QUERY)
    assert_json_error(write(api, key, token, "*", chunks=[b"abc"]), 400, EMPTY_QUERY)
    assert_offset(progress(api, key, token), 0)
    assert_offset(write(api, key, token, "*", b""), 0)  # content-length: 0 is empty


@pytest.mark.profile("filesystem")
def test_completed_session_is_gone(api: Api) -> None:
    """§23.5 [FS]: after completion the session no longer exists → 404."""
    key, token = create_ok(api, uniq(), 3)
    assert_published(write(api, key, token, 0, b"abc"), key)
    assert progress(api, key, token).status == 404
    assert write(api, key, token, 0, b"abc").status == 404
    assert cancel(api, key, token).status == 404
    assert api.get(key).body == b"abc"


# -- §23.6 cancel ---------------------------------------------------------------------------


def test_cancel_discards_the_upload(api: Api) -> None:
    """§23.6: 204 empty; the bytes are discarded, nothing is published, the token is dead."""
    key, token = create_ok(api, uniq(), 6)
    assert_offset(write(api, key, token, 0, b"abc"), 3)
    resp = cancel(api, key, token)
    assert resp.status == 204, resp
    assert resp.body == b""
    assert api.get(key).status == 404
    assert progress(api, key, token).status == 404
    assert write(api, key, token, 3, b"def").status == 404
    assert cancel(api, key, token).status == 404
    assert api.get(key).status == 404


def test_cancel_keeps_an_existing_object(api: Api) -> None:
    """§23.6: cancelling publishes nothing, so the object already at the key stays."""
    key = uniq()
    api.put_ok(key, b"old")
    _, token = create_ok(api, key, 3)
    assert cancel(api, key, token).status == 204
    assert api.get(key).body == b"old"


def test_cancel_needs_write_permission(api: Api) -> None:
    """§23.6: cancel is assumed to need `object.write` (addendum §15)."""
    _no_auth_target(api)
    key, token = create_ok(api, uniq(), 3)
    resp = cancel(api, key, token, permissions=READ)
    assert_json_error(resp, 403, "auth error: operation not allowed")
    assert_offset(progress(api, key, token), 0)


# -- granularity (§23.2, §23.4), configurable on the local server ---------------------------


@pytest.mark.local_only
def test_configured_granularity(make_server: Any) -> None:
    """§23.4: with a granularity, short non-final chunks fail and only whole units count."""
    target: Target = make_server(resumable_granularity=4, server_version="current")
    api = Api(target)
    resp = create(api, uniq(), 10)
    assert resp.json()["granularity"] == 4, resp
    key, token = resp.json()["key"], resp.json()["session"]
    assert write(api, key, token, 0, b"ab").status == 400  # shorter than one unit
    assert_offset(write(api, key, token, 0, b"abcdef"), 4)  # "ef" is not acknowledged
    assert_published(write(api, key, token, 4, b"efghij"), key)  # the last chunk may be short
    assert api.get(key).body == b"abcdefghij"
