"""§11 multipart upload endpoints: initiate, upload part, list, complete, abort."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import zstandard

from ._api import (
    JSON,
    READ,
    UUID4_RE,
    UUID7_RE,
    Api,
    assert_json_error,
    assert_text_error,
    enc,
    parse_ts,
    uniq,
)
from ._wire import Headers, Response

LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{9})?Z$")
NOT_FOUND = "service error: storage backend error: multipart upload not found"


def initiate(api: Api, key: str | None = None, headers: Headers | None = None, **kw: Any) -> Any:
    """Initiate (PUT with key, POST without); returns the JSON document after checking 200."""
    if key is None:
        resp = api.request("POST", api.path(route="objects:multipart"), headers, **kw)
    else:
        resp = api.request("PUT", api.path(key, route="objects:multipart"), headers, **kw)
    assert resp.status == 200, resp
    return resp.json()


def part_path(api: Api, key: str, query: str) -> str:
    return api.path(key, route="objects:multipart:parts") + query


def upload(
    api: Api, key: str, upload_id: str, number: int | str, body: bytes, **kw: Any
) -> Response:
    query = f"?upload_id={enc(upload_id)}&part_number={number}"
    return api.request("PUT", part_path(api, key, query), body=body, **kw)


def upload_ok(api: Api, key: str, upload_id: str, number: int, body: bytes) -> str:
    resp = upload(api, key, upload_id, number, body)
    assert resp.status == 200, resp
    etag: str = resp.json()["etag"]
    return etag


def list_parts(api: Api, key: str, upload_id: str, extra: str = "", **kw: Any) -> Response:
    return api.request("GET", part_path(api, key, f"?upload_id={enc(upload_id)}{extra}"), **kw)


def complete(
    api: Api,
    key: str,
    upload_id: str,
    parts: Sequence[tuple[int, str]] | None = None,
    *,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    **kw: Any,
) -> Response:
    if body is None:
        doc = {"parts": [{"part_number": n, "etag": e} for n, e in (parts or [])]}
        body = json.dumps(doc).encode()
    headers = {} if content_type is None else {"content-type": content_type}
    path = api.path(key, route="objects:multipart:complete") + f"?upload_id={enc(upload_id)}"
    return api.request("POST", path, headers, body, **kw)


def outcome(resp: Response) -> Any:
    """§11.4: a complete response is 200 JSON, chunked: optional leading spaces, one document."""
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON, resp
    assert resp.chunked, resp
    assert not resp.has("content-length")
    text = resp.body.lstrip(b" ")
    assert text[:1] == b"{", resp
    return json.loads(text)


def abort(api: Api, key: str, upload_id: str | None, **kw: Any) -> Response:
    query = "" if upload_id is None else f"?upload_id={enc(upload_id)}"
    return api.request("DELETE", api.path(key, route="objects:multipart") + query, **kw)


# -- §11.1 initiate ------------------------------------------------------------------------


@pytest.mark.parametrize("slash", [pytest.param(True, id="slash"), pytest.param(False, id="bare")])
def test_initiate_post_generates_key(api: Api, slash: bool) -> None:
    """§11.1/§2.7/§19.2: POST initiate → 200 (not 201) `{"key": <uuid4>, "upload_id": ...}`."""
    path = api.path(route="objects:multipart")
    resp = api.request("POST", path if slash else path.rstrip("/"))
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON
    doc = resp.json()
    assert set(doc) == {"key", "upload_id"}, doc
    assert UUID4_RE.match(doc["key"]), doc
    assert isinstance(doc["upload_id"], str), doc
    assert doc["upload_id"], doc


def test_initiate_put_with_key(api: Api) -> None:
    """§11.1: PUT initiate with a client key → 200 with the decoded key."""
    key = "dir/some key ü"
    doc = initiate(api, key)
    assert doc["key"] == key


def test_upload_ids_url_safe_and_distinct(api: Api) -> None:
    """§2.7/§11.1: upload ids are opaque URL-safe strings; uploads for one key coexist."""
    key = uniq()
    ids = {initiate(api, key)["upload_id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_.~-]+", i) for i in ids), ids


@pytest.mark.profile("filesystem")
def test_upload_id_is_uuid7(api: Api) -> None:
    """§2.7 [FS]: the upload id is a UUID version 7 in hyphenated form."""
    assert UUID7_RE.match(initiate(api, uniq())["upload_id"])


def test_initiate_ignores_body(api: Api) -> None:
    """§11.1: no body expected; one sent is ignored."""
    resp = api.request("PUT", api.path(uniq(), route="objects:multipart"), body=b"ignored body")
    assert resp.status == 200, resp
    assert "upload_id" in resp.json()


def test_initiate_does_not_touch_existing_object(api: Api) -> None:
    """§11.1: initiating neither checks nor touches an existing object."""
    key = uniq()
    api.put_ok(key, b"existing")
    upload_id = initiate(api, key)["upload_id"]
    upload_ok(api, key, upload_id, 1, b"part")
    assert api.get(key).body == b"existing"


def test_initiate_invalid_metadata_400(api: Api) -> None:
    """§11.1: metadata errors → 400 JSON."""
    path = api.path(uniq(), route="objects:multipart")
    assert_json_error(api.request("PUT", path, {"content-encoding": "br"}), 400)


def test_concurrent_uploads_for_one_key(api: Api) -> None:
    """§11.1: several uploads for one key coexist; each completes independently."""
    key = uniq()
    a, b = initiate(api, key)["upload_id"], initiate(api, key)["upload_id"]
    ea = upload_ok(api, key, a, 1, b"from a")
    eb = upload_ok(api, key, b, 1, b"from b")
    assert outcome(complete(api, key, b, [(1, eb)])) == {"key": key}
    assert api.get(key).body == b"from b"
    assert outcome(complete(api, key, a, [(1, ea)])) == {"key": key}
    assert api.get(key).body == b"from a"


# -- §11.2 upload part ---------------------------------------------------------------------


def test_upload_part_returns_etag(api: Api) -> None:
    """§11.2: part upload → 200 JSON `{"etag": <string>}`."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    resp = upload(api, key, upload_id, 1, b"hello!")
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON
    doc = resp.json()
    assert set(doc) == {"etag"}, doc
    assert isinstance(doc["etag"], str), doc


@pytest.mark.profile("filesystem")
def test_fs_etag_format(api: Api) -> None:
    """§11.2 [FS]/§19.18: etag is `"etag-<n>-<len>"` with the quotes; number and length only."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    resp = upload(api, key, upload_id, 1, b"hello!")
    assert b'"etag":"\\"etag-1-6\\""' in resp.body.replace(b" ", b""), resp
    assert resp.json()["etag"] == '"etag-1-6"'
    assert upload_ok(api, key, upload_id, 2, b"world!") == '"etag-2-6"'
    assert upload_ok(api, key, upload_id, 2, b"WORLD?") == '"etag-2-6"'
    assert upload_ok(api, key, upload_id, 7, b"") == '"etag-7-0"'


def test_part_number_one(api: Api) -> None:
    """§11.2: part number 1 is the smallest valid part number."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    assert upload(api, key, upload_id, 1, b"abc").status == 200
    listed = list_parts(api, key, upload_id).json()["parts"]
    assert [p["part_number"] for p in listed] == [1]


@pytest.mark.profile("filesystem")
@pytest.mark.parametrize(
    "number",
    [pytest.param(10001, id="above-s3-limit"), pytest.param(4294967295, id="u32-max")],
)
def test_part_number_no_server_limit(api: Api, number: int) -> None:
    """§11.2: part numbers up to 4 294 967 295; no server limit of 10 000 ([PROD] has its own)."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    assert upload(api, key, upload_id, number, b"abc").status == 200
    listed = list_parts(api, key, upload_id).json()["parts"]
    assert [p["part_number"] for p in listed] == [number]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("?upload_id={id}&part_number=0", id="part-zero"),
        pytest.param("?upload_id={id}&part_number=-1", id="negative"),
        pytest.param("?upload_id={id}&part_number=abc", id="non-numeric"),
        pytest.param("?upload_id={id}&part_number=4294967296", id="u32-overflow"),
        pytest.param("?upload_id={id}&part_number=", id="empty-part-number"),
        pytest.param("?upload_id={id}", id="missing-part-number"),
        pytest.param("?part_number=1", id="missing-upload-id"),
        pytest.param("", id="no-query"),
        pytest.param("?upload_id=&part_number=1", id="empty-upload-id"),
        pytest.param("?upload_id=..&part_number=1", id="dotdot-upload-id"),
        pytest.param("?upload_id=.&part_number=1", id="dot-upload-id"),
        pytest.param("?upload_id=%2Fabs&part_number=1", id="absolute-upload-id"),
        pytest.param("?upload_id=a%2F..&part_number=1", id="trailing-dotdot"),
        pytest.param("?uploadId={id}&partNumber=1", id="camel-case"),
    ],
)
def test_part_query_errors_are_400_text(api: Api, query: str) -> None:
    """§11/§11.2/§19.16: bad query → 400 `Failed to deserialize query string: ...`."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    path = part_path(api, key, query.replace("{id}", enc(upload_id)))
    resp = api.request("PUT", path, body=b"abc")
    assert_text_error(resp, 400, "Failed to deserialize query string: ")


@pytest.mark.profile("filesystem")
def test_upload_id_with_inner_slash_passes_validation(api: Api) -> None:
    """§11: an inner `/` between two normal names is accepted (then unknown upload → [FS] 500)."""
    key = uniq()
    resp = upload(api, key, "a/b", 1, b"abc")
    assert_json_error(resp, 500, NOT_FOUND)


def test_chunked_part_without_content_length_400(api: Api) -> None:
    """§11.2: `content-length` is required; a chunked part → 400 JSON without `causes`.

    Today's text names the header in lower case (protocol §11.2).
    """
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    query = f"?upload_id={enc(upload_id)}&part_number=1"
    resp = api.request("PUT", part_path(api, key, query), chunks=[b"abc", b"def"])
    name = "content-length" if api.target.current else "Content-Length"
    doc = assert_json_error(resp, 400, f"client error: {name} header is required")
    assert "causes" not in doc, doc


@pytest.mark.profile("filesystem")
def test_content_md5_ignored(api: Api) -> None:
    """§11.2 [FS]: `content-md5` is passed on and ignored (even when wrong)."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    right = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    wrong = base64.b64encode(hashlib.md5(b"xyz").digest()).decode()
    assert upload(api, key, upload_id, 1, b"abc", headers={"content-md5": right}).status == 200
    assert upload(api, key, upload_id, 2, b"abc", headers={"content-md5": wrong}).status == 200


def test_reupload_replaces_part(api: Api) -> None:
    """§11.2: re-uploading a part number replaces the earlier part."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    upload_ok(api, key, upload_id, 1, b"aaa")
    etag = upload_ok(api, key, upload_id, 1, b"bbbbb")
    listed = list_parts(api, key, upload_id).json()["parts"]
    assert len(listed) == 1
    assert listed[0]["size"] == 5
    assert listed[0]["etag"] == etag
    assert outcome(complete(api, key, upload_id, [(1, etag)])) == {"key": key}
    assert api.get(key).body == b"bbbbb"


@pytest.mark.profile("filesystem")
def test_part_for_unknown_upload_is_500(api: Api) -> None:
    """§11.2 [FS]/§19.18: unknown upload id on part upload → 500."""
    resp = upload(api, uniq(), "0196a0b0-0000-7000-8000-000000000000", 1, b"abc")
    assert_json_error(resp, 500, NOT_FOUND)


@pytest.mark.profile("filesystem")
def test_part_for_other_keys_upload_is_500(api: Api) -> None:
    """§11.2 [FS]: an upload belonging to another key is unknown → 500."""
    upload_id = initiate(api, uniq())["upload_id"]
    assert_json_error(upload(api, uniq(), upload_id, 1, b"abc"), 500, NOT_FOUND)


def test_part_path_key_decoded(api: Api) -> None:
    """§2.2/§11: multipart keys are percent-decoded like object keys (`a%2Fb` = `a/b`)."""
    upload_id = initiate(api, "a/b")["upload_id"]
    query = f"?upload_id={enc(upload_id)}&part_number=1"
    resp = api.request(
        "PUT", api.path(raw_key="a%2Fb", route="objects:multipart:parts") + query, body=b"x"
    )
    assert resp.status == 200, resp
    etag = resp.json()["etag"]
    assert outcome(complete(api, "a/b", upload_id, [(1, etag)])) == {"key": "a/b"}
    assert api.get("a/b").body == b"x"


# -- §11.3 list parts ----------------------------------------------------------------------


def test_list_parts(api: Api) -> None:
    """§11.3: 200 JSON with parts (number, etag, last_modified, size), is_truncated, no marker."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etags = {n: upload_ok(api, key, upload_id, n, b"x" * n) for n in (3, 1, 2)}
    resp = list_parts(api, key, upload_id)
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON
    doc = resp.json()
    assert set(doc) == {"parts", "is_truncated"}, doc
    assert doc["is_truncated"] is False
    assert [p["part_number"] for p in doc["parts"]] == [1, 2, 3]
    for p in doc["parts"]:
        assert set(p) == {"part_number", "etag", "last_modified", "size"}, p
        assert p["etag"] == etags[p["part_number"]]
        assert p["size"] == p["part_number"]
        assert LAST_MODIFIED_RE.match(p["last_modified"]), p


def test_list_empty_upload(api: Api) -> None:
    """§11.3: an upload without parts lists `[]`, not truncated."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    assert list_parts(api, key, upload_id).json() == {"parts": [], "is_truncated": False}


@pytest.mark.profile("filesystem")
@pytest.mark.parametrize(
    ("extra", "numbers", "truncated", "marker"),
    [
        pytest.param("&max_parts=2", [1, 2], True, 2, id="max-2"),
        pytest.param("&max_parts=3", [1, 2, 3], False, None, id="max-exact"),
        pytest.param("&max_parts=10", [1, 2, 3], False, None, id="max-large"),
        pytest.param("&part_number_marker=2", [3], False, None, id="after-2"),
        pytest.param("&part_number_marker=1&max_parts=1", [2], True, 2, id="page-2"),
        pytest.param("&part_number_marker=3", [], False, None, id="after-last"),
        pytest.param("&part_number_marker=0", [1, 2, 3], False, None, id="marker-0"),
        pytest.param("&max_parts=0", [], True, None, id="max-0"),
    ],
)
def test_list_paging(
    api: Api, extra: str, numbers: list[int], truncated: bool, marker: int | None
) -> None:
    """§11.3 [FS]: marker skips ≤ marker, max_parts truncates, marker = last returned."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    for n in (1, 2, 3):
        upload_ok(api, key, upload_id, n, b"p")
    doc = list_parts(api, key, upload_id, extra).json()
    assert [p["part_number"] for p in doc["parts"]] == numbers
    assert doc["is_truncated"] is truncated
    if marker is None:
        assert "next_part_number_marker" not in doc, doc
    else:
        assert doc["next_part_number_marker"] == marker


@pytest.mark.profile("filesystem")
def test_list_unknown_upload_is_500(api: Api) -> None:
    """§11.3 [FS]/§19.18: listing an unknown upload → 500."""
    resp = list_parts(api, uniq(), "0196a0b0-0000-7000-8000-000000000000")
    assert_json_error(resp, 500, NOT_FOUND)


@pytest.mark.parametrize(
    "extra",
    ["&max_parts=abc", "&max_parts=-1", "&part_number_marker=x"],
)
def test_list_query_errors_are_400_text(api: Api, extra: str) -> None:
    """§11: unparsable list query parameters → 400 plain text."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    resp = list_parts(api, key, upload_id, extra)
    assert_text_error(resp, 400, "Failed to deserialize query string: ")


def test_list_answers_head(api: Api) -> None:
    """§2.1: the list route has GET, so it also answers HEAD (200, no body)."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    path = part_path(api, key, f"?upload_id={enc(upload_id)}")
    resp = api.request("HEAD", path)
    assert resp.status == 200, resp
    assert resp.body == b""


def test_list_without_upload_id_is_400(api: Api) -> None:
    """§11: list without `upload_id` → 400 plain text."""
    resp = api.request("GET", part_path(api, uniq(), ""))
    assert_text_error(resp, 400, "Failed to deserialize query string: ")


# -- §11.4 complete ------------------------------------------------------------------------


def test_complete_success(api: Api) -> None:
    """§11.4: complete → 200 `{"key"}`; the object is the parts with the initiate metadata."""
    key = uniq()
    headers = {
        "content-type": "text/plain",
        "x-sn-origin": "origin",
        "x-sn-filename": "big.txt",
        "x-snme-Kind": "mp",
        "x-sn-expiration": "tti:1h",
    }
    upload_id = initiate(api, key, headers)["upload_id"]
    e1 = upload_ok(api, key, upload_id, 1, b"hello ")
    e2 = upload_ok(api, key, upload_id, 2, b"world")
    assert outcome(complete(api, key, upload_id, [(1, e1), (2, e2)])) == {"key": key}
    resp = api.get(key)
    assert resp.body == b"hello world"
    assert resp.header("content-type") == "text/plain"
    assert resp.header("x-sn-origin") == "origin"
    assert resp.header("x-sn-filename") == "big.txt"
    assert resp.header("x-snme-kind") == "mp"
    assert resp.header("x-sn-expiration") == "tti:1h"
    assert resp.header("content-disposition") == 'attachment; filename="big.txt"'


def test_complete_with_server_generated_key(api: Api) -> None:
    """§11.1/§11.4: a POST-initiated upload completes under its generated key."""
    doc = initiate(api)
    key, upload_id = doc["key"], doc["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"generated")
    assert outcome(complete(api, key, upload_id, [(1, etag)])) == {"key": key}
    assert api.get(key).body == b"generated"


def test_complete_compressed_parts(api: Api) -> None:
    """§8/§11.4: independently compressed parts concatenate to a valid multi-frame stream."""
    key = uniq()
    upload_id = initiate(api, key, {"content-encoding": "zstd"})["upload_id"]
    c = zstandard.ZstdCompressor()
    e1 = upload_ok(api, key, upload_id, 1, c.compress(b"first half, "))
    e2 = upload_ok(api, key, upload_id, 2, c.compress(b"second half"))
    outcome(complete(api, key, upload_id, [(1, e1), (2, e2)]))
    resp = api.get(key)
    assert resp.header("content-encoding") == "zstd"
    reader = zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(resp.body), read_across_frames=True
    )
    assert reader.read() == b"first half, second half"


@pytest.mark.profile("filesystem")
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param([2, 1], b"BBA", id="reversed"),
        pytest.param([1, 1], b"AA", id="duplicate"),
        pytest.param([2], b"BB", id="subset"),
        pytest.param([], b"", id="empty"),
        pytest.param([1, 2, 1], b"ABBA", id="palindrome"),
    ],
)
def test_complete_concatenates_in_listed_order(api: Api, order: list[int], expected: bytes) -> None:
    """§11.4 [FS]/§19.17: parts are concatenated in request order, unchecked; unlisted dropped."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etags = {
        1: upload_ok(api, key, upload_id, 1, b"A"),
        2: upload_ok(api, key, upload_id, 2, b"BB"),
    }
    assert outcome(complete(api, key, upload_id, [(n, etags[n]) for n in order])) == {"key": key}
    resp = api.get(key)
    assert resp.status == 200, resp
    assert resp.body == expected


@pytest.mark.profile("filesystem")
def test_complete_etag_mismatch_keeps_upload_open(api: Api) -> None:
    """§11.4 [FS]: etag mismatch → 200 + `InvalidPart` error document; a retry can succeed."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"abc")
    doc = outcome(complete(api, key, upload_id, [(1, '"wrong"')]))
    assert doc == {
        "error": {
            "code": "InvalidPart",
            "message": f'etag mismatch for part 1: expected {etag}, got "wrong"',
        }
    }
    assert api.get(key).status == 404
    assert outcome(complete(api, key, upload_id, [(1, etag)])) == {"key": key}
    assert api.get(key).body == b"abc"


@pytest.mark.profile("filesystem")
def test_complete_missing_part(api: Api) -> None:
    """§11.4 [FS]: a listed part that was not uploaded → `InvalidPart` document, nothing written."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"abc")
    doc = outcome(complete(api, key, upload_id, [(1, etag), (5, '"etag-5-3"')]))
    assert doc == {"error": {"code": "InvalidPart", "message": "part number 5 was not uploaded"}}
    assert api.get(key).status == 404


def test_complete_twice_is_error_document(api: Api) -> None:
    """§11.4: completing the same upload again → 200 with an `internal error` document."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"once")
    assert outcome(complete(api, key, upload_id, [(1, etag)])) == {"key": key}
    doc = outcome(complete(api, key, upload_id, [(1, etag)]))
    assert set(doc) == {"error"}, doc
    assert doc["error"]["code"] == "internal error"
    assert api.get(key).body == b"once"


def test_complete_unknown_upload_is_error_document(api: Api) -> None:
    """§11.4/§19.17: an unknown upload ends up in the 200 body with `internal error`."""
    doc = outcome(complete(api, uniq(), "0196a0b0-0000-7000-8000-000000000000", []))
    assert set(doc) == {"error"}, doc
    assert set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == "internal error"


@pytest.mark.profile("filesystem")
def test_complete_unknown_upload_message(api: Api) -> None:
    """§11.4 [FS]: the unknown-upload message is the backend's `multipart upload not found`."""
    doc = outcome(complete(api, uniq(), "0196a0b0-0000-7000-8000-000000000000", []))
    assert doc == {"error": {"code": "internal error", "message": NOT_FOUND}}


def test_complete_permission_failure_is_error_document(api: Api) -> None:
    """§11.4/§19.17: even an authorization failure is a 200 with an error document."""
    api.require_auth()
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"abc")
    doc = outcome(complete(api, key, upload_id, [(1, etag)], permissions=READ))
    assert doc == {
        "error": {"code": "internal error", "message": "auth error: operation not allowed"}
    }
    assert api.get(key).status == 404


def test_complete_missing_token_is_http_400(api: Api) -> None:
    """§3/§11.4: authentication (stage 3) still fails as HTTP 400 before the streamed body."""
    api.require_auth()
    resp = complete(api, uniq(), "x", [], auth=False)
    assert_json_error(resp, 400, "auth error: bad request: No authorization token provided")


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/json; charset=utf-8", id="charset"),
        pytest.param("application/vnd.objectstore+json", id="plus-json"),
    ],
)
def test_complete_accepts_json_content_types(api: Api, content_type: str) -> None:
    """§11.4: `application/json` or `application/<x>+json` is accepted."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"ct")
    resp = complete(api, key, upload_id, [(1, etag)], content_type=content_type)
    assert outcome(resp) == {"key": key}


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="absent"),
        pytest.param("text/plain", id="text"),
        pytest.param("application/xml", id="xml"),
        pytest.param("multipart/form-data; boundary=x", id="form"),
    ],
)
def test_complete_requires_json_content_type(api: Api, content_type: str | None) -> None:
    """§11.4/§4.2: other content types → 415 plain text."""
    resp = complete(api, uniq(), "x", [], content_type=content_type)
    assert_text_error(resp, 415, "Expected request with `Content-Type: application/json`")


@pytest.mark.parametrize("body", [b"{", b"not json", b"", b'{"parts": [}'])
def test_complete_body_not_json_is_400(api: Api, body: bytes) -> None:
    """§11.4/§4.2: a body that is not JSON → 400 plain text."""
    resp = complete(api, uniq(), "x", body=body)
    assert_text_error(resp, 400, "Failed to parse the request body as JSON: ")


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({}, id="no-parts"),
        pytest.param({"parts": "x"}, id="parts-not-list"),
        pytest.param({"parts": [{"part_number": 0, "etag": "x"}]}, id="part-zero"),
        pytest.param({"parts": [{"part_number": 1}]}, id="missing-etag"),
        pytest.param({"parts": [{"etag": "x"}]}, id="missing-number"),
        pytest.param({"parts": [{"part_number": "1", "etag": "x"}]}, id="number-as-string"),
        pytest.param({"parts": [{"part_number": -1, "etag": "x"}]}, id="negative"),
        pytest.param({"parts": [{"part_number": 1, "etag": 5}]}, id="etag-not-string"),
        pytest.param([], id="top-level-list"),
    ],
)
def test_complete_wrong_shape_is_422(api: Api, doc: Any) -> None:
    """§11.4/§4.2: JSON of the wrong shape → 422 plain text."""
    resp = complete(api, uniq(), "x", body=json.dumps(doc).encode())
    assert_text_error(resp, 422, "Failed to deserialize the JSON body into the target type: ")


def test_complete_extra_fields_ignored(api: Api) -> None:
    """§11.4: extra JSON fields are ignored."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"extra")
    doc = {"parts": [{"part_number": 1, "etag": etag, "size": 5}], "checksum": "none"}
    assert outcome(complete(api, key, upload_id, body=json.dumps(doc).encode())) == {"key": key}


def _padded(parts: list[dict[str, Any]], total: int) -> bytes:
    head = json.dumps({"parts": parts})[:-1] + ', "pad": "'
    body = head.encode() + b'"}'
    return head.encode() + b"x" * (total - len(body)) + b'"}'


def test_complete_body_limit_2mib(api: Api) -> None:
    """§11.4/§14: a body of exactly 2 MiB is accepted; one byte more → 413 plain text."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"big json")
    parts = [{"part_number": 1, "etag": etag}]
    too_big = _padded(parts, 2 * 1024 * 1024 + 1)
    assert len(too_big) == 2 * 1024 * 1024 + 1
    resp = complete(api, key, upload_id, body=too_big)
    assert_text_error(resp, 413, "Failed to buffer the request body: ")
    just_right = _padded(parts, 2 * 1024 * 1024)
    assert outcome(complete(api, key, upload_id, body=just_right)) == {"key": key}


def test_complete_json_extraction_before_authorization(api: Api) -> None:
    """§3: JSON extraction (stage 7) precedes the permission check (stage 8): 415, not 403."""
    api.require_auth()
    resp = complete(api, uniq(), "x", [], content_type="text/plain", permissions=READ)
    assert_text_error(resp, 415, "Expected request with `Content-Type: application/json`")


def test_complete_query_checked_before_body(api: Api) -> None:
    """§3: query parameters are extracted before the JSON body (400 beats 415)."""
    path = api.path(uniq(), route="objects:multipart:complete")
    resp = api.request("POST", path, {"content-type": "text/plain"}, b"nope")
    assert_text_error(resp, 400, "Failed to deserialize query string: ")


# -- §11.5 abort ---------------------------------------------------------------------------


def test_abort(api: Api) -> None:
    """§11.5: abort → 204 with an empty body; the upload can no longer be completed."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"abc")
    resp = abort(api, key, upload_id)
    assert resp.status == 204, resp
    assert resp.body == b""
    doc = outcome(complete(api, key, upload_id, [(1, etag)]))
    assert doc["error"]["code"] == "internal error"
    assert api.get(key).status == 404


@pytest.mark.profile("filesystem")
def test_abort_unknown_upload_is_204(api: Api) -> None:
    """§11.5 [FS]/§19.18: aborting an unknown upload is a no-op 204."""
    resp = abort(api, uniq(), "0196a0b0-0000-7000-8000-000000000000")
    assert resp.status == 204, resp
    assert resp.body == b""


@pytest.mark.profile("filesystem")
def test_part_after_abort_is_500(api: Api) -> None:
    """§11.5/§11.2 [FS]: after abort the upload is unknown."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    assert abort(api, key, upload_id).status == 204
    assert_json_error(upload(api, key, upload_id, 1, b"late"), 500, NOT_FOUND)


def test_abort_without_upload_id_is_400(api: Api) -> None:
    """§11.5: missing `upload_id` → 400."""
    assert_text_error(abort(api, uniq(), None), 400, "Failed to deserialize query string: ")


# -- §11 permissions: everything needs object.write ----------------------------------------


@pytest.mark.parametrize(
    "permissions",
    [
        pytest.param(("object.read", "object.delete"), id="read-delete"),
        pytest.param((), id="none"),
    ],
)
def test_all_multipart_operations_need_write(api: Api, permissions: tuple[str, ...]) -> None:
    """§11/§19.19: initiate, part, list and abort need `object.write` (403 JSON)."""
    api.require_auth()
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    denied = "auth error: operation not allowed"
    init = api.request("PUT", api.path(key, route="objects:multipart"), permissions=permissions)
    assert_json_error(init, 403, denied)
    post = api.request("POST", api.path(route="objects:multipart"), permissions=permissions)
    assert_json_error(post, 403, denied)
    assert_json_error(upload(api, key, upload_id, 1, b"x", permissions=permissions), 403, denied)
    assert_json_error(list_parts(api, key, upload_id, permissions=permissions), 403, denied)
    assert_json_error(abort(api, key, upload_id, permissions=permissions), 403, denied)
    # the upload is untouched by the denied requests
    assert list_parts(api, key, upload_id).json() == {"parts": [], "is_truncated": False}


def test_write_only_token_suffices(api: Api) -> None:
    """§11: `object.write` alone allows the whole flow, including list and abort."""
    api.require_auth()
    key = uniq()
    w = ("object.write",)
    resp = api.request("PUT", api.path(key, route="objects:multipart"), permissions=w)
    upload_id = resp.json()["upload_id"]
    assert upload(api, key, upload_id, 1, b"w", permissions=w).status == 200
    assert list_parts(api, key, upload_id, permissions=w).status == 200
    etag = list_parts(api, key, upload_id).json()["parts"][0]["etag"]
    assert outcome(complete(api, key, upload_id, [(1, etag)], permissions=w)) == {"key": key}
    other = initiate(api, key)["upload_id"]
    assert abort(api, key, other, permissions=w).status == 204


def test_list_last_modified_is_recent(api: Api) -> None:
    """§11.3: `last_modified` is the part's upload time, RFC 3339 UTC."""
    key = uniq()
    upload_id = initiate(api, key)["upload_id"]
    upload_ok(api, key, upload_id, 1, b"t")
    api.put_ok(key + "-ref", b"r")
    ref = parse_ts(api.get(key + "-ref").header("x-sn-time-created") or "")
    value = list_parts(api, key, upload_id).json()["parts"][0]["last_modified"]
    assert LAST_MODIFIED_RE.match(value), value
    moment = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    assert abs((ref - moment).total_seconds()) < 5
