"""§4 error responses: JSON application errors, plain-text framework errors, empty bodies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ._api import (
    READ,
    Api,
    assert_empty,
    assert_json_error,
    assert_text_error,
    make_token,
    presign,
    uniq,
)
from ._wire import Response

# -- §4.1 JSON errors ----------------------------------------------------------------------


def _no_token(api: Api) -> Response:
    api.require_auth()
    return api.get(uniq(), auth=False)


def _missing_kid(api: Api) -> Response:
    token = api.token(kid=None)
    return api.get(uniq(), {"x-os-auth": f"Bearer {token}"}, auth=False)


def _duplicate_os_auth(api: Api) -> Response:
    token = api.token()
    path = api.path(uniq()) + f"?os_auth={token}&os_auth={token}"
    return api.request("GET", path, auth=False)


def _presign_missing(api: Api) -> Response:
    main = api.require_auth()
    path = api.path(uniq())
    target = presign(main, "GET", path, params=[f"os_kid={main.kid}", "os_duration=60"])
    return api.request("GET", target, auth=False)


def _presign_too_long(api: Api) -> Response:
    main = api.require_auth()
    return api.request("GET", presign(main, "GET", api.path(uniq()), duration=604801), auth=False)


def _presign_put(api: Api) -> Response:
    main = api.require_auth()
    return api.request("PUT", presign(main, "PUT", api.path(uniq())), body=b"x", auth=False)


def _expired_token(api: Api) -> Response:
    token = api.token(exp_in=-600)
    return api.get(uniq(), {"x-os-auth": f"Bearer {token}"}, auth=False)


def _bad_signature(api: Api) -> Response:
    token = api.token()
    head, payload, sig = token.split(".")
    forged = ".".join([head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]])
    return api.get(uniq(), {"x-os-auth": f"Bearer {forged}"}, auth=False)


def _unknown_kid(api: Api) -> Response:
    main = api.require_auth()
    token = make_token(main, api.usecase, kid="no-such-kid-here")
    return api.get(uniq(), {"x-os-auth": f"Bearer {token}"}, auth=False)


def _not_allowed(api: Api) -> Response:
    api.require_auth()
    return api.put(uniq(), b"x", permissions=READ)


def _bad_range(api: Api) -> Response:
    key = uniq()
    api.put_ok(key, b"0123456789")
    return api.get(key, {"range": "bytes=5-3"})


def _bad_metadata(api: Api) -> Response:
    return api.put(uniq(), b"x", {"content-encoding": "br"})


def _part_without_length(api: Api) -> Response:
    key = uniq()
    init = api.request("PUT", api.path(key, route="objects:multipart"))
    upload_id = init.json()["upload_id"]
    path = api.path(key, route="objects:multipart:parts") + f"?upload_id={upload_id}&part_number=1"
    return api.request("PUT", path, chunks=[b"abc"])


Trigger = Callable[[Api], Response]

JSON_ERRORS: list[tuple[str, Trigger, int, str | None, str]] = [
    # (id, trigger, status, exact detail or None, detail prefix)
    ("metadata", _bad_metadata, 400, None, "service error: metadata error"),
    ("range", _bad_range, 400, None, "client error: invalid Range header"),
    (
        "part-content-length",
        _part_without_length,
        400,
        "client error: Content-Length header is required",
        "",
    ),
    (
        "no-token",
        _no_token,
        400,
        "auth error: bad request: No authorization token provided",
        "",
    ),
    (
        "missing-kid",
        _missing_kid,
        400,
        "auth error: bad request: JWT header is missing `kid` field",
        "",
    ),
    (
        "duplicate-os-auth",
        _duplicate_os_auth,
        400,
        "auth error: bad request: invalid query string",
        "",
    ),
    (
        "presign-missing-parameters",
        _presign_missing,
        400,
        "auth error: bad request: presigned URL has missing or invalid parameters",
        "",
    ),
    (
        "presign-too-long",
        _presign_too_long,
        400,
        "auth error: bad request: presigned URL validity exceeds the maximum of 1 week",
        "",
    ),
    ("expired-token", _expired_token, 401, None, "auth error: failed to decode token: "),
    ("bad-signature", _bad_signature, 401, "auth error: failed to verify token", ""),
    ("unknown-kid", _unknown_kid, 401, "auth error: unknown key", ""),
    ("not-allowed", _not_allowed, 403, "auth error: operation not allowed", ""),
    (
        "presign-method",
        _presign_put,
        403,
        "auth error: presigned URLs are not supported for this method",
        "",
    ),
]


# Today's texts where they changed (protocol §4.1): (exact detail or None, prefix).
CURRENT_DETAILS: dict[str, tuple[str | None, str]] = {
    "metadata": ("client error: invalid metadata", ""),
    "part-content-length": ("client error: content-length header is required", ""),
}


@pytest.mark.parametrize(
    ("name", "trigger", "status", "detail", "prefix"),
    [pytest.param(i, t, s, d, p, id=i) for i, t, s, d, p in JSON_ERRORS],
)
def test_json_error_table(
    api: Api, name: str, trigger: Trigger, status: int, detail: str | None, prefix: str
) -> None:
    """§4.1: each listed condition → its status, `application/json`, `{"detail", "causes"?}`."""
    if api.target.current and name in CURRENT_DETAILS:
        detail, prefix = CURRENT_DETAILS[name]
    resp = trigger(api)
    doc = assert_json_error(resp, status, detail)
    assert doc["detail"].startswith(prefix), doc


@pytest.mark.parametrize(
    ("trigger", "causes"),
    [
        # A reversed range and a part without a length are plain client errors: no causes.
        pytest.param(_bad_range, None, id="range-5-3"),
        pytest.param(_part_without_length, None, id="chunked-part"),
        # The bad-request text is the innermost message; it is not repeated as a cause.
        pytest.param(_no_token, ["bad request: No authorization token provided"], id="no-token"),
    ],
)
def test_error_causes_exact(api: Api, trigger: Trigger, causes: list[str] | None) -> None:
    """§4.1: `causes` is the server's chain exactly, omitted where the error has none."""
    doc = assert_json_error(trigger(api), 400)
    assert doc.get("causes") == causes, doc


def test_json_error_example_body(api: Api) -> None:
    """§4.1: the 403 example: detail plus the cause chain `["operation not allowed"]`."""
    resp = _not_allowed(api)
    doc = assert_json_error(resp, 403, "auth error: operation not allowed")
    assert doc.get("causes") == ["operation not allowed"], doc


def test_expired_token_detail_names_the_error(api: Api) -> None:
    """§4.1: an expired JWT → 401 `auth error: failed to decode token: ExpiredSignature`."""
    doc = assert_json_error(_expired_token(api), 401)
    assert doc["detail"] == "auth error: failed to decode token: ExpiredSignature", doc


@pytest.mark.server_version("0.2.0")
@pytest.mark.profile("filesystem")
def test_backend_failure_is_500_json(api: Api) -> None:
    """§4.1/§6.5: a backend I/O failure ([FS] deleting a missing key) → 500 JSON."""
    doc = assert_json_error(api.delete(uniq()), 500)
    assert doc["detail"].startswith("service error: i/o error"), doc


# -- §4.2 plain-text errors ----------------------------------------------------------------


def _complete_path(api: Api, query: str = "?upload_id=x") -> str:
    return api.path("k", route="objects:multipart:complete") + query


PLAIN_ERRORS: list[tuple[str, Trigger, int, str]] = [
    (
        "path",
        lambda api: api.request("GET", api.path("k", scopes="org")),
        400,
        "Invalid URL: ",
    ),
    (
        "multipart-query",
        lambda api: api.request("GET", api.path("k", route="objects:multipart:parts")),
        400,
        "Failed to deserialize query string: ",
    ),
    (
        "complete-content-type",
        lambda api: api.request("POST", _complete_path(api), {"content-type": "text/plain"}, b"{}"),
        415,
        "Expected request with `Content-Type: application/json`",
    ),
    (
        "complete-not-json",
        lambda api: api.request(
            "POST", _complete_path(api), {"content-type": "application/json"}, b"{not json"
        ),
        400,
        "Failed to parse the request body as JSON: ",
    ),
    (
        "complete-wrong-shape",
        lambda api: api.request(
            "POST",
            _complete_path(api),
            {"content-type": "application/json"},
            b'{"parts": [{"part_number": 0, "etag": "x"}]}',
        ),
        422,
        "Failed to deserialize the JSON body into the target type: ",
    ),
    (
        "complete-too-large",
        lambda api: api.request(
            "POST",
            _complete_path(api),
            {"content-type": "application/json"},
            b'{"parts": [], "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        ),
        413,
        "Failed to buffer the request body: ",
    ),
    (
        "batch-content-type",
        lambda api: api.request(
            "POST", api.path(route="objects:batch"), {"content-type": "multipart/mixed; boundary=b"}
        ),
        400,
        "Invalid `boundary` for `multipart/form-data` request",
    ),
]


@pytest.mark.parametrize(
    ("trigger", "status", "prefix"),
    [pytest.param(t, s, p, id=i) for i, t, s, p in PLAIN_ERRORS],
)
def test_plain_text_error_table(api: Api, trigger: Trigger, status: int, prefix: str) -> None:
    """§4.2: framework errors are `text/plain; charset=utf-8` with the listed body prefix."""
    assert_text_error(trigger(api), status, prefix)


# -- §4.3 empty bodies ---------------------------------------------------------------------


def test_object_not_found_is_empty_404(api: Api) -> None:
    """§4.3/§6.3: GET of a missing object → 404, empty body, no content-type."""
    assert_empty(api.get(uniq()), 404)


def test_no_route_is_empty_404(api: Api) -> None:
    """§4.3: no route → 404 with an empty body."""
    assert_empty(api.request("GET", "/v1/nothing/here", auth=False), 404)


def test_wrong_method_is_empty_405(api: Api) -> None:
    """§4.3: wrong method → 405 with an empty body and `allow`."""
    resp = api.request("POST", api.path("k"), auth=False)
    assert_empty(resp, 405)
    allow = "GET,HEAD,PUT,PATCH,DELETE" if api.target.current else "GET,HEAD,PUT,DELETE"
    assert resp.header("allow") == allow


def test_unsatisfiable_range_is_empty_416(api: Api) -> None:
    """§4.3: 416 has an empty body, `content-range` and `accept-ranges`."""
    key = uniq()
    api.put_ok(key, b"abc")
    resp = api.get(key, {"range": "bytes=3-"})
    assert_empty(resp, 416)
    assert resp.header("content-range") == "bytes */3"
    assert resp.header("accept-ranges") == "bytes"
