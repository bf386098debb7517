"""§9 expiration semantics (TTL, TTI, per-backend expiry, usecase policies).

Expiry is exercised with real, short durations (seconds), so these tests also run against an
external server; the sleeps are shared through module-scoped fixtures where possible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from . import _formdata as fd
from ._api import (
    INVALID_METADATA,
    METADATA_ERROR_0_2_0,
    READ,
    Api,
    Target,
    assert_json_error,
    parse_ts,
    uniq,
)
from .conftest import VERSIONS, Expired

V020 = pytest.mark.server_version("0.2.0")
POLICY_VIOLATION = "client error: use case policy violation"

# -- §9.1 TTL basics (no sleeping) ---------------------------------------------------------


def _expires(api: Api, key: str, method: str = "GET") -> str:
    resp = api.get(key) if method == "GET" else api.head(key)
    assert resp.status in (200, 204), resp
    value = resp.header("x-sn-time-expires")
    assert value is not None, resp
    return value


def test_ttl_not_extended_by_reads(api: Api) -> None:
    """§9.1: TTL expires at created + D; reads do not extend it."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "ttl:1h"})
    first = _expires(api, key)
    for method in ("GET", "HEAD", "GET"):
        assert _expires(api, key, method) == first
    fd.run(api, [fd.op("get", key), fd.op("head", key)])
    assert _expires(api, key) == first


def test_overwrite_resets_expiry(api: Api) -> None:
    """§9.1: only an overwrite resets a TTL (new policy, new created time)."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "ttl:1h"})
    old = api.get(key)
    api.put_ok(key, b"y", {"x-sn-expiration": "ttl:2h"})
    new = api.get(key)
    created = parse_ts(new.header("x-sn-time-created") or "")
    expires = parse_ts(new.header("x-sn-time-expires") or "")
    assert expires - created == timedelta(hours=2)
    old_created = parse_ts(old.header("x-sn-time-created") or "")
    # Whole seconds today (protocol §5.5) may not tick between the two writes; the strict
    # order on a current server is test_current_reads::test_overwrite_in_a_later_second...
    assert created >= old_created if api.target.current else created > old_created
    assert new.header("x-sn-expiration") == "ttl:2h"


# -- §9.2 expired objects (one shared sleep per server) ------------------------------------


# The `expired` fixture (conftest) holds objects past their deadline, one sleep per server.


@pytest.mark.profile("production")
@pytest.mark.parametrize("which", ["ttl", "tti"])
def test_expired_object_is_missing(expired: Expired, which: str) -> None:
    """§9.2 [PROD]/§19.7: expired objects are treated exactly like missing ones (404)."""
    api, key = expired.api, getattr(expired, which)
    for resp in (api.get(key), api.head(key), api.get(key, {"range": "bytes=0-0"})):
        assert resp.status == 404, resp
        assert resp.body == b""


@pytest.mark.profile("production")
def test_expired_object_missing_in_batch(expired: Expired) -> None:
    """§9.2 [PROD]: batch get/head of expired objects → `404 Not Found` parts."""
    parts = fd.run(
        expired.api,
        [fd.op("get", expired.ttl), fd.op("head", expired.ttl), fd.op("get", expired.tti)],
    )
    assert [parts[i].status for i in range(3)] == ["404 Not Found"] * 3
    assert all(p.body == b"" for p in parts.values())


@pytest.mark.profile("production")
def test_manual_object_never_expires(expired: Expired) -> None:
    """§9.1: manual objects never expire."""
    assert expired.api.get(expired.manual).body == b"manual"


@V020
@pytest.mark.profile("filesystem")
@pytest.mark.parametrize("which", ["ttl", "tti"])
def test_expired_object_still_served(expired: Expired, which: str) -> None:
    """§9.2 [FS]/§19.7: expired objects keep being served with a past `x-sn-time-expires`."""
    api, key = expired.api, getattr(expired, which)
    resp = api.get(key)
    assert resp.status == 200, resp
    assert resp.body == which.encode()
    created = parse_ts(resp.header("x-sn-time-created") or "")
    lifetime = timedelta(seconds=expired.seconds)
    assert parse_ts(resp.header("x-sn-time-expires") or "") - created == lifetime
    assert api.head(key).status == 204


@V020
@pytest.mark.profile("filesystem")
def test_expired_object_served_in_batch(expired: Expired) -> None:
    """§9.2 [FS]: batch get/head still find expired objects."""
    parts = fd.run(expired.api, [fd.op("get", expired.ttl), fd.op("head", expired.tti)])
    assert parts[0].status == "200 OK"
    assert parts[0].body == b"ttl"
    assert parts[1].status == "204 No Content"


@pytest.mark.profile("production")
def test_zero_ttl_expires_immediately(api: Api) -> None:
    """§9.2 [PROD]: `ttl:0s` → time_expires = created < now → already 404."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "ttl:0s"})
    # Expiry is strict (`expires < now`); today's whole-second clock needs the next second.
    time.sleep(1.05 if api.target.current else 0.01)
    assert api.get(key).status == 404


@pytest.mark.profile("production")
def test_expired_key_can_be_rewritten(expired: Expired) -> None:
    """§9.1/§9.2 [PROD]: writing over an expired object creates a fresh one."""
    api = expired.api
    key = uniq("rewrite")
    api.put_ok(key, b"new")
    assert api.get(key).body == b"new"
    api.put_ok(expired.spare, b"revived", {"x-sn-expiration": "ttl:1h"})
    assert api.get(expired.spare).body == b"revived"


# -- §9.3 TTI bump -------------------------------------------------------------------------


@V020
@pytest.mark.profile("production")
def test_tti_bump_debounced_and_extends_life(api: Api) -> None:
    """§9.3 [PROD]: reads bump a stale TTI deadline to now + D (debounced); §5.5 old value shown.

    D = 4 s, so W = 1 s: a read within the first second does not bump; a read after 1.5 s does
    (the response still shows the old deadline); the object then outlives its first deadline.
    """
    key = uniq()
    api.put_ok(key, b"idle", {"x-sn-expiration": "tti:4s"})
    e0 = parse_ts(_expires(api, key, "HEAD"))
    assert parse_ts(_expires(api, key, "HEAD")) == e0, "bumped inside the debounce window"
    time.sleep(1.5)
    assert parse_ts(_expires(api, key)) == e0, "the bumping read must show the old deadline"
    e1 = parse_ts(_expires(api, key, "HEAD"))
    assert timedelta(seconds=1.2) < e1 - e0 < timedelta(seconds=3), (e0, e1)
    time.sleep(3.1)  # now past e0, before e1
    resp = api.get(key)
    assert resp.status == 200, resp
    assert resp.body == b"idle"


@pytest.mark.profile("production")
def test_tti_bumped_by_head_and_batch_reads(api: Api) -> None:
    """§9.1/§9.3 [PROD]/§6.4: HEAD, batch get and batch head count as accesses."""
    keys = [uniq("head"), uniq("bget"), uniq("bhead")]
    for key in keys:
        api.put_ok(key, b"x", {"x-sn-expiration": "tti:4s"})
    before = [parse_ts(_expires(api, key, "HEAD")) for key in keys]
    # W = 1 s; with whole-second request times (protocol §5.5) only 2 s surely exceed it.
    time.sleep(2.2 if api.target.current else 1.5)
    assert api.head(keys[0]).status == (200 if api.target.current else 204)
    parts = fd.run(api, [fd.op("get", keys[1]), fd.op("head", keys[2])])
    assert parse_ts(parts[0].header("x-sn-time-expires") or "") == before[1]
    assert parse_ts(parts[1].header("x-sn-time-expires") or "") == before[2]
    for key, old in zip(keys, before, strict=True):
        new = parse_ts(_expires(api, key, "HEAD"))
        assert new - old > timedelta(seconds=1.2), (key, old, new)


@V020
@pytest.mark.profile("filesystem")
def test_tti_never_bumped(api: Api) -> None:
    """§9.3 [FS]/§19.7: no bump ever happens on the filesystem backend."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "tti:2s"})
    e0 = _expires(api, key)
    time.sleep(1.0)
    for method in ("GET", "HEAD", "GET"):
        assert _expires(api, key, method) == e0
    fd.run(api, [fd.op("get", key), fd.op("head", key)])
    assert _expires(api, key) == e0


# -- §9.4 no touch -------------------------------------------------------------------------


@V020
def test_no_patch_extend_expiry(api: Api) -> None:
    """§9.4/§18.2: PATCH extend-expiry does not exist: 405 `allow: GET,HEAD,PUT,DELETE`."""
    key = uniq()
    api.put_ok(key, b"x", {"x-sn-expiration": "ttl:1h"})
    before = _expires(api, key)
    resp = api.request(
        "PATCH",
        api.path(key),
        {"content-type": "application/json"},
        b'{"extend_expiry": {"after": "1d", "from": "now"}}',
    )
    assert resp.status == 405, resp
    assert resp.header("allow") == "GET,HEAD,PUT,DELETE"
    assert _expires(api, key) == before


# -- §9.5 multipart ------------------------------------------------------------------------


def test_multipart_expiry_fixed_at_initiate(api: Api) -> None:
    """§9.5: policy, created and expires of a multipart upload are fixed at initiation."""
    key = uniq()
    init = api.request(
        "PUT", api.path(key, route="objects:multipart"), {"x-sn-expiration": "ttl:1h"}
    )
    upload_id = init.json()["upload_id"]
    reference = uniq("ref")
    api.put_ok(reference, b"r")
    ref_created = parse_ts(api.get(reference).header("x-sn-time-created") or "")
    time.sleep(1.1)
    parts = api.path(key, route="objects:multipart:parts")
    etag = api.request("PUT", f"{parts}?upload_id={upload_id}&part_number=1", body=b"data").json()
    complete = api.request(
        "POST",
        api.path(key, route="objects:multipart:complete") + f"?upload_id={upload_id}",
        {"content-type": "application/json"},
        json.dumps({"parts": [{"part_number": 1, "etag": etag["etag"]}]}).encode(),
    )
    assert json.loads(complete.body.lstrip(b" ")) == {"key": key}
    resp = api.get(key)
    created = parse_ts(resp.header("x-sn-time-created") or "")
    expires = parse_ts(resp.header("x-sn-time-expires") or "")
    assert created <= ref_created, "created must be the initiate time, not completion time"
    # Whole seconds today (protocol §5.5): the two may straddle a second boundary.
    assert ref_created - created <= timedelta(seconds=1 if api.target.current else 0.999999)
    assert expires - created == timedelta(hours=1)
    assert resp.header("x-sn-expiration") == "ttl:1h"


# -- §9.6 per-usecase policies (local_only: needs server configuration) ---------------------

HOUR = timedelta(hours=1)


@pytest.fixture(params=VERSIONS)
def policy_api(request: pytest.FixtureRequest, make_server: Callable[..., Target]) -> Api:
    """A server of each version with two restricted usecases; the messages differ by version."""
    from objectstore_client.testing import UsecasePolicy

    target = make_server(
        server_version=request.param,
        usecases={
            "restricted": UsecasePolicy(
                allow_manual=False, allow_ttl=True, max_ttl=HOUR, allow_tti=False, max_tti=None
            ),
            "tti-capped": UsecasePolicy(allow_ttl=False, max_tti=HOUR),
        },
    )
    return Api(target, usecase="restricted")


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("usecase", "expiration", "status"),
    [
        pytest.param("restricted", None, 400, id="manual-by-omission-disallowed"),
        pytest.param("restricted", "manual", 400, id="manual-disallowed"),
        pytest.param("restricted", "tti:1m", 400, id="tti-disallowed"),
        pytest.param("restricted", "ttl:2h", 400, id="ttl-over-max"),
        pytest.param("restricted", "ttl:1h 1s", 400, id="ttl-just-over-max"),
        pytest.param("restricted", "ttl:1h", 200, id="ttl-at-max"),
        pytest.param("restricted", "ttl:30m", 200, id="ttl-under-max"),
        pytest.param("tti-capped", None, 200, id="manual-allowed-by-default"),
        pytest.param("tti-capped", "ttl:1m", 400, id="ttl-disallowed"),
        pytest.param("tti-capped", "tti:1h", 200, id="tti-at-max"),
        pytest.param("tti-capped", "tti:61m", 400, id="tti-over-max"),
        pytest.param("unlisted", None, 200, id="unlisted-manual"),
        pytest.param("unlisted", "tti:3650d", 200, id="unlisted-unrestricted"),
    ],
)
def test_usecase_policy_on_put(
    policy_api: Api, usecase: str, expiration: str | None, status: int
) -> None:
    """§9.6: a listed usecase's writes are checked against its policy (400 JSON)."""
    headers = {} if expiration is None else {"x-sn-expiration": expiration}
    key = uniq()
    resp = policy_api.put(key, b"x", headers, usecase=usecase)
    if status == 200:
        assert resp.status == 200, resp
    else:
        doc = assert_json_error(resp, 400)
        if policy_api.target.current:
            assert doc["detail"] == POLICY_VIOLATION, doc
            assert doc["causes"][-1].startswith("expiration "), doc
        else:
            assert doc["detail"].startswith("client error: expiration "), doc
        assert policy_api.get(key, usecase=usecase).status == 404


@pytest.mark.local_only
def test_usecase_policy_detail_messages(policy_api: Api) -> None:
    """§9.6/§4.1: the two policy error messages."""
    if policy_api.target.current:
        # protocol §9.6: one detail, the message as the cause, durations in d/h/m/s.
        resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "tti:1h"})
        doc = assert_json_error(resp, 400, POLICY_VIOLATION)
        assert doc["causes"] == [
            "expiration policy 'tti:1h' is not allowed for use case 'restricted'"
        ], doc
        resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "ttl:1d"})
        doc = assert_json_error(resp, 400, POLICY_VIOLATION)
        assert doc["causes"] == [
            "expiration duration 1d exceeds maximum of 1h for use case 'restricted'"
        ], doc
        return
    resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "tti:1h"})
    assert_json_error(
        resp,
        400,
        "client error: expiration policy 'tti:1h' is not allowed for use case 'restricted'",
    )
    resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "ttl:2h"})
    doc = assert_json_error(resp, 400)
    assert doc["detail"].startswith("client error: expiration duration "), doc
    assert doc["detail"].endswith(" for use case 'restricted'"), doc
    assert " exceeds maximum of " in doc["detail"], doc


@pytest.mark.local_only
def test_usecase_policy_on_post_and_multipart(policy_api: Api) -> None:
    """§9.6: the policy also applies to POST and multipart initiate."""
    assert_json_error(policy_api.post(b"x", {"x-sn-expiration": "tti:1m"}), 400)
    assert policy_api.post(b"x", {"x-sn-expiration": "ttl:1m"}).status == 201
    path = policy_api.path("mp", route="objects:multipart")
    assert_json_error(policy_api.request("PUT", path, {"x-sn-expiration": "ttl:2h"}), 400)
    assert policy_api.request("PUT", path, {"x-sn-expiration": "ttl:1h"}).status == 200


@pytest.mark.local_only
def test_usecase_policy_per_batch_insert(policy_api: Api) -> None:
    """§9.6/§10.2: batch inserts are checked per part (400 error part, others proceed)."""
    parts = fd.run(
        policy_api,
        [
            fd.op("insert", "bad", b"x", x_sn_expiration="tti:1m"),
            fd.op("insert", "good", b"y", x_sn_expiration="ttl:1m"),
        ],
    )
    assert parts[0].status == "400 Bad Request"
    assert parts[0].names == {
        "content-disposition",
        "x-sn-batch-operation-index",
        "x-sn-batch-operation-status",
    }
    detail = parts[0].json()["detail"]
    if policy_api.target.current:
        assert detail == POLICY_VIOLATION, parts[0].body
    else:
        assert detail.startswith("client error: expiration policy"), parts[0].body
    assert parts[1].status == "201 Created"
    assert policy_api.get("bad").status == 404
    assert policy_api.get("good").body == b"y"


@pytest.mark.local_only
def test_batch_permission_before_policy(policy_api: Api) -> None:
    """§10.2: in a batch, the permission check (403) precedes the policy check (400)."""
    parts = fd.run(
        policy_api, [fd.op("insert", "p", b"x", x_sn_expiration="tti:1m")], permissions=READ
    )
    assert parts[0].status == "403 Forbidden", (parts[0].headers, parts[0].body)


@pytest.mark.local_only
def test_usecase_policy_before_permission(policy_api: Api) -> None:
    """§3: the policy check (400) precedes the permission check (403)."""
    resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "tti:1m"}, permissions=READ)
    assert_json_error(resp, 400)
    resp = policy_api.put(uniq(), b"x", {"x-sn-expiration": "ttl:1m"}, permissions=READ)
    assert_json_error(resp, 403)


@pytest.mark.local_only
def test_metadata_error_before_policy(policy_api: Api) -> None:
    """§3: metadata parsing precedes the policy check: a bad header is a metadata error."""
    resp = policy_api.put(uniq(), b"x", {"content-type": "bad", "x-sn-expiration": "tti:1m"})
    doc = assert_json_error(resp, 400)
    if policy_api.target.current:
        assert doc["detail"] == INVALID_METADATA, doc
    else:
        assert doc["detail"].startswith(METADATA_ERROR_0_2_0), doc
