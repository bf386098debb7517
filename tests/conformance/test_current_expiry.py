"""Today's server: expiry on the filesystem backend, and the object routes' query dispatch.

Rules of protocol §6.5, §9.2, §9.3 and §10.3 for the filesystem backend of the current server,
which now behaves like production here; and protocol §23.1, the query classification that runs
before auth. The resumable handlers themselves are tested with them.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from . import _formdata as fd
from ._api import Api, assert_empty, assert_json_error, parse_ts, uniq
from .conftest import Expired

pytestmark = pytest.mark.server_version("current")

FS = pytest.mark.profile("filesystem")
INVALID_QUERY = "client error: invalid query parameters"


@FS
def test_expired_objects_are_missing(expired: Expired) -> None:
    """Protocol §9.2: expired objects are 404 on GET, HEAD and batch reads, also on FS."""
    api, ttl, tti = expired.api, expired.ttl, expired.tti
    for key in (ttl, tti):
        assert_empty(api.get(key), 404)
        assert_empty(api.head(key), 404)
    parts = fd.run(api, [fd.op("get", ttl), fd.op("head", tti)])
    assert [p.status for p in parts.values()] == ["404 Not Found"] * 2


@FS
def test_tti_renewed_by_reads(api: Api) -> None:
    """Protocol §9.3: reads renew a TTI deadline on FS too (W = min(D/4, 24 h) = 1 s here)."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "tti:4s"})
    first = parse_ts(api.head(key).header("x-sn-time-expires") or "")
    time.sleep(2.2)
    api.get(key)  # renews (the response may still show the old deadline)
    renewed = parse_ts(api.head(key).header("x-sn-time-expires") or "")
    assert renewed - first >= timedelta(seconds=2), (first, renewed)


@FS
def test_delete_missing_is_204(api: Api) -> None:
    """Protocol §6.5: deleting a missing key is 204 on FS too; in a batch a 204 part."""
    assert_empty(api.delete(uniq()), 204)
    part = fd.run(api, [fd.op("delete", uniq())])[0]
    assert part.status == "204 No Content", (part.headers, part.body)


@pytest.mark.parametrize(
    ("method", "route"),
    [("PUT", "object"), ("DELETE", "object"), ("POST", "collection")],
)
@pytest.mark.parametrize(
    ("query", "cause"),
    [
        pytest.param("upload_type=multipart", "multipart", id="unknown-upload-type"),
        pytest.param("upload_type=resumable&upload_type=resumable", "duplicate", id="duplicate"),
    ],
)
def test_bad_upload_type_is_400_before_auth(
    api: Api, method: str, route: str, query: str, cause: str
) -> None:
    """Protocol §23.1: `upload_type` other than `resumable` (or repeated) → 400 JSON.

    Even without a token: the classification runs before the handler's extractors.
    """
    path = api.path(uniq() if route == "object" else None)
    resp = api.request(method, f"{path}?{query}", body=b"", auth=False)
    doc = assert_json_error(resp, 400, INVALID_QUERY)
    assert any(cause in c for c in doc.get("causes", [])), doc
