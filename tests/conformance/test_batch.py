"""§10 batch endpoint: request framing, per-part processing, the streamed response."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import zstandard

from . import _formdata as fd
from ._api import (
    ALL_PERMS,
    READ,
    UUID4_RE,
    WRITE,
    Api,
    assert_empty,
    assert_json_error,
    assert_text_error,
    batch_key_echo,
    uniq,
)
from ._wire import RawConnection

ERROR_PART_HEADERS = {
    "content-disposition",
    "x-sn-batch-operation-index",
    "x-sn-batch-operation-status",
}
MIB = 1024 * 1024


def _assert_error_part(part: fd.Part, status: str, prefix: str = "") -> None:
    """§10.3: error parts carry only index and status (plus content-disposition), JSON body."""
    assert part.status == status, (part.headers, part.body)
    assert part.names == ERROR_PART_HEADERS, part.headers
    doc = part.json()
    assert isinstance(doc["detail"], str), doc
    assert set(doc) <= {"detail", "causes"}, doc
    assert doc["detail"].startswith(prefix), doc


# -- §10.1 request -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("multipart/mixed; boundary=conf-Bound4ry", id="multipart-mixed"),
        pytest.param("multipart/form-data", id="no-boundary"),
        pytest.param("application/json", id="json"),
        pytest.param("text/plain; boundary=conf-Bound4ry", id="text-plain"),
        pytest.param(None, id="absent"),
    ],
)
def test_batch_requires_form_data_with_boundary(api: Api, content_type: str | None) -> None:
    """§10.1/§4.2/§19.14: anything but multipart/form-data with a boundary → 400 plain text."""
    path = api.path(route="objects:batch")
    headers = {} if content_type is None else {"content-type": content_type}
    body = fd.encode([fd.op("head", "k")])
    resp = api.request("POST", path, headers, body)
    assert_text_error(resp, 400, "Invalid `boundary` for `multipart/form-data` request")


def test_quoted_request_boundary_accepted(api: Api) -> None:
    """§10.1: the request boundary may be quoted."""
    key = uniq()
    resp = fd.send(
        api,
        [fd.op("insert", key, b"q")],
        content_type=f'multipart/form-data; boundary="{fd.BOUNDARY}"',
    )
    parts = fd.parse(resp)
    assert [p.status for p in parts] == ["201 Created"]
    assert api.get(key).body == b"q"


def test_zero_parts(api: Api) -> None:
    """§10.3: a batch with zero parts yields just `--<boundary>--`."""
    resp = fd.send(api, [])
    boundary = fd.boundary_of(resp)
    assert resp.status == 200, resp
    assert resp.body == f"--{boundary}--".encode()


def test_response_framing(api: Api) -> None:
    """§10.3: 200, quoted `os-boundary-<32 hex>`, streamed, no CRLF after the close delimiter."""
    resp = fd.send(api, [fd.op("head", uniq()), fd.op("insert", uniq(), b"x")])
    assert resp.status == 200, resp
    assert resp.chunked
    assert not resp.has("content-length")
    parts = fd.parse(resp)  # checks framing strictly
    assert len(parts) == 2
    assert not resp.body.endswith(b"\r\n")
    assert all(name == name.lower() for part in parts for name in part.names)


def test_response_boundaries_are_random(api: Api) -> None:
    """§10.3: the boundary is `os-boundary-` plus 32 lower-case hex digits, fresh per response."""
    first = fd.boundary_of(fd.send(api, []))
    second = fd.boundary_of(fd.send(api, []))
    assert first != second


def test_every_part_has_disposition_and_index(api: Api) -> None:
    """§10.3: every part has `content-disposition: form-data; name=part` and its index."""
    key = uniq()
    ops = [fd.op("insert", key, b"1"), fd.op("get", key), fd.op("kaboom", key), fd.op(None)]
    parts = fd.run(api, ops)
    for part in parts.values():
        assert part.header("content-disposition") == "form-data; name=part", part.headers


def test_request_part_content_disposition_ignored(api: Api) -> None:
    """§10.1: `content-disposition` on request parts is optional and ignored."""
    key = uniq()
    part = fd.op("insert", key, b"cd")
    part.headers.insert(0, ("content-disposition", 'form-data; name="file"; filename="x.bin"'))
    parts = fd.run(api, [part])
    assert parts[0].status == "201 Created"
    got = api.get(key)
    assert got.body == b"cd"
    # No filename stored: none, or today possibly a bare `attachment` (protocol §5.7).
    assert got.header("content-disposition") in (None, "attachment"), got.headers


# -- §10.3 outcomes ------------------------------------------------------------------------


def test_insert_with_key(api: Api) -> None:
    """§10.3: insert → `201 Created`, key and `kind: insert`, empty body; object stored."""
    key = uniq()
    parts = fd.run(
        api,
        [
            fd.op(
                "insert",
                key,
                b"batched",
                content_type="text/plain",
                x_sn_expiration="ttl:1h",
                x_sn_origin="1.2.3.4",
                x_sn_filename="b.txt",
                x_snme_Custom="c",
            )
        ],
    )
    part = parts[0]
    assert part.status == "201 Created"
    assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key)
    assert part.header("x-sn-batch-operation-kind") == "insert"
    assert part.body == b""
    assert part.names == ERROR_PART_HEADERS | {
        "x-sn-batch-operation-key",
        "x-sn-batch-operation-kind",
    }
    got = api.get(key)
    assert got.body == b"batched"
    assert got.header("content-type") == "text/plain"
    assert got.header("x-sn-expiration") == "ttl:1h"
    assert got.header("x-sn-origin") == "1.2.3.4"
    assert got.header("x-sn-filename") == "b.txt"
    assert got.header("x-snme-custom") == "c"


def test_insert_without_key_generates_uuid4(api: Api) -> None:
    """§10.1/§2.7: an insert without key header gets a server-generated UUIDv4."""
    parts = fd.run(api, [fd.op("insert", None, b"anon")])
    encoded = parts[0].header("x-sn-batch-operation-key")
    assert encoded is not None, parts[0].headers
    key = unquote(encoded)
    assert UUID4_RE.match(key), key
    assert encoded == batch_key_echo(api, key)  # the hyphens are percent-encoded too
    assert api.get(key).body == b"anon"


def test_insert_overwrite_still_201(api: Api) -> None:
    """§10.3/§19.2: batch inserts report `201 Created` even when overwriting."""
    key = uniq()
    api.put_ok(key, b"old", {"x-snme-old": "1"})
    parts = fd.run(api, [fd.op("insert", key, b"new")])
    assert parts[0].status == "201 Created"
    got = api.get(key)
    assert got.body == b"new"
    assert not got.has("x-snme-old")


def test_insert_key_is_percent_decoded(api: Api) -> None:
    """§10.1: the key header is percent-decoded (`reports%2F2024` → `reports/2024`)."""
    headers = [
        ("x-sn-batch-operation-kind", "insert"),
        ("x-sn-batch-operation-key", "reports%2F2024"),
    ]
    part = fd.Op(list(headers), b"r")
    parts = fd.run(api, [part])
    assert parts[0].header("x-sn-batch-operation-key") == batch_key_echo(api, "reports/2024")
    assert api.get("reports/2024").body == b"r"


def test_unencoded_key_header_accepted(api: Api) -> None:
    """§10.1: a key without escapes decodes to itself (alphanumerics need no encoding)."""
    part = fd.Op([("x-sn-batch-operation-kind", "insert"), ("x-sn-batch-operation-key", "a.b")])
    parts = fd.run(api, [part])
    assert parts[0].status == "201 Created"
    assert parts[0].header("x-sn-batch-operation-key") == batch_key_echo(api, "a.b")
    assert api.get("a.b").status == 200


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("a b/c.d-é_~", id="mixed"),
        pytest.param("plain123", id="alnum"),
        pytest.param("%41", id="percent"),
        pytest.param("\U0001f680", id="emoji"),
    ],
)
def test_response_key_encodes_every_non_alphanumeric_byte(api: Api, key: str) -> None:
    """§10.3: response keys are percent-encoded.

    0.2.0 encodes every non-alphanumeric byte as `%XX`; today only controls, DEL, `%` and
    non-ASCII.
    """
    parts = fd.run(api, [fd.op("insert", key, b"e"), fd.op("get", key), fd.op("head", "x" + key)])
    for part in parts.values():
        assert part.header("x-sn-batch-operation-key") == batch_key_echo(
            api, key if part.index < 2 else "x" + key
        )
    assert api.get(key).body == b"e"


def test_get_found(api: Api) -> None:
    """§10.3: get → `200 OK`, key, kind, content-type and metadata (no disposition/ranges)."""
    key = uniq()
    api.put_ok(
        key,
        b"payload",
        {
            "content-type": "text/csv",
            "x-sn-expiration": "ttl:1h",
            "x-sn-origin": "o",
            "x-sn-filename": "f.csv",
            "x-snme-b": "2",
            "x-snme-a": "1",
        },
    )
    single = api.head(key)
    part = fd.run(api, [fd.op("get", key)])[0]
    assert part.status == "200 OK"
    assert part.body == b"payload"
    assert part.header("x-sn-batch-operation-kind") == "get"
    assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key)
    for name in (
        "content-type",
        "x-sn-expiration",
        "x-sn-time-created",
        "x-sn-time-expires",
        "x-sn-origin",
        "x-sn-filename",
        "x-snme-a",
        "x-snme-b",
    ):
        assert part.header(name) == single.header(name), name
    assert "content-disposition" in part.names  # the part's own form-data disposition
    assert part.header("content-disposition") == "form-data; name=part"
    assert "accept-ranges" not in part.names
    custom = [n for n, _ in part.headers if n.startswith("x-snme-")]
    assert custom == ["x-snme-a", "x-snme-b"]


def test_get_compressed_returns_stored_bytes(api: Api) -> None:
    """§8/§10.3: batch get returns the stored (compressed) bytes with content-encoding."""
    key = uniq()
    payload = zstandard.ZstdCompressor().compress(b"zzz" * 1000)
    api.put_ok(key, payload, {"content-encoding": "zstd"})
    part = fd.run(api, [fd.op("get", key)])[0]
    assert part.body == payload
    assert part.header("content-encoding") == "zstd"


def test_get_large_object_beyond_insert_limit(api: Api) -> None:
    """§10.2: batch get buffers the whole object: no 1 MiB limit on reads."""
    key = uniq()
    body = bytes(range(256)) * (3 * 4096)  # 3 MiB
    api.put_ok(key, body)
    part = fd.run(api, [fd.op("get", key)], timeout=60)[0]
    assert part.status == "200 OK"
    assert part.body == body


def test_get_missing(api: Api) -> None:
    """§10.3: get of a missing key → `404 Not Found` with key and kind, empty body."""
    key = uniq()
    part = fd.run(api, [fd.op("get", key)])[0]
    assert part.status == "404 Not Found"
    assert part.header("x-sn-batch-operation-kind") == "get"
    assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key)
    assert part.body == b""
    assert "content-type" not in part.names


def test_head_found(api: Api) -> None:
    """§10.3: head → `204 No Content` with metadata including content-type, empty body."""
    key = uniq()
    api.put_ok(key, b"headed", {"content-type": "image/gif", "x-snme-k": "v"})
    part = fd.run(api, [fd.op("head", key)])[0]
    assert part.status == "204 No Content"
    assert part.body == b""
    assert part.header("x-sn-batch-operation-kind") == "head"
    assert part.header("content-type") == "image/gif"
    assert part.header("x-snme-k") == "v"
    assert part.header("x-sn-time-created") is not None


def test_head_missing(api: Api) -> None:
    """§10.3: head of a missing key → `404 Not Found`."""
    part = fd.run(api, [fd.op("head", uniq())])[0]
    assert part.status == "404 Not Found"
    assert part.header("x-sn-batch-operation-kind") == "head"
    assert part.body == b""


def test_delete(api: Api) -> None:
    """§10.3: delete → `204 No Content` with key and kind; the object is gone."""
    key = uniq()
    api.put_ok(key, b"x")
    part = fd.run(api, [fd.op("delete", key)])[0]
    assert part.status == "204 No Content"
    assert part.header("x-sn-batch-operation-kind") == "delete"
    assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key)
    assert part.body == b""
    assert_empty(api.get(key), 404)


@pytest.mark.profile("production")
def test_delete_missing_is_204_part(api: Api) -> None:
    """§10.3 [PROD]: deleting a missing key is a `204 No Content` part."""
    part = fd.run(api, [fd.op("delete", uniq())])[0]
    assert part.status == "204 No Content"


@pytest.mark.server_version("0.2.0")
@pytest.mark.profile("filesystem")
def test_delete_missing_is_500_part(api: Api) -> None:
    """§10.3 [FS]/§19.6: batch delete of a missing key → 500 error part."""
    part = fd.run(api, [fd.op("delete", uniq())])[0]
    _assert_error_part(part, "500 Internal Server Error")


@pytest.mark.server_version("0.2.0")
@pytest.mark.parametrize("kind", ["get", "head"])
def test_unrenderable_deadline_is_500_part(api: Api, kind: str) -> None:
    """§5.4.1/§10.3: an expiry past year 9999 cannot be rendered: a 500 error part."""
    key = uniq()
    assert api.put(key, b"x", {"x-sn-expiration": "ttl:10000y"}).status == 200
    part = fd.run(api, [fd.op(kind, key)])[0]
    _assert_error_part(part, "500 Internal Server Error")


@pytest.mark.parametrize("kind", ["GET", "Get", "gEt"])
def test_kind_matched_case_insensitively(api: Api, kind: str) -> None:
    """§10.1: the operation kind is matched case-insensitively."""
    key = uniq()
    api.put_ok(key, b"ci")
    part = fd.run(api, [fd.op(kind, key)])[0]
    assert part.status == "200 OK"
    assert part.body == b"ci"
    assert part.header("x-sn-batch-operation-kind") == "get"


def test_part_body_ignored_for_non_inserts(api: Api) -> None:
    """§10.1: the part body is ignored for get/head/delete."""
    key = uniq()
    api.put_ok(key, b"orig")
    parts = fd.run(api, [fd.op("get", key, b"ignored"), fd.op("head", key, b"ignored too")])
    assert parts[0].body == b"orig"
    assert parts[1].status == "204 No Content"
    assert api.get(key).body == b"orig"


def test_mixed_batch_correlated_by_index(api: Api) -> None:
    """§10.2/§10.3: one part per request part; clients correlate by the index header."""
    keys = [uniq() for _ in range(12)]
    for key in keys[:6]:
        api.put_ok(key, key.encode())
    ops = []
    for i, key in enumerate(keys):
        ops.append(fd.op("get", key) if i % 2 == 0 else fd.op("insert", key + "-new", b"n"))
    parts = fd.run(api, ops)
    for i, key in enumerate(keys):
        part = parts[i]
        if i % 2 == 0:
            expected = "200 OK" if i < 6 else "404 Not Found"
            assert part.status == expected, (i, part.headers)
            assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key)
            if i < 6:
                assert part.body == key.encode()
        else:
            assert part.status == "201 Created"
            assert part.header("x-sn-batch-operation-key") == batch_key_echo(api, key + "-new")


def test_operations_share_usecase_and_scopes(api: Api) -> None:
    """§10: all operations use the URL's usecase and scopes."""
    key = uniq()
    fd.run(api, [fd.op("insert", key, b"scoped")], scopes="org=7")
    assert api.get(key, scopes="org=7").body == b"scoped"
    assert api.get(key).status == 404


def test_present_but_empty_key_is_the_empty_key(api: Api) -> None:
    """§10.1/§19.15: an empty key header is the empty key, not a missing header."""
    part = fd.Op([("x-sn-batch-operation-kind", "get"), ("x-sn-batch-operation-key", "")])
    result = fd.run(api, [part])[0]
    assert result.status == "404 Not Found"
    assert result.header("x-sn-batch-operation-key") == ""


@pytest.mark.profile("production")
def test_empty_key_insert_and_get(api: Api) -> None:
    """§10.1 [PROD]: the empty key can be written and read back through batch."""
    empty = [("x-sn-batch-operation-key", "")]
    ins = fd.Op([("x-sn-batch-operation-kind", "insert"), *empty], b"nothing")
    assert fd.run(api, [ins])[0].status == "201 Created"
    get = fd.Op([("x-sn-batch-operation-kind", "get"), *empty])
    part = fd.run(api, [get])[0]
    assert part.status == "200 OK"
    assert part.body == b"nothing"


# -- §10.3 error parts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "prefix"),
    [
        pytest.param(
            fd.op(None, "k"),
            "batch error: bad request: missing x-sn-batch-operation-kind header",
            id="missing-kind",
        ),
        pytest.param(
            fd.op("copy", "k"),
            "batch error: bad request: invalid operation kind: copy",
            id="unknown-kind",
        ),
        pytest.param(
            fd.op("get"),
            "batch error: bad request: missing x-sn-batch-operation-key header for get operation",
            id="get-without-key",
        ),
        pytest.param(fd.op("head"), "batch error: bad request: ", id="head-without-key"),
        pytest.param(fd.op("delete"), "batch error: bad request: ", id="delete-without-key"),
        pytest.param(
            fd.Op([("x-sn-batch-operation-kind", "get"), ("x-sn-batch-operation-key", "%FF")]),
            "batch error: ",
            id="key-not-utf8",
        ),
        pytest.param(
            fd.op("insert", "k", b"x", content_encoding="br"),
            "batch error: metadata error",
            id="bad-encoding",
        ),
        pytest.param(
            fd.op("insert", "k", b"x", content_type="nonsense"),
            "batch error: metadata error",
            id="bad-content-type",
        ),
        pytest.param(
            fd.op("insert", "k", b"x", x_sn_expiration="ttl:forever"),
            "batch error: metadata error",
            id="bad-expiration",
        ),
    ],
)
def test_malformed_part_is_400_error_part(api: Api, part: fd.Op, prefix: str) -> None:
    """§10.3: malformed parts → 400 error parts (only index/status, JSON body)."""
    parts = fd.run(api, [fd.op("head", uniq()), part, fd.op("head", uniq())])
    _assert_error_part(parts[1], "400 Bad Request", prefix)
    assert parts[0].status == parts[2].status == "404 Not Found"


def test_failed_insert_stores_nothing(api: Api) -> None:
    """§10.3: an insert rejected for its metadata writes nothing."""
    key = uniq()
    parts = fd.run(api, [fd.op("insert", key, b"x", content_encoding="br")])
    assert parts[0].code == 400
    assert api.get(key).status == 404


def test_insert_payload_limit(api: Api) -> None:
    """§10.1/§14: insert payloads up to 1 MiB are accepted, larger → 413 error part."""
    ok, big = uniq(), uniq()
    parts = fd.run(
        api,
        [fd.op("insert", ok, b"a" * MIB), fd.op("insert", big, b"b" * (MIB + 1))],
        timeout=60,
    )
    assert parts[0].status == "201 Created"
    _assert_error_part(
        parts[1],
        "413 Payload Too Large",
        "batch error: batch limit exceeded: individual request in batch exceeds body size "
        "limit of 1048576 bytes",
    )
    assert len(api.get(ok).body) == MIB
    assert api.get(big).status == 404


def test_operation_count_limit(api: Api) -> None:
    """§10.1/§14: at most 1000 operations; every part beyond the 1000th → 413 error part."""
    ops = [fd.op("head", f"missing-{i}") for i in range(1002)]
    parts = fd.run(api, ops, timeout=120)
    for i in range(1000):
        assert parts[i].status == "404 Not Found", (i, parts[i].headers)
    for i in (1000, 1001):
        _assert_error_part(parts[i], "413 Payload Too Large", "batch error: batch limit exceeded")
        assert "exceeded 1000 operations per batch request" in parts[i].json()["detail"]


def test_32_header_lines_per_part(api: Api) -> None:
    """§10.1: a part may have 32 header lines."""
    key = uniq()
    meta = {f"x_snme_h{i:02d}": str(i) for i in range(30)}
    parts = fd.run(api, [fd.op("insert", key, b"h", **meta)])
    assert parts[0].status == "201 Created"
    got = api.get(key)
    assert got.header("x-snme-h29") == "29"
    assert len([n for n in got.names if n.startswith("x-snme-")]) == 30


def test_more_than_32_header_lines_is_error_part(api: Api) -> None:
    """§10.1/§10.3: more than 32 header lines in a part is a multipart error → 400 part."""
    meta = {f"x_snme_h{i:02d}": str(i) for i in range(31)}
    resp = fd.send(api, [fd.op("insert", uniq(), b"h", **meta)], max_body=65536)
    part = fd.first_part(resp)
    _assert_error_part(part, "400 Bad Request", "batch error: multipart error")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"--conf-Bound4ry\r\nx-sn-batch-operation-kind: get\r\n", id="truncated-head"),
        pytest.param(
            b"--conf-Bound4ry\r\nx-sn-batch-operation-kind: insert\r\n\r\nno close", id="no-close"
        ),
        pytest.param(b"", id="empty-body"),
        # httparse (through multer) refuses control bytes and a space before the colon in
        # part headers: the whole body is a framing error, not one bad operation.
        pytest.param(
            b"--conf-Bound4ry\r\nx-sn-batch-operation-kind: get\r\n"
            b"x-sn-batch-operation-key: k\x0c\r\n\r\n\r\n--conf-Bound4ry--\r\n",
            id="control-byte-in-value",
        ),
        pytest.param(
            b"--conf-Bound4ry\r\nx-sn-batch-operation-kind : get\r\n"
            b"x-sn-batch-operation-key: k\r\n\r\n\r\n--conf-Bound4ry--\r\n",
            id="space-before-colon",
        ),
    ],
)
def test_framing_error_is_400_part(api: Api, body: bytes) -> None:
    """§10.3/§19.15: multipart framing errors surface as 400 error parts (status stays 200)."""
    resp = fd.send(api, body=body, max_body=65536)
    part = fd.first_part(resp)
    _assert_error_part(part, "400 Bad Request", "batch error: multipart error")


# -- §10.2 request-level checks and permissions --------------------------------------------


def test_missing_token_is_request_level_400(api: Api) -> None:
    """§10.2: the auth token applies to the request as a whole (ordinary HTTP error)."""
    api.require_auth()
    resp = fd.send(api, [fd.op("head", "k")], auth=False)
    assert_json_error(resp, 400, "auth error: bad request: No authorization token provided")


def test_bad_token_is_request_level_401(api: Api) -> None:
    """§10.2/§13.3: token verification failures are HTTP errors, not error parts."""
    api.require_auth()
    path = api.path(route="objects:batch")
    headers = {
        "x-os-auth": "Bearer not.a.jwt",
        "content-type": f"multipart/form-data; boundary={fd.BOUNDARY}",
    }
    resp = api.request("POST", path, headers, fd.encode([fd.op("head", "k")]), auth=False)
    assert_json_error(resp, 401)


def test_response_streams_while_request_is_parsed(api: Api) -> None:
    """§10.2: result parts are produced lazily while the request body is still being read."""
    path = api.path(route="objects:batch")
    lines = [
        f"POST {path} HTTP/1.1",
        f"host: {api.target.host}",
        f"content-type: multipart/form-data; boundary={fd.BOUNDARY}",
        "transfer-encoding: chunked",
    ]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path)]

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    first = (
        f"--{fd.BOUNDARY}\r\nx-sn-batch-operation-kind: head\r\n"
        f"x-sn-batch-operation-key: first\r\n\r\n\r\n--{fd.BOUNDARY}\r\n"
    ).encode()
    rest = (
        f"x-sn-batch-operation-kind: head\r\nx-sn-batch-operation-key: second\r\n\r\n"
        f"\r\n--{fd.BOUNDARY}--\r\n"
    ).encode()
    with RawConnection(api.target.host, api.target.port, timeout=5) as conn:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + chunk(first))
        # the first result must arrive although the request body is not finished
        early = conn.read_until(b"x-sn-batch-operation-key: first")
        assert early.startswith(b"HTTP/1.1 200 "), early
        assert b"x-sn-batch-operation-key: first" in early
        conn.send(chunk(rest) + b"0\r\n\r\n")
        late = conn.read_until(b"x-sn-batch-operation-key: second", limit=1 << 20)
    assert b"x-sn-batch-operation-key: second" in late


def test_content_type_checked_before_permissions(api: Api) -> None:
    """§10.1/§3: the content-type check happens before any per-operation processing."""
    api.require_auth()
    resp = fd.send(
        api, [fd.op("head", "k")], content_type="multipart/mixed; boundary=b", permissions=()
    )
    assert_text_error(resp, 400, "Invalid `boundary` for `multipart/form-data` request")


@pytest.mark.parametrize(
    ("part", "status"),
    [
        pytest.param(
            fd.op("insert", "k", b"x", content_encoding="br"), "400 Bad Request", id="metadata"
        ),
        pytest.param(fd.op("insert", "k", b"x" * (MIB + 1)), "413 Payload Too Large", id="size"),
        pytest.param(fd.op("bogus", "k"), "400 Bad Request", id="kind"),
    ],
)
def test_part_parsing_before_permission(api: Api, part: fd.Op, status: str) -> None:
    """§10.2: per operation, parsing (400/413) comes before the permission check (403)."""
    api.require_auth()
    parts = fd.run(api, [part], permissions=READ, timeout=60)
    assert parts[0].status == status, (parts[0].headers, parts[0].body)


def test_bad_scopes_is_request_level_400(api: Api) -> None:
    """§10.2: the path applies to the request as a whole (400 plain text)."""
    resp = fd.send(api, [fd.op("head", "k")], scopes="org=")
    assert_text_error(resp, 400, "Invalid URL: ")


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        pytest.param(READ, {"get", "head"}, id="read"),
        pytest.param(WRITE, {"insert"}, id="write"),
        pytest.param(("object.delete",), {"delete"}, id="delete"),
        pytest.param((), set(), id="none"),
        pytest.param(ALL_PERMS, {"get", "head", "insert", "delete"}, id="all"),
    ],
)
def test_permission_checked_per_operation(
    api: Api, permissions: tuple[str, ...], allowed: set[str]
) -> None:
    """§10.2: get/head need read, insert write, delete delete; denial → 403 error part."""
    api.require_auth()
    key, doomed = uniq(), uniq()
    api.put_ok(key, b"p")
    api.put_ok(doomed, b"d")
    ops = {
        "get": fd.op("get", key),
        "head": fd.op("head", key),
        "insert": fd.op("insert", uniq(), b"i"),
        "delete": fd.op("delete", doomed),
    }
    kinds = list(ops)
    parts = fd.run(api, [ops[k] for k in kinds], permissions=permissions)
    for i, kind in enumerate(kinds):
        part = parts[i]
        if kind in allowed:
            assert part.code in (200, 201, 204), (kind, part.headers, part.body)
        else:
            _assert_error_part(part, "403 Forbidden", "auth error: operation not allowed")


def test_token_for_other_usecase_gives_403_parts(api: Api) -> None:
    """§10.2/§13.4: authorization is per operation, so a wrong-usecase token → 200 + 403 parts."""
    token = api.token(usecase=api.usecase + "-other")
    path = api.path(route="objects:batch")
    body = fd.encode([fd.op("head", "k"), fd.op("insert", "k", b"x")])
    raw = api.request(
        "POST",
        path,
        {
            "x-os-auth": f"Bearer {token}",
            "content-type": f"multipart/form-data; boundary={fd.BOUNDARY}",
        },
        body,
        auth=False,
    )
    parts = fd.by_index(fd.parse(raw))
    for i in (0, 1):
        _assert_error_part(parts[i], "403 Forbidden", "auth error: operation not allowed")
    assert api.get("k").status == 404
