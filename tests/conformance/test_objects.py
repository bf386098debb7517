"""§6 single-object endpoints: POST, PUT, GET, HEAD, DELETE."""

from __future__ import annotations

import os

import pytest

from ._api import (
    DELETE,
    JSON,
    READ,
    UUID4_RE,
    WRITE,
    Api,
    assert_empty,
    assert_json_error,
    uniq,
)

BINARY = bytes(range(256)) * 4


# -- §6.1 POST -----------------------------------------------------------------------------


@pytest.mark.parametrize("slash", [pytest.param(True, id="slash"), pytest.param(False, id="bare")])
def test_post_creates_with_uuid4_key(api: Api, slash: bool) -> None:
    """§6.1/§2.7: POST (with or without trailing slash) → 201 `{"key": <uuid4>}`."""
    path = api.path() if slash else api.path().rstrip("/")
    resp = api.request("POST", path, {"content-type": "text/plain"}, b"posted")
    assert resp.status == 201, resp
    assert resp.header("content-type") == JSON
    doc = resp.json()
    assert list(doc) == ["key"], doc
    assert UUID4_RE.match(doc["key"]), doc
    got = api.get(doc["key"])
    assert got.status == 200, got
    assert got.body == b"posted"
    assert got.header("content-type") == "text/plain"


def test_post_keys_are_unique(api: Api) -> None:
    """§2.7: every POST generates a fresh key."""
    keys = {api.post(b"x").json()["key"] for _ in range(5)}
    assert len(keys) == 5


def test_post_empty_body(api: Api) -> None:
    """§6.1: the body may be empty."""
    resp = api.post(b"")
    assert resp.status == 201, resp
    got = api.get(resp.json()["key"])
    assert got.status == 200
    assert got.body == b""


def test_post_chunked_with_metadata(api: Api) -> None:
    """§6.1: the example: chunked body with content-type, zstd, expiration."""
    headers = {
        "content-type": "text/plain",
        "content-encoding": "zstd",
        "x-sn-expiration": "ttl:1d",
    }
    resp = api.request("POST", api.path(), headers, chunks=[b"\x28\xb5\x2f\xfd", b"rest"])
    assert resp.status == 201, resp
    got = api.get(resp.json()["key"])
    assert got.body == b"\x28\xb5\x2f\xfdrest"
    assert got.header("content-encoding") == "zstd"
    assert got.header("x-sn-expiration") == ("ttl:1d" if api.target.current else "ttl:1day")


def test_post_invalid_metadata_is_400(api: Api) -> None:
    """§6.1: metadata errors → 400 JSON."""
    assert_json_error(api.post(b"x", {"x-sn-expiration": "forever"}), 400)


def test_post_needs_write_permission(api: Api) -> None:
    """§6: POST needs `object.write` → else 403."""
    api.require_auth()
    resp = api.post(b"x", permissions=("object.read", "object.delete"))
    assert_json_error(resp, 403, "auth error: operation not allowed")


# -- §6.2 PUT ------------------------------------------------------------------------------


def test_put_new_and_overwrite_both_200(api: Api) -> None:
    """§6.2/§19.2: PUT → 200 `{"key": <key>}` for new and for overwritten objects."""
    key = uniq()
    for body in (b"v1", b"v2"):
        resp = api.put(key, body)
        assert resp.status == 200, resp
        assert resp.header("content-type") == JSON
        assert resp.json() == {"key": key}
    assert api.get(key).body == b"v2"


def test_json_success_has_content_length(api: Api) -> None:
    """§1: JSON responses carry a normal `content-length` (not chunked)."""
    for resp in (api.put(uniq(), b"x"), api.post(b"y")):
        assert resp.header("content-length") == str(len(resp.body)), resp
        assert not resp.chunked


def test_overwrite_replaces_all_metadata(api: Api) -> None:
    """§6.2/§5.8/§19.29: a header not sent on overwrite is not retained."""
    key = uniq()
    api.put_ok(
        key,
        b"v1",
        {
            "content-type": "text/plain",
            "content-encoding": "zstd",
            "x-sn-expiration": "ttl:1h",
            "x-sn-origin": "o",
            "x-sn-filename": "f",
            "x-snme-a": "1",
        },
    )
    api.put_ok(key, b"v2", {"x-snme-b": "2"})
    resp = api.get(key)
    assert resp.body == b"v2"
    assert resp.header("content-type") == "application/octet-stream"
    for gone in (
        "content-encoding",
        "x-sn-expiration",
        "x-sn-time-expires",
        "x-sn-origin",
        "x-sn-filename",
        "x-snme-a",
    ):
        assert not resp.has(gone), (gone, resp.headers)
    # Today's server may send a bare `attachment` without a filename (protocol §5.7).
    assert resp.header("content-disposition") in (
        (None, "attachment") if api.target.current else (None,)
    ), resp.headers
    assert resp.header("x-snme-b") == "2"


def test_put_needs_write_permission(api: Api) -> None:
    """§6: PUT needs `object.write` → else 403, nothing stored."""
    api.require_auth()
    key = uniq()
    assert_json_error(api.put(key, b"x", permissions=READ + DELETE), 403)
    assert api.get(key).status == 404


def test_put_large_body_unlimited(api: Api) -> None:
    """§1/§14: single-object uploads are streamed with no size limit (here 12 MiB, chunked)."""
    key = uniq()
    block = os.urandom(1024 * 1024)
    resp = api.request("PUT", api.path(key), chunks=[block] * 12, timeout=60)
    assert resp.status == 200, resp
    got = api.get(key, timeout=60)
    assert len(got.body) == 12 * len(block)
    assert got.body == block * 12


# -- §6.3 GET ------------------------------------------------------------------------------


@pytest.mark.server_version("0.2.0")
def test_get_streams_stored_bytes_chunked(api: Api) -> None:
    """§6.3/§1/§19.3: GET 200 is chunked, has no content-length, returns the exact bytes."""
    key = uniq()
    api.put_ok(key, BINARY, {"content-type": "application/x-bin"})
    resp = api.get(key)
    assert resp.status == 200, resp
    assert resp.body == BINARY
    assert resp.chunked
    assert resp.header("transfer-encoding") == "chunked"
    assert not resp.has("content-length")
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-type") == "application/x-bin"


def test_get_empty_object(api: Api) -> None:
    """§6.3: an empty object is a 200 with an empty body."""
    key = uniq()
    api.put_ok(key, b"")
    resp = api.get(key)
    assert resp.status == 200, resp
    assert resp.body == b""


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"if-none-match": "*"}, id="if-none-match"),
        pytest.param({"if-match": '"nope"'}, id="if-match"),
        pytest.param({"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"}, id="if-mod-since"),
        pytest.param({"accept-encoding": "gzip, br"}, id="accept-encoding"),
        pytest.param({"accept": "application/json"}, id="accept"),
    ],
)
def test_get_ignores_conditional_and_other_headers(api: Api, headers: dict[str, str]) -> None:
    """§6.3: conditional headers, accept-encoding and others are ignored (full 200)."""
    key = uniq()
    api.put_ok(key, b"unconditional")
    resp = api.get(key, headers)
    assert resp.status == 200, resp
    assert resp.body == b"unconditional"
    assert not resp.has("content-encoding")


def test_get_missing_is_empty_404(api: Api) -> None:
    """§6.3: not found → 404, empty body, no content-type."""
    assert_empty(api.get(uniq()), 404)


def test_get_needs_read_permission(api: Api) -> None:
    """§6: GET needs `object.read` → else 403."""
    api.require_auth()
    key = uniq()
    api.put_ok(key, b"x")
    assert_json_error(api.get(key, permissions=WRITE + DELETE), 403)


# -- §6.4 HEAD -----------------------------------------------------------------------------


@pytest.mark.server_version("0.2.0")
def test_head_is_204_with_zero_length(api: Api) -> None:
    """§6.4/§19.1: 0.2.0 HEAD → 204 (not 200) with metadata, accept-ranges and no body.

    `content-length` is `0` whatever the object's size, as the 0.2.0 binary sends it.
    """
    key = uniq()
    api.put_ok(key, b"0123456789", {"content-type": "text/csv", "x-snme-k": "v"})
    resp = api.head(key)
    assert resp.status == 204, resp
    assert resp.body == b""
    assert resp.all("content-length") == ["0"], resp.headers
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-type") == "text/csv"
    assert resp.header("x-snme-k") == "v"


@pytest.mark.parametrize("range_", ["bytes=0-1", "bytes=5-3", "bytes=100-", "items=1-2"])
def test_head_ignores_range(api: Api, range_: str) -> None:
    """§6.4: `range` is ignored by HEAD (even an invalid one)."""
    key = uniq()
    api.put_ok(key, b"0123456789")
    resp = api.head(key, {"range": range_})
    assert resp.status == (200 if api.target.current else 204), resp
    assert not resp.has("content-range")


def test_head_missing_is_404(api: Api) -> None:
    """§6.4: not found → 404."""
    resp = api.head(uniq())
    assert resp.status == 404, resp
    assert resp.body == b""


def test_head_needs_read_permission(api: Api) -> None:
    """§6: HEAD needs `object.read` → else 403."""
    api.require_auth()
    key = uniq()
    api.put_ok(key, b"x")
    assert api.head(key, permissions=WRITE).status == 403


# -- §6.5 DELETE ---------------------------------------------------------------------------


def test_delete_is_204_and_removes(api: Api) -> None:
    """§6.5: DELETE → 204 with an empty body; the object is gone afterwards."""
    key = uniq()
    api.put_ok(key, b"x")
    resp = api.delete(key)
    assert resp.status == 204, resp
    assert resp.body == b""
    assert api.get(key).status == 404
    assert api.head(key).status == 404


@pytest.mark.profile("production")
def test_delete_missing_is_204(api: Api) -> None:
    """§6.5 [PROD]: deleting a missing key also returns 204."""
    resp = api.delete(uniq())
    assert resp.status == 204, resp
    assert resp.body == b""


@pytest.mark.server_version("0.2.0")
@pytest.mark.profile("filesystem")
def test_delete_missing_is_500(api: Api) -> None:
    """§6.5 [FS]/§19.6: deleting a missing key → 500 JSON i/o error."""
    doc = assert_json_error(api.delete(uniq()), 500)
    assert doc["detail"] == "service error: i/o error: No such file or directory (os error 2)"
    assert doc.get("causes"), doc


def test_delete_needs_delete_permission(api: Api) -> None:
    """§6: DELETE needs `object.delete` (read+write is not enough) → 403, object kept."""
    api.require_auth()
    key = uniq()
    api.put_ok(key, b"x")
    assert_json_error(api.delete(key, permissions=READ + WRITE), 403)
    assert api.get(key).body == b"x"


def test_delete_then_put_again(api: Api) -> None:
    """§6.2/§6.5: a deleted key can be written again."""
    key = uniq()
    api.put_ok(key, b"one")
    assert api.delete(key).status == 204
    api.put_ok(key, b"two")
    assert api.get(key).body == b"two"
