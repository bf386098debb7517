"""§14 limits, defaults, rate limits and killswitches (§1 request-head limits, §3 ordering)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from . import _formdata as fd
from ._api import SERVER, Api, Target, assert_json_error, assert_text_error, presign, uniq
from ._wire import RawConnection, Response

KILLED = "Object access is disabled for this scope through killswitches"
LIMITED = "Object access is rate limited"
Factory = Callable[..., Target]

# -- §1/§14 request head limits ------------------------------------------------------------


def _fillers(api: Api, path: str, total: int) -> list[tuple[str, str]]:
    """Headers making the request carry exactly `total` header fields (host included)."""
    auth = api.auth_headers(path)
    return auth + [(f"x-filler-{i:03d}", "f") for i in range(total - 1 - len(auth))]


def test_100_header_fields_accepted(api: Api) -> None:
    """§1/§14: at most 100 header fields: exactly 100 is fine."""
    key = uniq()
    api.put_ok(key, b"h")
    path = api.path(key)
    resp = api.request("GET", path, _fillers(api, path, 100), auth=False)
    assert resp.status == 200, resp
    assert resp.body == b"h"


def test_101_header_fields_431(api: Api) -> None:
    """§1/§14: more than 100 header fields → 431."""
    path = api.path(uniq())
    resp = api.request("GET", path, _fillers(api, path, 101), auth=False)
    assert resp.status == 431, resp


def test_large_request_head_accepted(api: Api) -> None:
    """§1/§5.1: a ~300 KiB header is below the ≈408 KiB head limit; metadata size is unlimited."""
    key = uniq()
    value = "v" * (300 * 1024)
    assert api.put(key, b"big", {"x-snme-big": value}).status == 200
    path = api.path(key)
    head = [f"GET {path} HTTP/1.1", f"host: {api.target.host}", "connection: close"]
    head += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    with RawConnection(api.target.host, api.target.port) as conn:
        conn.send(("\r\n".join(head) + "\r\n\r\n").encode())
        raw = conn.read_until(b"\r\n\r\n", limit=2 * 1024 * 1024)
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:100]
    assert b"\r\nx-snme-big: " + value.encode() + b"\r\n" in raw


def test_oversized_request_head_431(api: Api) -> None:
    """§1/§14: a request head beyond ≈408 KiB → 431."""
    path = api.path(uniq())
    resp = api.request("GET", path, {"x-snme-huge": "h" * (600 * 1024)})
    assert resp.status == 431, resp


# -- §1/§14 web concurrency limit (503) ----------------------------------------------------


@contextmanager
def _held_upload(target: Target, api: Api, declared: int = 100) -> Iterator[RawConnection]:
    """A PUT whose body is only partly sent, keeping one request (and its upload) in flight."""
    path = api.path(uniq())
    lines = [f"PUT {path} HTTP/1.1", f"host: {target.host}", f"content-length: {declared}"]
    lines += [f"{k}: {v}" for k, v in api.auth_headers(path)]
    conn = RawConnection(target.host, target.port, timeout=10)
    try:
        conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + b"x" * 10)
        time.sleep(0.3)
        yield conn
        conn.send(b"x" * (declared - 10))
        resp = conn.response("PUT")
        assert resp.status == 200, resp
    finally:
        conn.close()


@pytest.mark.local_only
def test_max_requests_503(make_server: Factory) -> None:
    """§1/§14: at `max_requests` in flight, new requests → 503, empty body, no server header."""
    target = make_server(max_requests=1)
    api = Api(target)
    with _held_upload(target, api):
        resp = api.get(uniq())
        assert resp.status == 503, resp
        assert resp.body == b""
        assert not resp.has("server"), resp.headers
        assert api.request("GET", "/no/such/route", auth=False).status == 503  # before routing
        for path in ("/health", "/ready", "/keda"):
            exempt = api.request("GET", path, auth=False)
            assert exempt.status == 200, (path, exempt)
    assert api.get(uniq()).status == 404


# -- §14 service concurrency (429 JSON) ----------------------------------------------------


@pytest.mark.local_only
def test_max_concurrency_429(make_server: Factory) -> None:
    """§4.1/§14: backend concurrency exhausted → 429 JSON `concurrency limit reached`."""
    target = make_server(max_concurrency=1)
    api = Api(target)
    with _held_upload(target, api):
        resp = api.get(uniq())
        assert_json_error(resp, 429, "service error: concurrency limit reached")
        assert resp.header("server") == SERVER
        assert api.request("GET", "/health", auth=False).status == 200
    assert api.get(uniq()).status == 404


@pytest.mark.local_only
def test_permission_checked_before_concurrency(make_server: Factory) -> None:
    """§3: the permission check (403) precedes the service concurrency limit (429)."""
    target = make_server(max_concurrency=1)
    api = Api(target)
    with _held_upload(target, api):
        resp = api.get(uniq(), permissions=("object.write",))
        assert_json_error(resp, 403, "auth error: operation not allowed")


# -- §14 rate limits (429 plain text) ------------------------------------------------------


def _drain(api: Api, limit: int = 200) -> Response:
    """Send requests until the first 429 and return it."""
    for _ in range(limit):
        resp = api.get("drain")
        if resp.status == 429:
            return resp
        assert resp.status == 404, resp
    raise AssertionError(f"no 429 within {limit} requests")


@pytest.mark.local_only
def test_rate_limit_429_plain_text(make_server: Factory) -> None:
    """§14/§19.27: a throughput rejection is 429 plain text `Object access is rate limited`."""
    api = Api(make_server(rate_limit_rps=0.5))
    resp = _drain(api)
    assert_text_error(resp, 429, LIMITED)
    assert resp.text == LIMITED
    assert resp.header("server") == SERVER


@pytest.mark.local_only
def test_rate_limit_spares_health(make_server: Factory) -> None:
    """§12: health/ready/keda are not rate limited."""
    api = Api(make_server(rate_limit_rps=0.5))
    _drain(api)
    for path in ("/health", "/ready", "/keda") * 5:
        assert api.request("GET", path, auth=False).status == 200


@pytest.mark.local_only
def test_rate_limit_ordering(make_server: Factory) -> None:
    """§3: path errors (stage 4) precede the rate limit (6), which precedes Range parsing (7)."""
    api = Api(make_server(rate_limit_rps=0.5))
    _drain(api)
    assert_text_error(api.get("k", scopes="org=a.b"), 400, "Invalid URL: ")
    assert_text_error(api.get("k", {"range": "bytes=5-3"}), 429, LIMITED)
    api.require_auth()
    assert_json_error(api.get("k", auth=False), 400)  # auth (stage 3) comes first


@pytest.mark.local_only
def test_rate_limit_whole_batch_request(make_server: Factory) -> None:
    """§10.2/§14: one rate-limit check applies to the batch request as a whole (429 text)."""
    api = Api(make_server(rate_limit_rps=0.5))
    _drain(api)
    assert_text_error(fd.send(api, [fd.op("head", "k")]), 429, LIMITED)


@pytest.mark.local_only
def test_rate_limit_per_batch_operation(make_server: Factory) -> None:
    """§10.2/§14: each batch operation is rate-limit checked → 429 error parts."""
    api = Api(make_server(rate_limit_rps=1.0))
    parts = fd.run(api, [fd.op("head", f"k{i}") for i in range(40)])
    limited = [p for p in parts.values() if p.code == 429]
    assert limited, [p.status for p in parts.values()]
    for part in limited:
        assert part.status == "429 Too Many Requests"
        assert part.names == {
            "content-disposition",
            "x-sn-batch-operation-index",
            "x-sn-batch-operation-status",
        }
        assert part.json()["detail"] == "batch error: rate limited"


# -- §14 killswitches (403 plain text) -----------------------------------------------------


@pytest.fixture
def killswitched(make_server: Factory) -> Api:
    from objectstore_client.testing import Killswitch

    target = make_server(
        killswitches=(
            Killswitch(usecase="killed", scopes={"org": "1"}),
            Killswitch(usecase="dead"),
            Killswitch(service="relay*"),
            Killswitch(service="symbolicator"),
        )
    )
    return Api(target, usecase="killed", scopes="org=1")


@pytest.mark.local_only
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_killswitch_blocks_matching_requests(killswitched: Api, method: str) -> None:
    """§14/§19.27/§3: a matching killswitch → 403 plain text."""
    body = b"x" if method == "PUT" else None
    resp = killswitched.request(method, killswitched.path("k"), body=body)
    assert resp.status == 403, resp
    if method != "HEAD":
        assert_text_error(resp, 403, KILLED)
        assert resp.text == KILLED


@pytest.mark.local_only
def test_killswitch_blocks_other_routes(killswitched: Api) -> None:
    """§14: killswitches apply to the batch and multipart routes too."""
    assert_text_error(fd.send(killswitched, [fd.op("head", "k")]), 403, KILLED)
    path = killswitched.path("k", route="objects:multipart")
    assert_text_error(killswitched.request("PUT", path), 403, KILLED)
    assert_text_error(killswitched.post(b"x"), 403, KILLED)


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("usecase", "scopes", "headers"),
    [
        pytest.param("killed", "org=2", {}, id="other-scope-value"),
        pytest.param("killed", "_", {}, id="no-scopes"),
        pytest.param("alive", "org=1", {}, id="other-usecase"),
        pytest.param("alive", "_", {"x-downstream-service": "other"}, id="other-service"),
    ],
)
def test_killswitch_spares_non_matching(
    killswitched: Api, usecase: str, scopes: str, headers: dict[str, str]
) -> None:
    """§14: only matching requests are blocked."""
    key = uniq()
    resp = killswitched.put(key, b"alive", headers, usecase=usecase, scopes=scopes)
    assert resp.status == 200, resp
    assert killswitched.get(key, headers, usecase=usecase, scopes=scopes).body == b"alive"


@pytest.mark.local_only
def test_killswitch_usecase_only(killswitched: Api) -> None:
    """§14: a killswitch naming only a usecase blocks all its scopes."""
    for scopes in ("_", "org=5", "a=b;c=d"):
        resp = killswitched.get("k", usecase="dead", scopes=scopes)
        assert_text_error(resp, 403, KILLED)


@pytest.mark.local_only
@pytest.mark.parametrize(
    "service",
    [
        pytest.param("relay", id="glob-exact"),
        pytest.param("relay-pop", id="glob-suffix"),
        pytest.param("symbolicator-7d9f8c6b5-x2x4z", id="pod-suffix-stripped"),
    ],
)
def test_killswitch_by_downstream_service(killswitched: Api, service: str) -> None:
    """§14/§17: the service glob matches `x-downstream-service` (pod suffix stripped)."""
    resp = killswitched.get("k", {"x-downstream-service": service}, usecase="alive", scopes="_")
    assert_text_error(resp, 403, KILLED)


@pytest.mark.local_only
def test_killswitch_ordering(killswitched: Api) -> None:
    """§3: auth (3) and path (4) precede the killswitch (5), which precedes Range (7)."""
    assert_json_error(killswitched.get("k", auth=False), 400)
    assert_text_error(killswitched.get("k", scopes="org=1;"), 400, "Invalid URL: ")
    assert_text_error(killswitched.get("k", {"range": "bytes=5-3"}), 403, KILLED)


@pytest.mark.local_only
def test_killswitch_applies_to_presigned(killswitched: Api) -> None:
    """§13.6: killswitches still apply to presigned requests."""
    main = killswitched.require_auth()
    resp = killswitched.request("GET", presign(main, "GET", killswitched.path("k")), auth=False)
    assert_text_error(resp, 403, KILLED)


@pytest.mark.local_only
def test_empty_killswitch_blocks_everything(make_server: Factory) -> None:
    """§14: a killswitch with no fields blocks every object request (not health)."""
    from objectstore_client.testing import Killswitch

    api = Api(make_server(killswitches=(Killswitch(),)))
    assert_text_error(api.get("k"), 403, KILLED)
    assert_text_error(api.get("k", usecase="any", scopes="_"), 403, KILLED)
    assert api.request("GET", "/health", auth=False).status == 200
