"""Today's server: free-form metadata values and batch keys are percent-coded.

Rules of protocol §4.1, §5.1, §5.8, §10.1 and §10.3 for the current server. 0.2.0 stores and
echoes the raw header values (test_metadata).
"""

from __future__ import annotations

import pytest

from . import _formdata as fd
from ._api import INVALID_METADATA, WHOLE_SECOND_RE, Api, assert_json_error, pct_echo, uniq
from .test_multipart import complete, initiate, outcome, upload_ok

pytestmark = pytest.mark.server_version("current")

FREE_FORM = ("x-sn-origin", "x-sn-filename", "x-snme-note")


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        pytest.param("100%25 done", "100%25 done", id="escaped-percent"),
        pytest.param(
            "r%C3%A9port-%F0%9F%93%84.pdf", "r%C3%A9port-%F0%9F%93%84.pdf", id="utf8-escapes"
        ),
        pytest.param("%6B%65%79", "key", id="over-escaped-normalised"),
        pytest.param("%6b%65%79", "key", id="lower-case-hex"),
        pytest.param("50%", "50%25", id="lone-percent"),
        pytest.param("%zz", "%25zz", id="not-hex"),
        pytest.param("a+b", "a+b", id="plus-kept"),
        pytest.param("in%09tab", "in%09tab", id="tab"),
        pytest.param("x%7Fy", "x%7Fy", id="del"),
        pytest.param("a b ~!*'();:@&=$,/?#[]", "a b ~!*'();:@&=$,/?#[]", id="ascii-verbatim"),
    ],
)
def test_values_decoded_on_write_encoded_on_read(api: Api, sent: str, echoed: str) -> None:
    """Protocol §5.8: `%XX` decoded on write (lone `%`, `+` kept), re-encoded on read.

    On read controls, DEL, `%` and non-ASCII are encoded with upper-case hex; all else
    passes verbatim.
    """
    assert pct_echo(sent) == echoed  # the suite's own model agrees with the examples
    key = uniq()
    api.put_ok(key, b"x", dict.fromkeys(FREE_FORM, sent))
    for resp in (api.get(key), api.head(key)):
        for name in FREE_FORM:
            assert resp.header(name) == echoed, (name, resp.headers)


def test_batch_reads_echo_encoded_values(api: Api) -> None:
    """Protocol §10.3: batch get/head parts carry the same encoded values."""
    key = uniq()
    api.put_ok(key, b"x", {"x-snme-note": "caf%C3%A9 100%25"})
    parts = fd.run(api, [fd.op("get", key), fd.op("head", key)])
    for part in parts.values():
        assert part.header("x-snme-note") == "caf%C3%A9 100%25", part.headers


def test_batch_insert_decodes_values(api: Api) -> None:
    """Protocol §10.1: insert metadata uses the write-side decoder too."""
    key = uniq()
    part = fd.run(api, [fd.op("insert", key, b"i", x_snme_note="%6B%65%79 50%")])[0]
    assert part.status == "201 Created", (part.headers, part.body)
    assert api.head(key).header("x-snme-note") == "key 50%25"


@pytest.mark.parametrize("header", FREE_FORM)
@pytest.mark.parametrize(
    "value",
    [pytest.param(b"caf\xc3\xa9", id="raw-utf8"), pytest.param(b"\x80", id="raw-0x80")],
)
def test_raw_non_ascii_rejected(api: Api, header: str, value: bytes) -> None:
    """Protocol §5.8: a raw byte ≥ 0x80 → 400 `client error: invalid metadata`."""
    key = uniq()
    doc = assert_json_error(api.put(key, b"x", [(header, value)]), 400, INVALID_METADATA)
    assert doc.get("causes"), doc
    assert api.get(key).status == 404


@pytest.mark.parametrize("value", ["%FF", "caf%C3", "%C3%28"])
def test_escapes_of_invalid_utf8_rejected(api: Api, value: str) -> None:
    """Protocol §5.8: escapes that decode to invalid UTF-8 → 400 invalid metadata."""
    key = uniq()
    assert_json_error(api.put(key, b"x", {"x-snme-v": value}), 400, INVALID_METADATA)
    assert api.get(key).status == 404


def test_other_metadata_not_decoded(api: Api) -> None:
    """Protocol §5.8: `content-type` and `x-sn-expiration` are not percent-coded."""
    key = uniq()
    api.put_ok(key, b"x", {"content-type": "text/x%41"})
    assert api.get(key).header("content-type") == "text/x%41"
    resp = api.put(uniq(), b"x", {"x-sn-expiration": "ttl%3A1h"})
    assert_json_error(resp, 400, INVALID_METADATA)


def test_invalid_expiration_causes(api: Api) -> None:
    """Protocol §4.1: the specific message moves into `causes`."""
    resp = api.put(uniq(), b"x", {"x-sn-expiration": "ttl:forever"})
    doc = assert_json_error(resp, 400, INVALID_METADATA)
    assert any("invalid expiration policy" in cause for cause in doc["causes"]), doc


# -- protocol §10.1/§10.3 batch keys -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "echoed"),
    [
        pytest.param("reports/2024", "reports/2024", id="slash-verbatim"),
        pytest.param("a b-c.d_~", "a b-c.d_~", id="ascii-verbatim"),
        pytest.param("caf\u00e9", "caf%C3%A9", id="non-ascii"),
        pytest.param("100%", "100%25", id="percent"),
    ],
)
def test_batch_key_echo_uses_metadata_encoder(api: Api, key: str, echoed: str) -> None:
    """Protocol §10.3: result keys escape only controls, DEL, `%` and non-ASCII."""
    parts = fd.run(api, [fd.op("insert", key, b"k"), fd.op("get", key)])
    for part in parts.values():
        assert part.header("x-sn-batch-operation-key") == echoed, part.headers
    assert api.get(key).body == b"k"


def test_batch_key_raw_non_ascii_is_400_part(api: Api) -> None:
    """Protocol §10.1: a raw non-ASCII key header → a 400 error part."""
    part = fd.run(
        api,
        [
            fd.Op(
                [("x-sn-batch-operation-kind", "get"), ("x-sn-batch-operation-key", b"caf\xc3\xa9")]
            )
        ],
    )[0]
    assert part.status == "400 Bad Request", (part.headers, part.body)
    assert part.json()["detail"] == (
        "batch error: bad request: unable to percent-decode x-sn-batch-operation-key header value"
    )


def test_multipart_initiate_decodes_values(api: Api) -> None:
    """Protocol §11.1: initiate parses metadata as PUT does.

    The completed object echoes it encoded, with whole-second timestamps.
    """
    key = uniq()
    upload_id = initiate(api, key, {"x-snme-note": "caf%C3%A9 50%"})["upload_id"]
    etag = upload_ok(api, key, upload_id, 1, b"mp")
    assert outcome(complete(api, key, upload_id, [(1, etag)])) == {"key": key}
    resp = api.head(key)
    assert resp.header("x-snme-note") == "caf%C3%A9 50%25", resp.headers
    assert WHOLE_SECOND_RE.match(resp.header("x-sn-time-created") or ""), resp.headers
