"""§7 range requests (GET only)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._api import WRITE, Api, assert_empty, assert_json_error, uniq

DATA = b"0123456789"


def _object(api: Api, body: bytes = DATA, headers: dict[str, str] | None = None) -> str:
    key = uniq()
    api.put_ok(key, body, headers or {"content-type": "text/plain", "x-snme-r": "1"})
    return key


@pytest.mark.parametrize(
    ("range_", "start", "end"),
    [
        pytest.param("bytes=0-4", 0, 4, id="prefix"),
        pytest.param("bytes=5-", 5, 9, id="open-end"),
        pytest.param("bytes=-3", 7, 9, id="suffix"),
        pytest.param("bytes=0-", 0, 9, id="whole-open"),
        pytest.param("bytes=0-9", 0, 9, id="whole-closed"),
        pytest.param("bytes=3-3", 3, 3, id="single-byte"),
        pytest.param("bytes=9-9", 9, 9, id="last-byte"),
        pytest.param("bytes=8-100", 8, 9, id="end-clamped"),
        pytest.param("bytes=-10", 0, 9, id="suffix-whole"),
        pytest.param("bytes=-100", 0, 9, id="suffix-longer-than-object"),
        pytest.param("Bytes=1-2", 1, 2, id="unit-lower-cased"),
        pytest.param("BYTES=1-2", 1, 2, id="unit-upper"),
        pytest.param("bytes=+1-2", 1, 2, id="leading-plus"),
        pytest.param("bytes=0-18446744073709551615", 0, 9, id="u64-max-end"),
        pytest.param("bytes=007-008", 7, 8, id="leading-zeros"),
    ],
)
def test_satisfiable_range_is_206(api: Api, range_: str, start: int, end: int) -> None:
    """§7: satisfiable → 206, selected bytes, content-range, content-length, metadata."""
    key = _object(api)
    resp = api.get(key, {"range": range_})
    assert resp.status == 206, resp
    assert resp.body == DATA[start : end + 1]
    assert resp.header("content-range") == f"bytes {start}-{end}/{len(DATA)}"
    assert resp.header("content-length") == str(end - start + 1)
    assert resp.header("accept-ranges") == "bytes"
    assert resp.header("content-type") == "text/plain"
    assert resp.header("x-snme-r") == "1"
    assert resp.has("x-sn-time-created")


@pytest.mark.parametrize("range_", ["bytes=10-", "bytes=10-20", "bytes=100-200", "bytes=10-10"])
def test_unsatisfiable_range_is_416(api: Api, range_: str) -> None:
    """§7: start ≥ size → 416, empty body, `content-range: bytes */T`, accept-ranges."""
    key = _object(api)
    resp = api.get(key, {"range": range_})
    assert_empty(resp, 416)
    assert resp.header("content-range") == f"bytes */{len(DATA)}"
    assert resp.header("accept-ranges") == "bytes"


@pytest.mark.parametrize("range_", ["bytes=0-", "bytes=-1", "bytes=0-0", "bytes=-100"])
def test_any_range_on_empty_object_is_416(api: Api, range_: str) -> None:
    """§7/§19.26: T = 0 → every range is unsatisfiable: 416 `bytes */0`."""
    key = _object(api, b"")
    resp = api.get(key, {"range": range_})
    assert_empty(resp, 416)
    assert resp.header("content-range") == "bytes */0"


@pytest.mark.parametrize(
    "range_",
    [
        pytest.param("bytes=5-3", id="reversed"),
        pytest.param("bytes=-0", id="zero-suffix"),
        pytest.param("bytes= 0-4", id="space-after-equals"),
        pytest.param("bytes =0-4", id="space-before-equals"),
        pytest.param("bytes=0 -4", id="space-in-range"),
        pytest.param("bytes=0- 4", id="space-before-end"),
        pytest.param("items=0-4", id="other-unit"),
        pytest.param("bytes0-4", id="no-equals"),
        pytest.param("bytes=abc", id="garbage"),
        pytest.param("bytes=", id="empty-spec"),
        pytest.param("bytes=-", id="only-dash"),
        pytest.param("bytes=1-x", id="bad-end"),
        pytest.param("bytes=x-1", id="bad-start"),
        pytest.param("bytes=--1", id="negative-suffix"),
        pytest.param("bytes=1--2", id="negative-end"),
        pytest.param("bytes=-1-2", id="suffix-with-end"),
        pytest.param("bytes=18446744073709551616-", id="overflow"),
        pytest.param("bytes=0x1-2", id="hex"),
        pytest.param("", id="empty-header"),
    ],
)
def test_invalid_range_is_400(api: Api, range_: str) -> None:
    """§7/§19.26: malformed ranges → 400 JSON (not 416)."""
    key = _object(api)
    doc = assert_json_error(api.get(key, {"range": range_}), 400)
    assert doc["detail"].startswith("client error: invalid Range header"), doc


def test_non_ascii_range_is_400(api: Api) -> None:
    """§7: a range value that is not visible ASCII → 400."""
    key = _object(api)
    doc = assert_json_error(api.get(key, [("range", b"bytes=0-4\xe9")]), 400)
    assert doc["detail"].startswith("client error: invalid Range header"), doc


def test_wrong_unit_detail(api: Api) -> None:
    """§7: a wrong unit is reported as `invalid range unit: <unit>, expected: bytes`."""
    key = _object(api)
    doc = assert_json_error(api.get(key, {"range": "items=0-4"}), 400)
    assert "invalid range unit: items, expected: bytes" in doc["detail"], doc


@pytest.mark.parametrize(
    "range_",
    [
        pytest.param("bytes=0-1,3-4", id="two-ranges"),
        pytest.param("bytes=garbage,more", id="garbage-with-comma"),
        pytest.param("bytes=5-3,1-2", id="reversed-with-comma"),
        pytest.param("bytes=100-,0-1", id="unsatisfiable-with-comma"),
        pytest.param("bytes=,", id="only-comma"),
    ],
)
def test_multi_range_ignored(api: Api, range_: str) -> None:
    """§7/§19.26: a comma in the range → header ignored, full 200 (checked before validation)."""
    key = _object(api)
    resp = api.get(key, {"range": range_})
    assert resp.status == 200, resp
    assert resp.body == DATA
    assert not resp.has("content-range")


def test_multi_range_still_needs_bytes_unit(api: Api) -> None:
    """§7: the unit check (step 2) precedes the comma check (step 3)."""
    key = _object(api)
    assert_json_error(api.get(key, {"range": "items=0-1,3-4"}), 400)


def test_range_on_missing_object_is_404(api: Api) -> None:
    """§7: missing object → 404 (range not evaluated)."""
    assert_empty(api.get(uniq(), {"range": "bytes=100-200"}), 404)


def test_malformed_range_on_missing_object_is_400(api: Api) -> None:
    """§3/§7: the Range header is extracted before the handler, so 400 beats 404."""
    assert_json_error(api.get(uniq(), {"range": "bytes=5-3"}), 400)


def test_range_error_before_permission_check(api: Api) -> None:
    """§7/§19.26: range errors (400) are reported before the permission check (403)."""
    api.require_auth()
    key = _object(api)
    assert_json_error(api.get(key, {"range": "bytes=5-3"}, permissions=WRITE), 400)
    assert_json_error(api.get(key, {"range": "bytes=0-1"}, permissions=WRITE), 403)


def test_range_addresses_stored_compressed_bytes(api: Api) -> None:
    """§7/§19.4: ranges address the stored (compressed) bytes; content-encoding is kept."""
    import zstandard

    payload = zstandard.ZstdCompressor().compress(b"hello world " * 100)
    key = _object(api, payload, {"content-encoding": "zstd"})
    resp = api.get(key, {"range": "bytes=0-3"})
    assert resp.status == 206, resp
    assert resp.body == b"\x28\xb5\x2f\xfd"
    assert resp.header("content-encoding") == "zstd"
    assert resp.header("content-range") == f"bytes 0-3/{len(payload)}"


def test_range_uses_current_size_after_overwrite(api: Api) -> None:
    """§7: T is the size of the object currently stored."""
    key = _object(api)
    api.put_ok(key, b"abc")
    resp = api.get(key, {"range": "bytes=1-"})
    assert resp.header("content-range") == "bytes 1-2/3"
    assert resp.body == b"bc"
    assert api.get(key, {"range": "bytes=5-"}).status == 416


def test_large_range_from_big_object(api: Api) -> None:
    """§7: ranges work deep inside a larger object."""
    body = bytes(range(256)) * 4096
    key = _object(api, body)
    resp = api.get(key, {"range": "bytes=500000-600000"})
    assert resp.status == 206
    assert resp.body == body[500000:600001]
    assert resp.header("content-range") == f"bytes 500000-600000/{len(body)}"


def _model(size: int, spec: str) -> tuple[int, int, int]:
    """§7 as a reference model: (status, start, end) for `bytes=<spec>` on `size` bytes."""
    first, _, last = spec.partition("-")
    if first == "":
        n = int(last)
        if n == 0:
            return 400, 0, 0
        if size == 0:
            return 416, 0, 0
        return 206, max(0, size - n), size - 1
    a = int(first)
    if last != "" and a > int(last):
        return 400, 0, 0
    if size == 0 or a >= size:
        return 416, 0, 0
    end = size - 1 if last == "" else min(int(last), size - 1)
    return 206, a, end


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    size=st.integers(min_value=0, max_value=40),
    spec=st.one_of(
        st.builds(lambda a, b: f"{a}-{b}", st.integers(0, 60), st.integers(0, 60)),
        st.builds(lambda a: f"{a}-", st.integers(0, 60)),
        st.builds(lambda n: f"-{n}", st.integers(0, 60)),
    ),
)
def test_range_matches_reference_model(api: Api, size: int, spec: str) -> None:
    """§7: status, bytes and content-range follow the resolution rules for any simple range."""
    body = bytes(range(size))
    key = uniq()
    api.put_ok(key, body)
    resp = api.get(key, {"range": f"bytes={spec}"})
    status, start, end = _model(size, spec)
    assert resp.status == status, (size, spec, resp)
    if status == 206:
        assert resp.body == body[start : end + 1]
        assert resp.header("content-range") == f"bytes {start}-{end}/{size}"
        assert resp.header("content-length") == str(end - start + 1)
    elif status == 416:
        assert resp.header("content-range") == f"bytes */{size}"
