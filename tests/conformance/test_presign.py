"""§13.6 presigned URLs: parameters, verification order, the canonical string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ._api import (
    Api,
    SigningKey,
    assert_json_error,
    canonical_string,
    enc,
    new_signing_key,
    presign,
    presign_ts,
    set_trailing_bits,
    uniq,
)
from ._wire import Response

BAD_PARAMS = "auth error: bad request: presigned URL has missing or invalid parameters"
VERIFY = "auth error: failed to verify token"
METHOD = "auth error: presigned URLs are not supported for this method"


@pytest.fixture
def main(api: Api) -> SigningKey:
    return api.require_auth()


def _object(api: Api, body: bytes = b"presigned body", key: str | None = None) -> str:
    key = key or uniq()
    api.put_ok(key, body, {"content-type": "text/plain"})
    return key


def _call(api: Api, method: str, target: str, headers: dict[str, str] | None = None) -> Response:
    body = b"data" if method in ("PUT", "POST") else None
    return api.request(method, target, headers, body, auth=False)


# -- happy path ----------------------------------------------------------------------------


def test_presigned_get(api: Api, main: SigningKey) -> None:
    """§13.6: a correctly presigned GET → 200 without any header token."""
    key = _object(api)
    resp = _call(api, "GET", presign(main, "GET", api.path(key)))
    assert resp.status == 200, resp
    assert resp.body == b"presigned body"


def test_presigned_head_uses_get_signature(api: Api, main: SigningKey) -> None:
    """§13.6/§19.25: HEAD is signed as GET, so one URL serves both (HEAD → 204; 200 today)."""
    key = _object(api)
    target = presign(main, "GET", api.path(key))
    assert _call(api, "HEAD", target).status == (200 if api.target.current else 204)
    assert _call(api, "GET", target).status == 200


def test_head_signed_literally_as_head_fails(api: Api, main: SigningKey) -> None:
    """§13.6: the canonical method for HEAD is `GET`; a signature over `HEAD` is invalid."""
    key = _object(api)
    path = api.path(key)
    ts = presign_ts(datetime.now(UTC))
    query = f"os_kid={main.kid}&os_timestamp={ts}&os_duration=300"
    wrong = "HEAD\n" + path + "\n" + "&".join(sorted(query.split("&")))
    target = presign(main, "HEAD", path, timestamp=ts, canonical=wrong)
    resp = _call(api, "HEAD", target)  # a HEAD response has no body to inspect
    assert resp.status == 401, resp
    assert_json_error(_call(api, "GET", target), 401, VERIFY)


def test_presigned_range_get(api: Api, main: SigningKey) -> None:
    """§13.6/§7: headers like `range` still apply on a presigned GET."""
    key = _object(api, b"0123456789")
    resp = _call(api, "GET", presign(main, "GET", api.path(key)), {"range": "bytes=2-4"})
    assert resp.status == 206, resp
    assert resp.body == b"234"


def test_presigned_get_missing_object_is_404(api: Api, main: SigningKey) -> None:
    """§13.6: a valid presigned URL for a missing object → 404."""
    resp = _call(api, "GET", presign(main, "GET", api.path(uniq())))
    assert resp.status == 404, resp


def test_presign_ignores_header_tokens(api: Api, main: SigningKey) -> None:
    """§13.2: with `os_sig` in the query, headers are ignored (a broken header does not hurt)."""
    key = _object(api)
    headers = {"x-os-auth": "Bearer garbage", "authorization": "Basic abc"}
    resp = _call(api, "GET", presign(main, "GET", api.path(key)), headers)
    assert resp.status == 200, resp


def test_presign_no_usecase_or_scope_check(api: Api, main: SigningKey) -> None:
    """§13.6: the signature binds the path; no usecase/scope check applies."""
    key = uniq()
    api.put_ok(key, b"anywhere", scopes="org=1;weird=$!")
    resp = _call(api, "GET", presign(main, "GET", api.path(key, scopes="org=1;weird=$!")))
    assert resp.body == b"anywhere"


def test_presign_read_only_kid_works(api: Api) -> None:
    """§13.6: a kid whose max_permissions include `object.read` can presign reads."""
    readonly = api.key("readonly")
    key = _object(api)
    assert _call(api, "GET", presign(readonly, "GET", api.path(key))).status == 200


def test_presign_kid_without_read_is_403(api: Api) -> None:
    """§13.6 step 7/§13.5: a key lacking `object.read` → 403."""
    noperm = api.key("noperm")
    key = _object(api)
    resp = _call(api, "GET", presign(noperm, "GET", api.path(key)))
    assert_json_error(resp, 403)


# -- method restrictions (§13.6 step 1, step 8, §19.24) ------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
def test_presign_non_read_methods_403(api: Api, main: SigningKey, method: str) -> None:
    """§13.6 step 1: method must be GET/HEAD, else 403 (even when signed for that method)."""
    key = _object(api)
    path = api.path() if method == "POST" else api.path(key)
    resp = _call(api, method, presign(main, method, path))
    assert_json_error(resp, 403, METHOD)
    assert api.get(key).body == b"presigned body"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("query", ["?os_sig=anything", "?os_sig", "?a=1&os_sig=&b=2"])
def test_os_sig_switches_to_presign_despite_bearer(
    api: Api, main: SigningKey, method: str, query: str
) -> None:
    """§13.2/§19.24: any `os_sig` parameter makes non-GET/HEAD fail with 403, valid token or not."""
    key = _object(api)
    path = api.path(key)
    headers = dict(api.auth_headers(path))
    resp = _call(api, method, path + query, headers)
    assert_json_error(resp, 403, METHOD)
    assert api.get(key).body == b"presigned body"


def test_method_check_precedes_parameter_parsing(api: Api, main: SigningKey) -> None:
    """§13.6: the method is checked first (403), before the missing parameters (400)."""
    resp = _call(api, "PUT", api.path(uniq()) + "?os_sig=")
    assert_json_error(resp, 403, METHOD)


@pytest.mark.parametrize("query", ["?OS_SIG=x", "?xos_sig=1", "?os_sigx=1", "?x=os_sig"])
def test_os_sig_name_is_exact(api: Api, main: SigningKey, query: str) -> None:
    """§13.2: only a parameter named exactly `os_sig` triggers presign mode."""
    key = uniq()
    resp = api.request("PUT", api.path(key) + query, body=b"bearer")
    assert resp.status == 200, resp
    assert api.get(key).body == b"bearer"


def test_presigned_batch_is_403(api: Api, main: SigningKey) -> None:
    """§13.6: the batch endpoint is POST, so presigning does not work there."""
    path = api.path(route="objects:batch")
    resp = api.request(
        "POST",
        presign(main, "POST", path),
        {"content-type": "multipart/form-data; boundary=b"},
        b"--b--\r\n",
        auth=False,
    )
    assert_json_error(resp, 403, METHOD)


def test_presigned_get_of_part_listing_is_403(api: Api, main: SigningKey) -> None:
    """§13.6 step 8/§11: a presign grants reads only; listing parts needs write → 403."""
    key = uniq()
    init = api.request("PUT", api.path(key, route="objects:multipart"))
    upload_id = init.json()["upload_id"]
    path = api.path(key, route="objects:multipart:parts")
    target = presign(main, "GET", path, extra=[f"upload_id={enc(upload_id)}"])
    assert_json_error(_call(api, "GET", target), 403, "auth error: operation not allowed")


# -- parameters (§13.6 steps 2-4) ----------------------------------------------------------


def _params(main: SigningKey, **changes: str | None) -> list[str]:
    values: dict[str, str | None] = {
        "os_kid": main.kid,
        "os_timestamp": presign_ts(datetime.now(UTC)),
        "os_duration": "300",
    }
    values.update(changes)
    return [f"{k}={v}" for k, v in values.items() if v is not None]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"os_kid": None}, id="no-kid"),
        pytest.param({"os_timestamp": None}, id="no-timestamp"),
        pytest.param({"os_duration": None}, id="no-duration"),
        pytest.param({"os_duration": "abc"}, id="duration-not-numeric"),
        pytest.param({"os_duration": "-5"}, id="duration-negative"),
        pytest.param({"os_duration": "1.5"}, id="duration-fraction"),
        pytest.param({"os_duration": ""}, id="duration-empty"),
        pytest.param({"os_timestamp": "yesterday"}, id="timestamp-garbage"),
        pytest.param({"os_timestamp": "{now}+01:00"}, id="timestamp-other-offset"),
        pytest.param({"os_timestamp": "{now}%2B02:00"}, id="timestamp-encoded-offset"),
        pytest.param({"os_timestamp": "{now}+00:00"}, id="timestamp-raw-plus-is-space"),
        pytest.param({"os_timestamp": "{epoch}"}, id="timestamp-epoch-number"),
        pytest.param({"OS_KID": "x", "os_kid": None}, id="kid-name-case"),
    ],
)
def test_missing_or_invalid_parameters_400(
    api: Api, main: SigningKey, changes: dict[str, str | None]
) -> None:
    """§13.6 step 2: parameters missing or unparsable → 400."""
    now = datetime.now(UTC)
    fixed = {
        k: (
            v.replace("{now}", now.strftime("%Y-%m-%dT%H:%M:%S")).replace(
                "{epoch}", str(int(now.timestamp()))
            )
            if v is not None
            else None
        )
        for k, v in changes.items()
    }
    target = presign(main, "GET", api.path(_object(api)), params=_params(main, **fixed))
    assert_json_error(_call(api, "GET", target), 400, BAD_PARAMS)


@pytest.mark.parametrize("name", ["os_kid", "os_timestamp", "os_duration", "os_sig"])
def test_duplicate_parameter_400(api: Api, main: SigningKey, name: str) -> None:
    """§13.6 step 2: duplicate parameter names → 400."""
    target = presign(main, "GET", api.path(_object(api)))
    value = dict(p.split("=", 1) for p in target.split("?", 1)[1].split("&"))[name]
    assert_json_error(_call(api, "GET", f"{target}&{name}={value}"), 400)


def test_unpadded_signature_required(api: Api, main: SigningKey) -> None:
    """§13.6/§19.25: the signature must be unpadded base64url (a padded one is rejected)."""
    target = presign(main, "GET", api.path(_object(api)))
    resp = _call(api, "GET", target + "==")
    assert resp.status in (400, 401), resp
    assert_json_error(resp, resp.status)


def test_signature_not_base64_rejected(api: Api, main: SigningKey) -> None:
    """§13.6: a signature that is no base64url → 400/401, never access."""
    base = presign(main, "GET", api.path(_object(api))).rsplit("&os_sig=", 1)[0]
    resp = _call(api, "GET", base + "&os_sig=!!!notbase64!!!")
    assert resp.status in (400, 401), resp
    assert_json_error(resp, resp.status)


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param("{t}Z", id="z"),
        pytest.param("{t}.123456Z", id="fraction"),
        pytest.param("{t}%2B00:00", id="encoded-plus-offset"),
        pytest.param("{space}Z", id="encoded-space-separator"),
        pytest.param("{plus}Z", id="plus-as-space-separator"),
    ],
)
def test_timestamp_formats(api: Api, main: SigningKey, timestamp: str) -> None:
    """§13.6: RFC 3339 UTC with optional fraction, `Z`/`+00:00`, space for `T` accepted."""
    now = datetime.now(UTC)
    value = (
        timestamp.replace("{t}", now.strftime("%Y-%m-%dT%H:%M:%S"))
        .replace("{space}", now.strftime("%Y-%m-%d%%20%H:%M:%S"))
        .replace("{plus}", now.strftime("%Y-%m-%d+%H:%M:%S"))
    )
    target = presign(main, "GET", api.path(_object(api)), timestamp=value)
    assert _call(api, "GET", target).status == 200


def test_unknown_kid_401(api: Api, main: SigningKey) -> None:
    """§13.6 step 3: unknown `os_kid` → 401 `unknown key`."""
    stranger, _ = new_signing_key("nobody-knows")
    target = presign(stranger, "GET", api.path(_object(api)))
    assert_json_error(_call(api, "GET", target), 401, "auth error: unknown key")


def test_unknown_kid_checked_before_duration(api: Api, main: SigningKey) -> None:
    """§13.6: unknown kid (step 3) is reported before the excessive duration (step 4)."""
    stranger, _ = new_signing_key("nobody-knows")
    target = presign(stranger, "GET", api.path(_object(api)), duration=604801)
    assert_json_error(_call(api, "GET", target), 401, "auth error: unknown key")


@pytest.mark.parametrize(
    ("duration", "status"),
    [
        pytest.param(604800, 200, id="one-week"),
        pytest.param(604801, 400, id="over-one-week"),
        pytest.param(10**12, 400, id="huge"),
    ],
)
def test_max_duration_one_week(api: Api, main: SigningKey, duration: int, status: int) -> None:
    """§13.6 step 4/§14: `os_duration` > 604 800 → 400."""
    target = presign(main, "GET", api.path(_object(api)), duration=duration)
    resp = _call(api, "GET", target)
    if status == 200:
        assert resp.status == 200, resp
    else:
        assert_json_error(
            resp,
            400,
            "auth error: bad request: presigned URL validity exceeds the maximum of 1 week",
        )


def test_duration_checked_before_window(api: Api, main: SigningKey) -> None:
    """§13.6: the duration limit (step 4, 400) precedes the validity window (step 5, 401)."""
    ts = presign_ts(datetime.now(UTC) - timedelta(days=30))
    target = presign(main, "GET", api.path(_object(api)), timestamp=ts, duration=604801)
    assert_json_error(_call(api, "GET", target), 400)


# -- validity window (§13.6 step 5) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "duration", "status"),
    [
        pytest.param(-30, 300, 200, id="inside"),
        pytest.param(30, 300, 200, id="future-within-skew"),
        pytest.param(120, 300, 401, id="future-beyond-skew"),
        pytest.param(-30, 10, 401, id="expired"),
        pytest.param(-600, 300, 401, id="long-expired"),
        pytest.param(30, 0, 200, id="zero-duration-within-skew"),
        pytest.param(-86400, 604800, 200, id="day-old-week-long"),
    ],
)
def test_validity_window(
    api: Api, main: SigningKey, offset: int, duration: int, status: int
) -> None:
    """§13.6 step 5: valid iff `timestamp - 60 s <= now <= timestamp + duration`."""
    key = _object(api)
    ts = presign_ts(datetime.now(UTC) + timedelta(seconds=offset))
    resp = _call(api, "GET", presign(main, "GET", api.path(key), timestamp=ts, duration=duration))
    if status == 200:
        assert resp.status == 200, resp
    else:
        assert_json_error(resp, 401, VERIFY)


# -- signature and canonical form (§13.6 step 6, §19.25) -----------------------------------


def test_signature_with_trailing_bits_401(api: Api, main: SigningKey) -> None:
    """§13.6 step 6: a signature whose unused base64 bits are set does not verify (401)."""
    target = presign(main, "GET", api.path(_object(api)))
    assert _call(api, "GET", target).status == 200
    assert_json_error(_call(api, "GET", set_trailing_bits(target)), 401, VERIFY)


def test_tampered_signature_401(api: Api, main: SigningKey) -> None:
    """§13.6 step 6: a signature that does not verify → 401."""
    target = presign(main, "GET", api.path(_object(api)))
    head, sig = target.rsplit("=", 1)
    forged = head + "=" + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert_json_error(_call(api, "GET", forged), 401, VERIFY)


def test_signature_by_other_key_401(api: Api, main: SigningKey) -> None:
    """§13.6 step 6: signed by a key not configured under the kid → 401."""
    other, _ = new_signing_key(main.kid)
    target = presign(other, "GET", api.path(_object(api)))
    assert_json_error(_call(api, "GET", target), 401, VERIFY)


def test_signature_bound_to_path(api: Api, main: SigningKey) -> None:
    """§13.6: the signature binds the path: reusing it for another key fails."""
    a, b = _object(api), _object(api)
    target = presign(main, "GET", api.path(a))
    query = target.split("?", 1)[1]
    assert_json_error(_call(api, "GET", api.path(b) + "?" + query), 401, VERIFY)


def test_signature_bound_to_query_values(api: Api, main: SigningKey) -> None:
    """§13.6: changing a signed parameter (duration) invalidates the signature."""
    target = presign(main, "GET", api.path(_object(api)), duration=60)
    changed = target.replace("os_duration=60", "os_duration=61")
    assert_json_error(_call(api, "GET", changed), 401, VERIFY)


def test_path_signed_as_transmitted(api: Api, main: SigningKey) -> None:
    """§13.6: the raw path as transmitted is signed; `%2F` and `/` differ for the signature."""
    _object(api, key="dir/file")
    encoded = api.path(raw_key="dir%2Ffile")
    assert _call(api, "GET", presign(main, "GET", encoded)).status == 200
    target = presign(main, "GET", encoded)
    plain = api.path(raw_key="dir/file") + "?" + target.split("?", 1)[1]
    assert_json_error(_call(api, "GET", plain), 401, VERIFY)


def test_path_hex_case_preserved(api: Api, main: SigningKey) -> None:
    """§13.6: the hex case of escapes is part of the signed path (`%2f` ≠ `%2F`)."""
    _object(api, key="x/y")
    signed_lower = presign(main, "GET", api.path(raw_key="x%2fy"))
    assert _call(api, "GET", signed_lower).status == 200
    upper = api.path(raw_key="x%2Fy") + "?" + signed_lower.split("?", 1)[1]
    assert_json_error(_call(api, "GET", upper), 401, VERIFY)


def test_extra_query_parameters_are_signed(api: Api, main: SigningKey) -> None:
    """§13.6: additional parameters (e.g. `os_auth`) are part of the canonical query."""
    key = _object(api)
    target = presign(main, "GET", api.path(key), extra=["os_auth=whatever", "x=1"])
    assert _call(api, "GET", target).status == 200
    assert_json_error(_call(api, "GET", target.replace("x=1", "x=2")), 401, VERIFY)
    assert_json_error(_call(api, "GET", target + "&added=1"), 401, VERIFY)


def test_canonical_query_names_lower_cased(api: Api, main: SigningKey) -> None:
    """§13.6: names are lower-cased in the canonical query; values are kept verbatim."""
    key = _object(api)
    path = api.path(key)
    good = presign(main, "GET", path, extra=["Foo=Bar"])  # canonical holds foo=Bar
    assert _call(api, "GET", good).status == 200
    ts = good.split("os_timestamp=", 1)[1].split("&", 1)[0]
    query = f"Foo=Bar&os_kid={main.kid}&os_timestamp={ts}&os_duration=300"
    unlowered = "\n".join(["GET", path, "&".join(sorted(p for p in query.split("&")))])
    bad = presign(main, "GET", path, extra=["Foo=Bar"], timestamp=ts, canonical=unlowered)
    assert_json_error(_call(api, "GET", bad), 401, VERIFY)


def test_canonical_query_sorts_whole_strings(api: Api, main: SigningKey) -> None:
    """§13.6/§19.25: whole `name=value` strings are sorted (`a-b=1` < `a=2`), not pairs."""
    key = _object(api)
    path = api.path(key)
    extra = ["a=2", "a-b=1"]
    good = presign(main, "GET", path, extra=extra)
    assert _call(api, "GET", good).status == 200
    ts = good.split("os_timestamp=", 1)[1].split("&", 1)[0]
    params = [*extra, f"os_kid={main.kid}", f"os_timestamp={ts}", "os_duration=300"]
    pairs = sorted(p.split("=", 1) for p in params)
    pair_sorted = "&".join(f"{n}={v}" for n, v in pairs)
    assert pair_sorted != canonical_string("GET", path, "&".join(params)).split("\n")[2]
    bad = presign(
        main, "GET", path, extra=extra, timestamp=ts, canonical=f"GET\n{path}\n{pair_sorted}"
    )
    assert_json_error(_call(api, "GET", bad), 401, VERIFY)


def test_canonical_query_keeps_values_encoded(api: Api, main: SigningKey) -> None:
    """§13.6/§19.25: values stay percent-encoded in the canonical query."""
    key = _object(api)
    path = api.path(key)
    good = presign(main, "GET", path, extra=["x=%41"])
    assert _call(api, "GET", good).status == 200
    ts = good.split("os_timestamp=", 1)[1].split("&", 1)[0]
    decoded = canonical_string(
        "GET", path, f"x=A&os_kid={main.kid}&os_timestamp={ts}&os_duration=300"
    )
    bad = presign(main, "GET", path, extra=["x=%41"], timestamp=ts, canonical=decoded)
    assert_json_error(_call(api, "GET", bad), 401, VERIFY)


def test_canonical_query_edge_pieces(api: Api, main: SigningKey) -> None:
    """§13.6: empty pieces dropped, a piece without `=` kept as its name, duplicates kept."""
    key = _object(api)
    target = presign(main, "GET", api.path(key), extra=["", "flag", "dup=1", "dup=1", ""])
    assert "&&" in target
    assert _call(api, "GET", target).status == 200


def test_canonical_string_has_no_trailing_newline(api: Api, main: SigningKey) -> None:
    """§13.6: three lines joined by a line feed, no trailing newline."""
    key = _object(api)
    path = api.path(key)
    ts = presign_ts(datetime.now(UTC))
    right = canonical_string("GET", path, f"os_kid={main.kid}&os_timestamp={ts}&os_duration=300")
    bad = presign(main, "GET", path, timestamp=ts, canonical=right + "\n")
    assert_json_error(_call(api, "GET", bad), 401, VERIFY)
    good = presign(main, "GET", path, timestamp=ts, canonical=right)
    assert _call(api, "GET", good).status == 200
