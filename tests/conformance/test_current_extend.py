"""Today's server: PATCH extend-expiry and the usecase `expiration.max` (protocol §22, §9.6).

Rules of protocol §22 and §9.6, in the server's decision order:
JSON extraction (415/400/422) → target deadline (400) → permission (403) → missing or
expired (404) → never expires (409) → usecase maximum (400) → already late enough (204,
unchanged) → extend (204). The 0.2.0 release has no PATCH route (test_expiration).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ._api import (
    INVALID_METADATA,
    READ,
    Api,
    Target,
    assert_empty,
    assert_json_error,
    assert_text_error,
    now,
    parse_ts,
    uniq,
)
from .conftest import Expired

pytestmark = pytest.mark.server_version("current")

JSON_CT = {"content-type": "application/json"}
REJECTED = "expiry extension could not be satisfied"
SHAPE = "Failed to deserialize the JSON body into the target type"


def _patch(api: Api, key: str, document: Any, **kw: Any) -> Any:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = kw.pop("headers", JSON_CT)
    return api.request("PATCH", api.path(key), headers, body, **kw)


def _after(after: str, anchor: str) -> dict[str, Any]:
    return {"extend_expiry": {"after": after, "from": anchor}}


def _times(api: Api, key: str) -> tuple[datetime, datetime, str | None]:
    resp = api.head(key)
    assert resp.status == 200, resp
    created = parse_ts(resp.header("x-sn-time-created") or "")
    expires = parse_ts(resp.header("x-sn-time-expires") or "")
    return created, expires, resp.header("x-sn-expiration")


def _object(api: Api, policy: str | None = "ttl:1d", body: bytes = b"kept") -> str:
    key = uniq()
    api.put_ok(key, body, {} if policy is None else {"x-sn-expiration": policy})
    return key


# -- successes ---------------------------------------------------------------------------------


def test_extend_from_creation_rewrites_ttl(api: Api) -> None:
    """Protocol §22: `ttl:1d` extended to 3 d from creation → 204; HEAD shows `ttl:3d`."""
    key = _object(api, "ttl:1d")
    resp = _patch(api, key, _after("3d", "creation"))
    assert_empty(resp, 204)
    created, expires, policy = _times(api, key)
    assert expires - created == timedelta(days=3)
    assert policy == "ttl:3d"
    assert api.get(key).body == b"kept"


def test_shorter_request_is_204_and_changes_nothing(api: Api) -> None:
    """Protocol §22: deadlines are never shortened; the answer is still 204."""
    key = _object(api, "ttl:1d")
    assert _patch(api, key, _after("3d", "creation")).status == 204
    before = _times(api, key)
    assert_empty(_patch(api, key, _after("2d", "creation")), 204)
    assert_empty(_patch(api, key, {"extend_expiry": {"at": "2000-01-01T00:00:00Z"}}), 204)
    assert _times(api, key) == before


def test_extend_from_now(api: Api) -> None:
    """Protocol §22: `from: now` counts from the request time (whole seconds)."""
    key = _object(api, "ttl:1h")
    sent = now()
    assert _patch(api, key, _after("2h", "now")).status == 204
    _, expires, policy = _times(api, key)
    target = sent + timedelta(hours=2)
    assert target - timedelta(seconds=1) <= expires <= target + timedelta(seconds=30)
    assert expires.microsecond == 0
    # The TTL is rewritten to the new lifetime, rounded to whole hours within 1 %.
    assert policy == "ttl:2h", policy


def test_ttl_rounded_to_the_first_unit_within_one_percent(api: Api) -> None:
    """Protocol §22: a new lifetime of 5 h 1 s is recorded as `ttl:5h`, the deadline kept."""
    key = _object(api, "ttl:1h")
    assert _patch(api, key, _after("5h 1s", "creation")).status == 204
    created, expires, policy = _times(api, key)
    assert expires - created == timedelta(hours=5, seconds=1)
    assert policy == "ttl:5h"


def test_ttl_kept_in_seconds_when_no_unit_fits(api: Api) -> None:
    """Protocol §22: no day/hour/minute within 1 % of 90 s + 20 s: seconds (`1m 50s`)."""
    key = _object(api, "ttl:90s")
    assert _patch(api, key, _after("110s", "creation")).status == 204
    assert _times(api, key)[2] == "ttl:1m 50s"


def test_tti_keeps_its_duration(api: Api) -> None:
    """Protocol §22: a TTI object gets the new deadline; its policy is unchanged."""
    key = _object(api, "tti:1h")
    assert _patch(api, key, _after("1d", "creation")).status == 204
    created, expires, policy = _times(api, key)
    assert expires - created == timedelta(days=1)
    assert policy == "tti:1h"


@pytest.mark.parametrize("suffix", ["Z", "+00:00"])
def test_absolute_deadline_rounded_up(api: Api, suffix: str) -> None:
    """Protocol §22: `at` in UTC (`Z` or `+00:00`), fractional seconds rounded up."""
    key = _object(api, "ttl:1h")
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=250_000)
    text = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + suffix
    assert _patch(api, key, {"extend_expiry": {"at": text}}).status == 204
    expires = _times(api, key)[1]
    assert expires == at.replace(microsecond=0) + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("at", "deadline"),
    [
        # humantime 2.4.0's `parse_rfc3339`, which the server uses, read step by step
        # (protocol §22): a leap second on any day reads as :59, an empty fraction is no
        # fraction, nanoseconds round the deadline up, digits past the ninth are ignored,
        # and without a fraction anything of at most 25 bytes ending in `Z` is accepted.
        pytest.param("2100-06-30T23:59:60Z", "2100-06-30T23:59:59Z", id="leap-second"),
        pytest.param("2100-01-01T00:00:07.Z", "2100-01-01T00:00:07Z", id="empty-fraction"),
        pytest.param("2100-01-01T00:00:07.000000001Z", "2100-01-01T00:00:08Z", id="one-ns"),
        pytest.param("2100-01-01T00:00:07.0000000001Z", "2100-01-01T00:00:07Z", id="tenth-digit"),
        pytest.param("2100-01-01T00:00:07ZZ", "2100-01-01T00:00:07Z", id="double-z"),
        pytest.param("2100-01-01T00:00:07.5+0000Z", "2100-01-01T00:00:08Z", id="plus-then-z"),
    ],
)
def test_absolute_deadline_as_humantime_reads_it(api: Api, at: str, deadline: str) -> None:
    """Protocol §22: `at` is whatever humantime's RFC 3339 parser makes of it."""
    key = _object(api, "ttl:1h")
    assert _patch(api, key, {"extend_expiry": {"at": at}}).status == 204
    assert _times(api, key)[1] == datetime.fromisoformat(deadline)


def test_metadata_headers_and_query_ignored(api: Api) -> None:
    """Protocol §22: metadata headers and query parameters on PATCH are ignored."""
    key = _object(api, "ttl:1h")
    headers = {**JSON_CT, "x-sn-expiration": "garbage", "content-encoding": "br"}
    resp = api.request(
        "PATCH",
        api.path(key) + "?upload_type=nonsense",
        headers,
        json.dumps(_after("2h", "creation")).encode(),
    )
    assert_empty(resp, 204)
    assert _times(api, key)[2] == "ttl:2h"


# -- failures ----------------------------------------------------------------------------------


def test_missing_object_is_404(api: Api) -> None:
    """Protocol §22: a missing key → 404 with an empty body."""
    assert_empty(_patch(api, uniq(), _after("1d", "now")), 404)


def test_expired_object_is_404(expired: Expired) -> None:
    """Protocol §22, §9.2: an expired object counts as missing (strictly past deadline)."""
    for key in (expired.ttl, expired.tti):
        assert_empty(_patch(expired.api, key, _after("1d", "now")), 404)


def test_object_without_expiry_is_409(api: Api) -> None:
    """Protocol §22: a manual-policy object cannot be extended: 409 JSON."""
    key = _object(api, None)
    doc = assert_json_error(_patch(api, key, _after("1d", "now")), 409, REJECTED)
    assert "causes" not in doc, doc
    assert not api.head(key).has("x-sn-time-expires")


def test_deadline_past_year_9999_is_400(api: Api) -> None:
    """Protocol §22: `from: now` past `9999-12-31T23:59:59Z` → 400, before the lookup."""
    resp = _patch(api, uniq(), _after("10000y", "now"))
    assert_json_error(resp, 400, "client error: expiration deadline is outside supported range")


def test_wrong_content_type_is_415(api: Api) -> None:
    """Protocol §22/§4.2: the JSON extractor wants `application/json`: 415 plain text."""
    key = _object(api)
    resp = _patch(api, key, _after("2d", "now"), headers={"content-type": "text/plain"})
    assert_text_error(resp, 415, "Expected request with `Content-Type: application/json`")


def test_body_not_json_is_400(api: Api) -> None:
    """Protocol §22/§4.2: a body that is no JSON → 400 plain text."""
    resp = _patch(api, _object(api), b"{not json")
    assert_text_error(resp, 400, "Failed to parse the request body as JSON")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({}, id="empty"),
        pytest.param({"extend_expiry": None}, id="null"),
        pytest.param({"extend_expiry": {}}, id="empty-spec"),
        pytest.param(
            {"extend_expiry": {"at": "2100-01-01T00:00:00Z", "after": "1d"}}, id="at-and-after"
        ),
        pytest.param({"extend_expiry": {"after": "1d"}}, id="after-without-from"),
        pytest.param({"extend_expiry": {"after": "1d", "from": "later"}}, id="unknown-from"),
        pytest.param({"extend_expiry": {"after": "soon", "from": "now"}}, id="bad-duration"),
        pytest.param(
            {"extend_expiry": {"after": "1d", "from": "now", "x": 1}}, id="unknown-inner-field"
        ),
        pytest.param({"extend_expiry": {"after": "1d", "from": "now"}, "x": 1}, id="extra-field"),
        pytest.param({"extend_expiry": {"at": "2100-01-01T00:00:00+01:00"}}, id="other-offset"),
        pytest.param({"extend_expiry": {"at": "2100-01-01 00:00:00Z"}}, id="no-T"),
        pytest.param({"extend_expiry": {"at": "1969-12-31T23:59:59Z"}}, id="before-epoch"),
        pytest.param({"extend_expiry": {"at": 4102444800}}, id="at-number"),
        pytest.param({"extend_expiry": {"at": "2100-01-01T00:00:61Z"}}, id="second-61"),
        # U+001C is whitespace to Python's `str.isspace`, not to Rust (humantime).
        pytest.param({"extend_expiry": {"after": "1\x1cd", "from": "now"}}, id="unit-separator"),
        pytest.param({"extend_expiry": {"at": "2100-01-01T00:00:07ZxxxxxZ"}}, id="26-bytes"),
        pytest.param({"extend_expiry": {"at": "2100-01-01T00:00:07.5xZ"}}, id="bad-fraction"),
    ],
)
def test_wrong_shape_is_422(api: Api, document: dict[str, Any]) -> None:
    """Protocol §22: JSON of the wrong shape or with invalid values → 422 plain text."""
    key = _object(api, "ttl:1h")
    before = _times(api, key)
    assert_text_error(_patch(api, key, document), 422, SHAPE)
    assert _times(api, key) == before


def test_needs_write_permission_before_lookup(api: Api) -> None:
    """Protocol §22: `object.write` is checked before the object is looked up (403, not 404)."""
    api.require_auth()
    assert_json_error(_patch(api, uniq(), _after("1d", "now"), permissions=READ), 403)
    key = _object(api, "ttl:1h")
    assert_json_error(_patch(api, key, _after("1d", "now"), permissions=READ), 403)


def test_extraction_precedes_permission(api: Api) -> None:
    """Protocol §22: a bad body (415/422) wins over a missing permission (403)."""
    api.require_auth()
    resp = _patch(api, uniq(), b"{}", headers={}, permissions=READ)
    assert resp.status == 415, resp
    assert _patch(api, uniq(), {}, permissions=READ).status == 422


# -- protocol §9.6 expiration.max (local_only: needs usecase configuration) -------------------


@pytest.fixture
def capped(make_server: Callable[..., Target]) -> Api:
    from objectstore_client.testing import UsecasePolicy

    target = make_server(usecases={"capped": UsecasePolicy(max=timedelta(hours=2))})
    return Api(target, usecase="capped")


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("policy", "status"),
    [("ttl:2h", 200), ("tti:2h", 200), ("ttl:3h", 400), ("tti:2h 1s", 400)],
)
def test_one_max_for_ttl_and_tti(capped: Api, policy: str, status: int) -> None:
    """Protocol §9.6: one `expiration.max` limits TTL and TTI writes alike."""
    resp = capped.put(uniq(), b"x", {"x-sn-expiration": policy})
    if status == 200:
        assert resp.status == 200, resp
    else:
        doc = assert_json_error(resp, 400, "client error: use case policy violation")
        assert doc["causes"][-1].endswith("exceeds maximum of 2h for use case 'capped'"), doc


@pytest.mark.local_only
def test_patch_limited_from_request_time(capped: Api) -> None:
    """Protocol §22 step 3: a deadline beyond now + max → 400, whatever the anchor."""
    key = uniq()
    capped.put_ok(key, b"x", {"x-sn-expiration": "ttl:1h"})
    resp = _patch(capped, key, _after("3h", "creation"))
    doc = assert_json_error(resp, 400, INVALID_METADATA)
    assert doc["causes"] == ["requested expiry exceeds maximum remaining lifetime"], doc
    assert_empty(_patch(capped, key, _after("90m", "now")), 204)
    # 404 and 409 come before the limit.
    assert_empty(_patch(capped, uniq(), _after("3h", "now")), 404)
    manual_key = uniq()
    capped.put_ok(manual_key, b"m")
    assert_json_error(_patch(capped, manual_key, _after("3h", "now")), 409, REJECTED)
