"""The conformance suite's view of a server: where it is, how to sign for it, how to call it.

Everything here is written from the spec (docs/protocol.md), never from the
emulator: tokens (§13.3), presigned URLs (§13.6) and path encoding (§2.6) are built by hand.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import _wire
from ._wire import Headers, Response

ALL_PERMS = ("object.read", "object.write", "object.delete")
READ = ("object.read",)
WRITE = ("object.write",)
DELETE = ("object.delete",)

DEFAULT_SCOPES = "org=42;project=1337"

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# Today's server: whole seconds (protocol §5.5).
WHOLE_SECOND_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SERVER = "objectstore/0.1.0"
TEXT_PLAIN = "text/plain; charset=utf-8"
JSON = "application/json"

# §2.6: everything except unreserved, sub-delims, ':' '@' '/' is percent-encoded.
_PATH_SAFE = "!$&'()*+,;=:@/-._~"


def enc(text: str) -> str:
    """Percent-encode a path piece the way §2.6 says clients must (upper-case hex, UTF-8)."""
    return quote(text, safe=_PATH_SAFE)


def enc_all(text: str) -> str:
    """Percent-encode every byte that is not an ASCII letter or digit (§10.1 batch keys)."""
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}"
        for b in text.encode("utf-8")
    )


def batch_key_echo(api: Api, key: str) -> str:
    """A batch result part's key header for `key` (§10.3).

    0.2.0 escapes every byte that is not an ASCII letter or digit; today's server uses the
    metadata encoder: controls, DEL, `%` and non-ASCII only (protocol §10.3).
    """
    if not api.target.current:
        return enc_all(key)
    return "".join(
        "".join(f"%{b:02X}" for b in c.encode()) if c == "%" or not " " <= c <= "~" else c
        for c in key
    )


def parse_ts(value: str) -> datetime:
    """Parse an `x-sn-time-*` header value (§5.5) after checking it has one of the formats.

    `YYYY-MM-DDTHH:MM:SS.ffffffZ` (0.2.0) or `YYYY-MM-DDTHH:MM:SSZ` (current); the tests of
    §5.5 check which one a server version uses.
    """
    if WHOLE_SECOND_RE.match(value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert TIMESTAMP_RE.match(value), f"timestamp {value!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ"
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def pct_echo(value: str) -> str:
    """What today's server echoes for a free-form metadata value written as `value`.

    Protocol §5.8, written out independently: `%XX` decoded on write (a lone `%` kept), then
    controls, DEL, `%` and non-ASCII encoded as upper-case `%XX` on read.
    """
    decoded = re.sub(
        rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), value.encode("ascii")
    ).decode("utf-8")
    return "".join(
        "".join(f"%{b:02X}" for b in c.encode()) if c == "%" or not " " <= c <= "~" else c
        for c in decoded
    )


@dataclass(frozen=True)
class SigningKey:
    """A key id and the Ed25519 private key (PKCS#8 PEM) the server trusts under it."""

    kid: str
    private_pem: str

    def private_key(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key


def new_signing_key(kid: str) -> tuple[SigningKey, str]:
    """A fresh Ed25519 key pair: the signing key and the public key PEM."""
    priv = Ed25519PrivateKey.generate()
    private_pem = priv.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        priv.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return SigningKey(kid, private_pem), public_pem


@dataclass(frozen=True)
class Target:
    """A server under test and what the suite knows about it."""

    url: str
    profile: str
    local: bool
    main: SigningKey | None = None
    readonly: SigningKey | None = None
    noperm: SigningKey | None = None
    version: str = "0.2.0"
    """`current` or `0.2.0`: which server version's rules apply (see conftest)."""

    @property
    def current(self) -> bool:
        """Whether the server speaks today's protocol."""
        return self.version == "current"

    @property
    def host(self) -> str:
        host = urlsplit(self.url).hostname
        assert host is not None
        return host

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        return port if port is not None else 80

    @property
    def auth(self) -> bool:
        """Whether the server enforces auth (and the suite can sign for it)."""
        return self.main is not None


def make_token(
    key: SigningKey,
    usecase: str,
    scopes: Mapping[str, str] | None = None,
    permissions: Sequence[str] = ALL_PERMS,
    *,
    exp_in: float = 120,
    claims: Mapping[str, Any] | None = None,
    drop: Iterable[str] = (),
    header: Mapping[str, Any] | None = None,
    kid: str | None = "",
    algorithm: str = "EdDSA",
    signing_key: Any = None,
) -> str:
    """Sign a JWT as in §13.3/§13.7; the keyword arguments bend it for negative tests."""
    payload: dict[str, Any] = {
        "res": {"os:usecase": usecase, **dict(scopes or {})},
        "permissions": list(permissions),
        "exp": int(time.time() + exp_in),
    }
    payload.update(claims or {})
    for name in drop:
        payload.pop(name, None)
    headers: dict[str, Any] = {}
    if kid == "":
        headers["kid"] = key.kid
    elif kid is not None:
        headers["kid"] = kid
    headers.update(header or {})
    secret = signing_key if signing_key is not None else key.private_pem
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def set_trailing_bits(signature: str) -> str:
    """The same bytes with a non-zero unused bit in the last character (non-canonical).

    A 64-byte Ed25519 signature is 86 characters whose last one carries 4 unused bits; a
    lenient decoder drops them, the server's decoder refuses them (§13.3, §13.6).
    """
    last = _B64URL.index(signature[-1])
    assert last & 0b1111 == 0, "expected a canonical signature"
    return signature[:-1] + _B64URL[last | 1]


def canonical_query(raw_query: str) -> str:
    """The third line of the §13.6 canonical string for a raw (still encoded) query."""
    pieces = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, eq, value = piece.partition("=")
        name = name.lower()
        if name == "os_sig":
            continue
        pieces.append(f"{name}={value}" if eq else name)
    return "&".join(sorted(pieces))


def canonical_string(method: str, raw_path: str, raw_query: str) -> str:
    """The §13.6 canonical string: method (HEAD as GET), raw path, canonical query."""
    method = method.upper()
    if method == "HEAD":
        method = "GET"
    return "\n".join([method, raw_path, canonical_query(raw_query)])


def presign_ts(when: datetime) -> str:
    """`os_timestamp` in the recommended `YYYY-MM-DDTHH:MM:SSZ` form."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def presign(
    key: SigningKey,
    method: str,
    raw_path: str,
    *,
    timestamp: str | None = None,
    duration: int | str = 300,
    extra: Sequence[str] = (),
    canonical: str | None = None,
    params: Sequence[str] | None = None,
    sign_with: Ed25519PrivateKey | None = None,
) -> str:
    """A presigned request target (`path?query`) per §13.6.

    `extra` pieces are placed before the os_* parameters (and signed). `params` replaces the
    os_kid/os_timestamp/os_duration pieces entirely. `canonical` signs that string instead of
    the correct canonical string.
    """
    if timestamp is None:
        timestamp = presign_ts(datetime.now(UTC))
    if params is None:
        params = [f"os_kid={key.kid}", f"os_timestamp={timestamp}", f"os_duration={duration}"]
    query = "&".join([*extra, *params])
    text = canonical if canonical is not None else canonical_string(method, raw_path, query)
    signer = sign_with if sign_with is not None else key.private_key()
    sig = b64url(signer.sign(text.encode("utf-8")))
    return f"{raw_path}?{query}&os_sig={sig}"


def scopes_of(raw_scopes: str) -> dict[str, str]:
    """A lenient parse of a raw scopes segment, for building a token that covers it."""
    decoded = unquote(raw_scopes)
    if decoded == "_":
        return {}
    result: dict[str, str] = {}
    for piece in decoded.split(";"):
        name, eq, value = piece.partition("=")
        if not eq:
            continue
        result[name] = value if result.get(name, value) == value else "*"
    return result


def usecase_and_scopes(raw_path: str) -> tuple[str, dict[str, str]]:
    """The usecase and scopes a `/v1/...` request path addresses (lenient, for signing)."""
    path = raw_path.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) < 5 or parts[1] != "v1":
        return "", {}
    return unquote(parts[3]), scopes_of(parts[4])


@dataclass
class Api:
    """Calls one server on behalf of one test, in a usecase of its own."""

    target: Target
    usecase: str = field(default_factory=lambda: f"conf-{uuid.uuid4().hex[:16]}")
    scopes: str = DEFAULT_SCOPES

    # -- paths -----------------------------------------------------------------------------

    def path(
        self,
        key: str | None = None,
        *,
        route: str = "objects",
        usecase: str | None = None,
        scopes: str | None = None,
        raw_key: str | None = None,
    ) -> str:
        """`/v1/<route>/<usecase>/<scopes>/<key>`; the key is encoded per §2.6 unless raw.

        With neither `key` nor `raw_key`, the collection path with a trailing slash.
        """
        u = quote(self.usecase if usecase is None else usecase, safe=_PATH_SAFE.replace("/", ""))
        s = self.scopes if scopes is None else scopes
        k = raw_key if raw_key is not None else ("" if key is None else enc(key))
        return f"/v1/{route}/{u}/{s}/{k}"

    # -- auth ------------------------------------------------------------------------------

    def require_auth(self) -> SigningKey:
        """The main signing key; skips the test when the target does not enforce auth."""
        if self.target.main is None:
            pytest.skip("external server without OBJECTSTORE_TEST_KID: auth assumed disabled")
        return self.target.main

    def key(self, which: str) -> SigningKey:
        """The signing key `main`, `readonly` or `noperm`; skips if the target lacks it."""
        self.require_auth()
        found: SigningKey | None = getattr(self.target, which)
        if found is None:
            env = f"OBJECTSTORE_TEST_{which.upper()}_KID"
            pytest.skip(f"{env} not set for the external server")
        return found

    def token(
        self,
        usecase: str | None = None,
        scopes: Mapping[str, str] | None = None,
        permissions: Sequence[str] = ALL_PERMS,
        *,
        which: str = "main",
        **kwargs: Any,
    ) -> str:
        """A token for this test's usecase and scopes (or the given ones)."""
        key = self.key(which)
        if usecase is None:
            usecase = self.usecase
        if scopes is None:
            scopes = scopes_of(self.scopes)
        return make_token(key, usecase, scopes, permissions, **kwargs)

    def auth_headers(
        self, path: str, permissions: Sequence[str] = ALL_PERMS, which: str = "main"
    ) -> list[tuple[str, str]]:
        """An `x-os-auth` header with a token covering exactly the usecase/scopes of `path`."""
        if not self.target.auth:
            return []
        usecase, scopes = usecase_and_scopes(path)
        return [("x-os-auth", "Bearer " + self.token(usecase, scopes, permissions, which=which))]

    # -- requests --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        headers: Headers | None = None,
        body: bytes | None = None,
        *,
        auth: bool = True,
        permissions: Sequence[str] = ALL_PERMS,
        which: str = "main",
        **kwargs: Any,
    ) -> Response:
        """One request; unless `auth=False`, a token for the addressed namespace is added."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        if auth:
            pairs = self.auth_headers(path, permissions, which) + pairs
        return _wire.request(
            self.target.host, self.target.port, method, path, pairs, body, **kwargs
        )

    def put(
        self, key: str, body: bytes = b"", headers: Headers | None = None, **kw: Any
    ) -> Response:
        return self.request("PUT", self.path(key, **_path_kw(kw)), headers, body, **kw)

    def post(self, body: bytes = b"", headers: Headers | None = None, **kw: Any) -> Response:
        return self.request("POST", self.path(**_path_kw(kw)), headers, body, **kw)

    def get(self, key: str, headers: Headers | None = None, **kw: Any) -> Response:
        return self.request("GET", self.path(key, **_path_kw(kw)), headers, **kw)

    def head(self, key: str, headers: Headers | None = None, **kw: Any) -> Response:
        return self.request("HEAD", self.path(key, **_path_kw(kw)), headers, **kw)

    def delete(self, key: str, headers: Headers | None = None, **kw: Any) -> Response:
        return self.request("DELETE", self.path(key, **_path_kw(kw)), headers, **kw)

    def put_ok(
        self, key: str, body: bytes = b"", headers: Headers | None = None, **kw: Any
    ) -> Response:
        """PUT that must succeed (setup step)."""
        resp = self.put(key, body, headers, **kw)
        assert resp.status == 200, resp
        return resp


def _path_kw(kw: dict[str, Any]) -> dict[str, Any]:
    """Move the path-building keyword arguments out of a request's keyword arguments."""
    return {name: kw.pop(name) for name in ("usecase", "scopes", "raw_key") if name in kw}


# -- assertions ----------------------------------------------------------------------------


def assert_json_error(resp: Response, status: int, detail: str | None = None) -> dict[str, Any]:
    """A §4.1 JSON error: status, content type, `detail` string, `causes` omitted when empty."""
    assert resp.status == status, resp
    assert resp.header("content-type") == JSON, resp
    assert resp.header("content-length") == str(len(resp.body)), resp
    doc = resp.json()
    assert isinstance(doc, dict), resp
    assert set(doc) <= {"detail", "causes"}, doc
    assert isinstance(doc["detail"], str), doc
    if "causes" in doc:
        assert isinstance(doc["causes"], list), doc
        assert doc["causes"], "empty causes must be omitted (§4.1)"
        assert all(isinstance(c, str) for c in doc["causes"]), doc
    if detail is not None:
        assert doc["detail"] == detail, doc
    return doc


METADATA_ERROR_0_2_0 = "service error: metadata error"
INVALID_METADATA = "client error: invalid metadata"


def assert_metadata_error(
    api: Api, resp: Response, cause: str | None = None, *, cause_0_2_0: str | None = None
) -> dict[str, Any]:
    """A 400 for invalid metadata, in the target version's shape (§4.1, §5.1).

    0.2.0: `service error: metadata error: <cause>`. Current: `client error: invalid
    metadata` with the cause among `causes` (the exact chain is not pinned by the sources).
    """
    doc = assert_json_error(resp, 400)
    if api.target.current:
        assert doc["detail"] == INVALID_METADATA, doc
        if cause is not None:
            assert any(cause in c for c in doc.get("causes", [])), doc
    else:
        expected = cause_0_2_0 or cause
        if expected is None:
            assert doc["detail"].startswith(METADATA_ERROR_0_2_0), doc
        else:
            assert doc["detail"] == f"{METADATA_ERROR_0_2_0}: {expected}", doc
    return doc


def assert_text_error(resp: Response, status: int, prefix: str) -> None:
    """A §4.2 plain-text framework error."""
    assert resp.status == status, resp
    assert resp.header("content-type") == TEXT_PLAIN, resp
    assert resp.text.startswith(prefix), resp


def assert_empty(resp: Response, status: int) -> None:
    """A §4.3 empty-bodied response."""
    assert resp.status == status, resp
    assert resp.body == b"", resp
    assert not resp.has("content-type"), resp


def uniq(prefix: str = "k") -> str:
    """A random object key."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def now() -> datetime:
    return datetime.now(UTC)


def within(a: datetime, b: datetime, seconds: float) -> bool:
    return abs(a - b) <= timedelta(seconds=seconds)


def json_body(doc: Any) -> bytes:
    return json.dumps(doc).encode()
