"""§13.1-§13.5 authentication (token sources, JWT validation) and authorization."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._api import (
    ALL_PERMS,
    READ,
    Api,
    SigningKey,
    Target,
    assert_json_error,
    b64url,
    make_token,
    new_signing_key,
    set_trailing_bits,
    uniq,
)
from ._wire import Response

NO_TOKEN = "auth error: bad request: No authorization token provided"
DENIED = "auth error: operation not allowed"


def raw_jwt(
    header: dict[str, Any],
    payload: dict[str, Any],
    key: Ed25519PrivateKey | None,
    *,
    signature: bytes | None = None,
) -> str:
    """A compact JWS built by hand, so that every field can be bent."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    if signature is None:
        signature = key.sign(signing_input.encode()) if key is not None else b""
    return signing_input + "." + b64url(signature)


def _claims(api: Api, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "res": {"os:usecase": api.usecase, "org": "42", "project": "1337"},
        "permissions": list(ALL_PERMS),
        "exp": int(time.time()) + 120,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _get(api: Api, headers: dict[str, str] | list[tuple[str, Any]], query: str = "") -> Response:
    """GET an existing object with exactly the given auth headers / query."""
    key = uniq()
    api.put_ok(key, b"secret")
    return api.request("GET", api.path(key) + query, headers, auth=False)


def _bearer(token: str) -> dict[str, str]:
    return {"x-os-auth": f"Bearer {token}"}


@pytest.fixture
def main(api: Api) -> SigningKey:
    return api.require_auth()


# -- §13.2 where the token comes from ------------------------------------------------------


@pytest.mark.parametrize("header", ["x-os-auth", "authorization", "X-OS-Auth", "Authorization"])
@pytest.mark.parametrize("word", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_token_in_either_header(api: Api, main: SigningKey, header: str, word: str) -> None:
    """§13.2: `x-os-auth` or `authorization`, `Bearer ` matched case-insensitively."""
    resp = _get(api, {header: f"{word} {api.token()}"})
    assert resp.status == 200, resp
    assert resp.body == b"secret"


def test_bearer_needs_exactly_one_space(api: Api, main: SigningKey) -> None:
    """§13.2: exactly one space after `Bearer`; the rest (with a leading space) is the JWT."""
    assert_json_error(_get(api, {"x-os-auth": f"Bearer  {api.token()}"}), 401)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("x-os-auth", "{jwt}", id="x-os-auth-no-prefix"),
        pytest.param("authorization", "{jwt}", id="authorization-no-prefix"),
        pytest.param("authorization", "Token {jwt}", id="other-scheme"),
        pytest.param("authorization", "Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("x-os-auth", "Bearer:{jwt}", id="colon-instead-of-space"),
    ],
)
def test_header_without_bearer_prefix_is_no_token(
    api: Api, main: SigningKey, header: str, value: str
) -> None:
    """§13.2/§19.20: the `Bearer ` prefix is mandatory, else no token → 400."""
    resp = _get(api, {header: value.replace("{jwt}", api.token())})
    assert_json_error(resp, 400, NO_TOKEN)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("{jwt}", id="no-prefix"),
        pytest.param(b"Bearer \xff\xfe", id="not-ascii"),
    ],
)
def test_malformed_x_os_auth_hides_authorization(
    api: Api, main: SigningKey, bad: str | bytes
) -> None:
    """§13.2/§19.20: a present but malformed `x-os-auth` means `authorization` is not consulted."""
    token = api.token()
    value = bad.replace("{jwt}", token) if isinstance(bad, str) else bad
    resp = _get(api, [("x-os-auth", value), ("authorization", f"Bearer {token}")])
    assert_json_error(resp, 400, NO_TOKEN)


def test_x_os_auth_takes_precedence(api: Api, main: SigningKey) -> None:
    """§13.2: with both headers, `x-os-auth` is used."""
    token = api.token()
    ok = _get(api, [("x-os-auth", f"Bearer {token}"), ("authorization", "Bearer garbage")])
    assert ok.status == 200, ok
    bad = _get(api, [("x-os-auth", "Bearer garbage"), ("authorization", f"Bearer {token}")])
    assert_json_error(bad, 401)


def test_os_auth_query_parameter(api: Api, main: SigningKey) -> None:
    """§13.2: without header token, `os_auth=<jwt>` in the query is used."""
    resp = _get(api, {}, f"?os_auth={api.token()}")
    assert resp.status == 200, resp
    assert resp.body == b"secret"


def test_os_auth_query_is_form_decoded(api: Api, main: SigningKey) -> None:
    """§13.2: the `os_auth` value is form-decoded (`%XX`)."""
    token = api.token().replace(".", "%2E").replace("-", "%2d")
    resp = _get(api, {}, f"?x=1&os_auth={token}&y")
    assert resp.status == 200, resp


def test_header_token_preferred_over_query(api: Api, main: SigningKey) -> None:
    """§13.2: a header token wins over `os_auth`."""
    token = api.token()
    assert _get(api, _bearer(token), "?os_auth=garbage").status == 200
    assert_json_error(_get(api, _bearer("garbage"), f"?os_auth={token}"), 401)


def test_duplicate_os_auth_is_400(api: Api, main: SigningKey) -> None:
    """§13.2: a duplicated `os_auth` → 400 `invalid query string`."""
    token = api.token()
    resp = _get(api, {}, f"?os_auth={token}&os_auth={token}")
    assert_json_error(resp, 400, "auth error: bad request: invalid query string")


@pytest.mark.parametrize("query", ["", "?OS_AUTH={jwt}", "?os_auth_={jwt}", "?auth={jwt}"])
def test_no_token_is_400(api: Api, main: SigningKey, query: str) -> None:
    """§13.2/§19.21: nothing found (query names are case-sensitive) → 400."""
    resp = _get(api, {}, query.replace("{jwt}", api.token()))
    assert_json_error(resp, 400, NO_TOKEN)


# -- §13.3 JWT validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJFZERTQSJ9.e30"],
)
def test_unparsable_jwt_is_401(api: Api, main: SigningKey, token: str) -> None:
    """§13.3: a token that is no compact JWS → 401 `failed to decode token`."""
    doc = assert_json_error(_get(api, _bearer(token)), 401)
    assert doc["detail"].startswith("auth error: failed to decode token"), doc


def test_missing_kid_is_400(api: Api, main: SigningKey) -> None:
    """§13.3/§19.21: a JWT header without `kid` → 400."""
    token = raw_jwt({"alg": "EdDSA", "typ": "JWT"}, _claims(api), main.private_key())
    assert_json_error(
        _get(api, _bearer(token)), 400, "auth error: bad request: JWT header is missing `kid` field"
    )


def test_garbage_token_without_kid_is_401(api: Api) -> None:
    """§13.3: `e30.e30.e30` (every part `{}`) → 401, not the missing-kid 400.

    The header lacks `alg`, so it fails to decode before `kid` is looked at, as the real
    server answers.
    """
    api.require_auth()
    doc = assert_json_error(_get(api, _bearer("e30.e30.e30")), 401)
    assert doc["detail"].startswith("auth error: failed to decode token"), doc


def test_signature_with_trailing_bits_is_401(api: Api, main: SigningKey) -> None:
    """§13.3: a signature whose unused base64 bits are set is refused (401).

    A lenient decoder would read the same, valid, signature bytes.
    """
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, _claims(api), main.private_key())
    assert _get(api, _bearer(token)).status == 200
    assert_json_error(_get(api, _bearer(set_trailing_bits(token))), 401)


def test_unknown_kid_is_401(api: Api, main: SigningKey) -> None:
    """§13.3/§19.21: a `kid` that is not configured → 401 `unknown key`."""
    token = raw_jwt({"alg": "EdDSA", "kid": "nobody"}, _claims(api), main.private_key())
    assert_json_error(_get(api, _bearer(token)), 401, "auth error: unknown key")


@pytest.mark.parametrize("alg", ["HS256", "none", "ES256", "RS256", "EdDSA "])
def test_wrong_algorithm_is_401(api: Api, main: SigningKey, alg: str) -> None:
    """§13.3: `alg` must be `EdDSA` → else 401."""
    token = raw_jwt({"alg": alg, "kid": main.kid}, _claims(api), main.private_key())
    assert_json_error(_get(api, _bearer(token)), 401)


def test_hs256_signed_with_public_key_rejected(api: Api, main: SigningKey) -> None:
    """§13.3: an HMAC token (classic key confusion) is rejected with 401."""
    token = make_token(
        main, api.usecase, {"org": "42", "project": "1337"}, algorithm="HS256", signing_key="k" * 64
    )
    assert_json_error(_get(api, _bearer(token)), 401)


def test_signature_by_other_key_is_401(api: Api, main: SigningKey) -> None:
    """§13.3: a signature no configured key version verifies → 401 `failed to verify token`."""
    other, _ = new_signing_key(main.kid)
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, _claims(api), other.private_key())
    assert_json_error(_get(api, _bearer(token)), 401, "auth error: failed to verify token")


def test_tampered_payload_is_401(api: Api, main: SigningKey) -> None:
    """§13.3: changing the payload after signing breaks the signature."""
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, _claims(api), main.private_key())
    head, _, sig = token.split(".")
    forged = _claims(api, permissions=list(ALL_PERMS), exp=int(time.time()) + 3600)
    tampered = ".".join([head, b64url(json.dumps(forged).encode()), sig])
    assert_json_error(_get(api, _bearer(tampered)), 401, "auth error: failed to verify token")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"alg": "EdDSA", "typ": "whatever"}, id="odd-typ"),
        pytest.param({"alg": "EdDSA"}, id="no-typ"),
        pytest.param({"alg": "EdDSA", "typ": "JWT", "cty": "x"}, id="extra-field"),
    ],
)
def test_typ_not_checked(api: Api, main: SigningKey, header: dict[str, str]) -> None:
    """§13.3: `typ` is not checked."""
    token = raw_jwt({**header, "kid": main.kid}, _claims(api), main.private_key())
    assert _get(api, _bearer(token)).status == 200


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"res": None}, id="no-res"),
        pytest.param({"res": "attachments"}, id="res-not-object"),
        pytest.param({"res": {"org": "42"}}, id="no-usecase"),
        pytest.param({"res": {"os:usecase": "{u}", "org": 42}}, id="scope-number"),
        pytest.param({"res": {"os:usecase": "{u}", "org": None}}, id="scope-null"),
        pytest.param({"res": {"os:usecase": 5}}, id="usecase-number"),
        pytest.param({"permissions": None}, id="no-permissions"),
        pytest.param({"permissions": ["object.read", "object.admin"]}, id="unknown-permission"),
        pytest.param({"permissions": "object.read"}, id="permissions-string"),
        pytest.param({"permissions": ["Object.Read"]}, id="permission-case"),
    ],
)
def test_bad_claims_are_401(api: Api, main: SigningKey, overrides: dict[str, Any]) -> None:
    """§13.3: claims that do not deserialize → 401."""
    claims = _claims(api, **overrides)
    if isinstance(claims.get("res"), dict) and claims["res"].get("os:usecase") == "{u}":
        claims["res"]["os:usecase"] = api.usecase
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, claims, main.private_key())
    assert_json_error(_get(api, _bearer(token)), 401)


def test_missing_exp_is_401(api: Api, main: SigningKey) -> None:
    """§13.3: `exp` is required → 401 `Missing required claim: exp`."""
    claims = _claims(api)
    del claims["exp"]
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, claims, main.private_key())
    doc = assert_json_error(_get(api, _bearer(token)), 401)
    assert "Missing required claim: exp" in doc["detail"], doc


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        pytest.param(3600, 200, id="future"),
        pytest.param(-30, 200, id="expired-within-leeway"),
        pytest.param(-120, 401, id="expired-beyond-leeway"),
        pytest.param(-86400, 401, id="long-expired"),
    ],
)
def test_exp_with_60s_leeway(api: Api, main: SigningKey, offset: int, status: int) -> None:
    """§13.3/§14: rejected when `exp < now - 60`."""
    claims = _claims(api, exp=int(time.time()) + offset)
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, claims, main.private_key())
    resp = _get(api, _bearer(token))
    assert resp.status == status, resp
    if status == 401:
        assert_json_error(resp, 401, "auth error: failed to decode token: ExpiredSignature")


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        pytest.param({"nbf": int(time.time()) + 86400}, 200, id="nbf-future-ignored"),
        pytest.param({"iat": int(time.time()) + 86400}, 200, id="iat-ignored"),
        pytest.param({"sub": "someone", "jti": "x"}, 200, id="sub-jti-ignored"),
        pytest.param({"aud": "objectstore"}, 200, id="aud-ok"),
        pytest.param({"aud": ["other", "objectstore"]}, 200, id="aud-list-ok"),
        pytest.param({"aud": "other"}, 401, id="aud-wrong"),
        pytest.param({"aud": ["other"]}, 401, id="aud-list-wrong"),
        pytest.param({"iss": "sentry"}, 200, id="iss-sentry"),
        pytest.param({"iss": "relay"}, 200, id="iss-relay"),
        pytest.param({"iss": ["x", "relay"]}, 200, id="iss-list-ok"),
        pytest.param({"iss": "evil"}, 401, id="iss-wrong"),
        pytest.param({"iss": ["evil"]}, 401, id="iss-list-wrong"),
    ],
)
def test_standard_claims(api: Api, main: SigningKey, extra: dict[str, Any], status: int) -> None:
    """§13.3: nbf/iat/sub/jti ignored; aud must be `objectstore`, iss `sentry` or `relay`."""
    token = raw_jwt({"alg": "EdDSA", "kid": main.kid}, _claims(api, **extra), main.private_key())
    resp = _get(api, _bearer(token))
    assert resp.status == status, resp


# -- §13.4 authorization -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        pytest.param("_", 200, id="none"),
        pytest.param("org=42", 200, id="org"),
        pytest.param("project=1337", 200, id="project"),
        pytest.param("org=42;project=1337", 200, id="both"),
        pytest.param("project=1337;org=42", 200, id="both-reordered"),
        pytest.param("org=42;project=1337;app=x", 403, id="extra-scope"),
        pytest.param("org=43", 403, id="other-value"),
        pytest.param("Org=42", 403, id="name-case"),
        pytest.param("org=42;org=42", 200, id="same-twice"),
        pytest.param("org=42;org=43", 403, id="conflicting-twice"),
    ],
)
def test_token_authorizes_subsets_of_its_scopes(
    api: Api, main: SigningKey, scopes: str, status: int
) -> None:
    """§13.4/§19.22: every request scope must be in the token; order is irrelevant."""
    token = api.token(scopes={"org": "42", "project": "1337"})
    resp = api.request("PUT", api.path(uniq(), scopes=scopes), _bearer(token), b"x", auth=False)
    if status == 200:
        assert resp.status == 200, resp
    else:
        assert_json_error(resp, 403, DENIED)


def test_scope_wildcard(api: Api, main: SigningKey) -> None:
    """§13.3/§13.4: a scope value of exactly `*` matches any value."""
    token = api.token(scopes={"org": "*"})
    for scopes in ("org=1", "org=999", "_"):
        resp = api.request("PUT", api.path(uniq(), scopes=scopes), _bearer(token), b"x", auth=False)
        assert resp.status == 200, (scopes, resp)
    resp = api.request(
        "PUT", api.path(uniq(), scopes="project=1"), _bearer(token), b"x", auth=False
    )
    assert_json_error(resp, 403, DENIED)


def test_partial_wildcard_is_literal(api: Api, main: SigningKey) -> None:
    """§13.3: only exactly `*` is a wildcard (`4*` is a literal value)."""
    token = api.token(scopes={"org": "4*"})
    resp = api.request("PUT", api.path(uniq(), scopes="org=42"), _bearer(token), b"x", auth=False)
    assert_json_error(resp, 403, DENIED)


@pytest.mark.parametrize(
    "usecase",
    [
        pytest.param("*", id="star-is-no-wildcard"),
        pytest.param("{u}-other", id="other"),
        pytest.param("{U}", id="case"),
        pytest.param("", id="empty"),
    ],
)
def test_usecase_must_match_exactly(api: Api, main: SigningKey, usecase: str) -> None:
    """§13.4/§19.22: `res["os:usecase"]` must equal the usecase exactly (no wildcard)."""
    token_usecase = usecase.replace("{u}", api.usecase).replace("{U}", api.usecase.upper())
    token = api.token(usecase=token_usecase)
    resp = api.request("PUT", api.path(uniq()), _bearer(token), b"x", auth=False)
    assert_json_error(resp, 403, DENIED)


def test_empty_permissions_grant_nothing(api: Api, main: SigningKey) -> None:
    """§13.4: a valid token with no permissions → 403 for every operation."""
    key = uniq()
    api.put_ok(key, b"x")
    token = api.token(permissions=[])
    for method, body in (("GET", None), ("HEAD", None), ("PUT", b"y"), ("DELETE", None)):
        resp = api.request(method, api.path(key), _bearer(token), body, auth=False)
        assert resp.status == 403, (method, resp)


@pytest.mark.parametrize(
    ("method", "permission"),
    [
        ("GET", "object.read"),
        ("HEAD", "object.read"),
        ("PUT", "object.write"),
        ("POST", "object.write"),
        ("DELETE", "object.delete"),
    ],
)
def test_each_method_needs_exactly_its_permission(
    api: Api, main: SigningKey, method: str, permission: str
) -> None:
    """§6/§13.4: GET/HEAD read, PUT/POST write, DELETE delete; the other two do not suffice."""
    key = uniq()
    api.put_ok(key, b"x")
    path = api.path() if method == "POST" else api.path(key)
    body = b"y" if method in ("PUT", "POST") else None
    others = [p for p in ALL_PERMS if p != permission]
    denied = api.request(method, path, body=body, permissions=others)
    assert denied.status == 403, denied
    allowed = api.request(method, path, body=body, permissions=[permission])
    assert allowed.status in (200, 201, 204), allowed


def test_max_permissions_cap_token_permissions(api: Api) -> None:
    """§13.1: effective permissions = token ∩ max_permissions (read-only kid)."""
    api.key("readonly")
    key = uniq()
    api.put_ok(key, b"ro")
    token = api.token(which="readonly", permissions=ALL_PERMS)
    assert api.request("GET", api.path(key), _bearer(token), auth=False).body == b"ro"
    for method, body in (("PUT", b"z"), ("DELETE", None)):
        resp = api.request(method, api.path(key), _bearer(token), body, auth=False)
        assert_json_error(resp, 403, DENIED)
    assert api.get(key).body == b"ro"


def test_kid_without_max_permissions_grants_nothing(api: Api) -> None:
    """§13.1/§19.23: a key configured without `max_permissions` grants nothing."""
    api.key("noperm")
    key = uniq()
    api.put_ok(key, b"np")
    token = api.token(which="noperm", permissions=ALL_PERMS)
    for method, body in (("GET", None), ("PUT", b"z"), ("DELETE", None)):
        resp = api.request(method, api.path(key), _bearer(token), body, auth=False)
        assert_json_error(resp, 403, DENIED)


# -- §13.1 configuration (local_only) ------------------------------------------------------


@pytest.mark.local_only
def test_enforce_false_with_keys_allows_authentication_failures(
    make_server: Callable[..., Target],
) -> None:
    """§13.1/§19.23: enforce=false with keys: token failures are only logged."""
    api = Api(make_server(enforce_auth=False))
    key = uniq()
    assert api.put(key, b"open", auth=False).status == 200
    assert api.get(key, {"x-os-auth": "Bearer garbage"}, auth=False).body == b"open"
    assert api.get(key, {"authorization": "Basic x"}, auth=False).status == 200
    resp = api.request("PUT", api.path(key) + "?os_sig=x", body=b"presign", auth=False)
    assert resp.status == 200, resp
    assert api.get(key, auth=False).body == b"presign"


@pytest.mark.local_only
def test_enforce_false_with_keys_allows_permission_failures(
    make_server: Callable[..., Target],
) -> None:
    """§13.1/§19.23: enforce=false: permissions are checked but failures only logged."""
    api = Api(make_server(enforce_auth=False))
    key = uniq()
    api.put_ok(key, b"x")
    ro = api.token(which="readonly")
    assert api.request("PUT", api.path(key), _bearer(ro), b"y", auth=False).status == 200
    other = api.token(usecase="someone-else", permissions=READ)
    assert api.request("GET", api.path(key), _bearer(other), auth=False).body == b"y"
    assert api.request("DELETE", api.path(key), _bearer(ro), auth=False).status == 204


@pytest.mark.local_only
def test_no_keys_disables_auth(make_server: Callable[..., Target]) -> None:
    """§13.1: enforce=false (default when no keys) and no keys → every request allowed."""
    api = Api(make_server(auth_keys={}))
    key = uniq()
    assert api.put(key, b"free", {"x-os-auth": "Bearer nonsense"}).status == 200
    assert api.request("GET", api.path(key) + "?os_kid=x&os_sig=y").body == b"free"
    assert api.request("PUT", api.path(key) + "?os_sig=y", body=b"again").status == 200
    assert api.request("DELETE", api.path(key)).status == 204


@pytest.mark.local_only
def test_enforce_without_keys_refuses_to_start(make_server: Callable[..., Target]) -> None:
    """§13.1/§19.23: enforce=true with no keys → the server refuses to start."""
    from objectstore_client.testing import ConfigError

    with pytest.raises(ConfigError):
        make_server(auth_keys={}, enforce_auth=True)


@pytest.mark.local_only
def test_key_rotation(make_server: Callable[..., Target]) -> None:
    """§13.1/§13.3: several public keys per kid are tried in order (rotation)."""
    from objectstore_client.testing import AuthKey

    old, old_pub = new_signing_key("rotating")
    new, new_pub = new_signing_key("rotating")
    stranger, _ = new_signing_key("rotating")
    keys = {
        "rotating": AuthKey(
            public_keys=(old_pub, new_pub),
            max_permissions=frozenset(ALL_PERMS),
        )
    }
    target = make_server(auth_keys=keys)
    api = Api(target)
    key = uniq()
    for signer in (old, new):
        token = make_token(signer, api.usecase, {"org": "42", "project": "1337"})
        resp = api.request("PUT", api.path(key), _bearer(token), b"r", auth=False)
        assert resp.status == 200, resp
    token = make_token(stranger, api.usecase, {"org": "42", "project": "1337"})
    resp = api.request("GET", api.path(key), _bearer(token), auth=False)
    assert_json_error(resp, 401, "auth error: failed to verify token")
