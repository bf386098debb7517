"""Authentication and authorization of the real server (protocol §13), with its exact outcomes.

JWTs are verified by hand (not with a JWT library) so that the order of checks, and so
which of 400/401/403 a broken token gets, is exactly the server's (§13.3).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from objectstore_client._protocol import decimal
from objectstore_client.testing._config import PERMISSIONS, AuthKey, ConfigError
from objectstore_client.testing._httparse import is_visible_text

logger = logging.getLogger(__name__)

JWT_LEEWAY = 60
PRESIGN_MAX_SECONDS = 604_800
PRESIGN_SKEW = 60
READ = "object.read"
_PRESIGN_PARAMS = ("os_kid", "os_timestamp", "os_duration", "os_sig")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|\+00:00)?"
)


class AuthFailure(Exception):
    """An authentication or authorization failure.

    `chain` is the message chain after `auth error: `, e.g. `("bad request", "No
    authorization token provided")`.
    """

    def __init__(self, status: int, *chain: str) -> None:
        super().__init__(": ".join(chain))
        self.status = status
        self.chain = chain


@dataclass(frozen=True)
class Grant:
    """What a verified request may do. `None` fields mean "anything" (auth disabled)."""

    permissions: frozenset[str] | None = None
    usecase: str | None = None
    scopes: Mapping[str, str] | None = None
    presigned: bool = False
    enforced: bool = True
    """False with `auth.enforce = false`: failures are logged, not raised (protocol §13.1)."""

    def check(self, permission: str, usecase: str, scopes: tuple[tuple[str, str], ...]) -> None:
        """Raises 403 unless the operation is covered (protocol §13.4, §13.6 step 8)."""
        if self.permissions is None:
            return
        try:
            self._check(permission, usecase, scopes)
        except AuthFailure as failure:
            if self.enforced:
                raise
            logger.warning("authorization failure not enforced: %s", failure)

    def _check(self, permission: str, usecase: str, scopes: tuple[tuple[str, str], ...]) -> None:
        if self.permissions is None or permission not in self.permissions:
            raise AuthFailure(403, "operation not allowed")
        if self.presigned:
            return  # the signature binds the path; no usecase or scope check
        if self.usecase != usecase:
            raise AuthFailure(403, "operation not allowed")
        assert self.scopes is not None
        for name, value in scopes:
            granted = self.scopes.get(name)
            if granted is None or (granted != value and granted != "*"):
                raise AuthFailure(403, "operation not allowed")


ALLOW_ALL = Grant()


class Verifier:
    """Verifies tokens and presigned URLs against the configured keys."""

    def __init__(self, keys: Mapping[str, AuthKey], enforce: bool) -> None:
        self._keys = {
            kid: ([_load_key(pem, kid) for pem in key.public_keys], key.max_permissions)
            for kid, key in keys.items()
        }
        self._active = bool(keys)
        self._enforce = enforce

    def authenticate(self, method: str, path: str, query: str | None, headers: Headers) -> Grant:
        """Stage 3 of §3: find and verify credentials. Raises `AuthFailure` when enforced."""
        if not self._active:
            return ALLOW_ALL
        try:
            grant = self._authenticate(method, path, query, headers)
            return grant if self._enforce else replace(grant, enforced=False)
        except AuthFailure as failure:
            if self._enforce:
                raise
            logger.warning("auth failure not enforced: %s", failure)
            return ALLOW_ALL

    def _authenticate(self, method: str, path: str, query: str | None, headers: Headers) -> Grant:
        pieces = query.split("&") if query else []
        if any(p.split("=", 1)[0] == "os_sig" for p in pieces):
            return self._presigned(method, path, pieces)
        token = _header_token(headers)
        if token is None:
            values = [unquote_plus(p.split("=", 1)[1]) for p in pieces if _name(p) == "os_auth"]
            if len(values) > 1:
                raise AuthFailure(400, "bad request", "invalid query string")
            token = values[0] if values else None
        if token is None:
            # One cause only: the bad-request text is the innermost message (protocol §4.1).
            raise AuthFailure(400, "bad request: No authorization token provided")
        return self._verify_jwt(token)

    def _verify_jwt(self, token: str) -> Grant:
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthFailure(401, "failed to decode token", "InvalidToken")
        try:
            header = json.loads(_b64decode(parts[0]))
        except (ValueError, binascii.Error):
            raise AuthFailure(401, "failed to decode token", "InvalidToken") from None
        if not isinstance(header, dict):
            raise AuthFailure(401, "failed to decode token", "InvalidToken")
        if "alg" not in header:
            # The header struct requires `alg`, so it fails to decode before `kid` is looked
            # at: `e30.e30.e30` (all `{}`) is a 401, not the missing-kid 400 (protocol §13.3).
            raise AuthFailure(
                401, "failed to decode token", "JSON error: missing field `alg` at line 1 column 2"
            )
        kid = header.get("kid")
        if kid is None:
            raise AuthFailure(400, "bad request", "JWT header is missing `kid` field")
        entry = self._keys.get(kid) if isinstance(kid, str) else None
        if entry is None:
            raise AuthFailure(401, "unknown key")
        if header.get("alg") != "EdDSA":
            raise AuthFailure(401, "failed to decode token", "InvalidAlgorithm")
        public_keys, max_permissions = entry
        try:
            signature = _b64decode(parts[2])
        except (ValueError, binascii.Error):
            raise AuthFailure(401, "failed to decode token", "InvalidSignature") from None
        signed = f"{parts[0]}.{parts[1]}".encode()
        if not any(_verifies(k, signature, signed) for k in public_keys):
            raise AuthFailure(401, "failed to verify token")
        try:
            claims = json.loads(_b64decode(parts[1]))
        except (ValueError, binascii.Error) as exc:
            raise AuthFailure(401, "failed to decode token", f"JSON error: {exc}") from None
        if not isinstance(claims, dict):
            raise AuthFailure(401, "failed to decode token", "JSON error: claims not an object")
        _check_standard_claims(claims)
        usecase, scopes, permissions = _resource_claims(claims)
        return Grant(frozenset(permissions) & max_permissions, usecase, scopes)

    def _presigned(self, method: str, path: str, pieces: list[str]) -> Grant:
        # Verification order of protocol §13.6.
        if method not in ("GET", "HEAD"):
            raise AuthFailure(403, "presigned URLs are not supported for this method")
        invalid = AuthFailure(400, "bad request", "presigned URL has missing or invalid parameters")
        found: dict[str, str] = {}
        for piece in pieces:
            name, _, value = piece.partition("=")
            if name in _PRESIGN_PARAMS:
                if name in found:
                    raise invalid
                found[name] = unquote_plus(value)
        if set(found) != set(_PRESIGN_PARAMS):
            raise invalid
        timestamp = _parse_timestamp(found["os_timestamp"])
        duration_text = found["os_duration"]
        if timestamp is None or not duration_text.isdigit() or not duration_text.isascii():
            raise invalid
        try:
            signature = _b64decode(found["os_sig"], strict_unpadded=True, canonical=False)
        except (ValueError, binascii.Error):
            raise invalid from None
        entry = self._keys.get(found["os_kid"])
        if entry is None:
            raise AuthFailure(401, "unknown key")
        duration = decimal(duration_text) or 0  # digits, checked above
        if duration > PRESIGN_MAX_SECONDS:
            raise AuthFailure(
                400, "bad request", "presigned URL validity exceeds the maximum of 1 week"
            )
        now = datetime.now(UTC)
        start = timestamp - timedelta(seconds=PRESIGN_SKEW)
        if not start <= now <= timestamp + timedelta(seconds=duration):
            raise AuthFailure(401, "failed to verify token")
        canonical = canonical_request(method, path, "&".join(pieces))
        public_keys, max_permissions = entry
        if not _canonical(signature, found["os_sig"]) or not any(
            _verifies(k, signature, canonical.encode()) for k in public_keys
        ):
            raise AuthFailure(401, "failed to verify token")
        if READ not in max_permissions:
            raise AuthFailure(403, "operation not allowed")
        return Grant(frozenset({READ}), presigned=True)


Headers = list[tuple[str, str]]


def canonical_request(method: str, raw_path: str, raw_query: str) -> str:
    """The string a presigned URL signs (protocol §13.6): method, raw path, canonical query."""
    # Deliberately independent of the SDK's presign module: the server checks the client, and
    # sharing the code would let one mistake pass on both sides.
    pieces = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        name = name.lower()
        if name == "os_sig":
            continue
        pieces.append(f"{name}={value}" if sep else name)
    pieces.sort(key=lambda p: p.encode())
    return "\n".join(
        ("GET" if method.upper() == "HEAD" else method.upper(), raw_path, "&".join(pieces))
    )


def _name(piece: str) -> str:
    return unquote_plus(piece.split("=", 1)[0])


def _header_token(headers: Headers) -> str | None:
    """`x-os-auth` if present (even when malformed), else `authorization` (protocol §13.2)."""
    for header in ("x-os-auth", "authorization"):
        value = next((v for k, v in headers if k == header), None)
        if value is None:
            continue
        if not is_visible_text(value):
            return None
        if len(value) > 7 and value[:6].lower() == "bearer" and value[6] == " ":
            return value[7:]
        return None
    return None


def _b64decode(text: str, strict_unpadded: bool = False, canonical: bool = True) -> bytes:
    if strict_unpadded and ("=" in text or not re.fullmatch(r"[A-Za-z0-9_-]*", text)):
        raise ValueError("not unpadded base64url")
    if not re.fullmatch(r"[A-Za-z0-9_-]*=*", text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    if canonical and not _canonical(data, text):
        # Non-zero bits past the last whole byte: the server's base64 decoder refuses them
        # rather than dropping them, so such a signature never verifies (protocol §13.3, §13.6).
        raise ValueError("non-canonical base64: trailing bits set")
    return data


def _canonical(data: bytes, text: str) -> bool:
    return base64.urlsafe_b64encode(data).rstrip(b"=") == text.rstrip("=").encode()


def _load_key(pem: str, kid: str) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ConfigError(f"auth.keys.{kid}: not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"auth.keys.{kid}: not an Ed25519 public key")
    return key


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _check_standard_claims(claims: dict[str, object]) -> None:
    if "exp" not in claims:
        raise AuthFailure(401, "failed to decode token", "Missing required claim: exp")
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise AuthFailure(401, "failed to decode token", "JSON error: invalid type for exp")
    if exp < datetime.now(UTC).timestamp() - JWT_LEEWAY:
        raise AuthFailure(401, "failed to decode token", "ExpiredSignature")
    if "aud" in claims and not _claim_matches(claims["aud"], {"objectstore"}):
        raise AuthFailure(401, "failed to decode token", "InvalidAudience")
    if "iss" in claims and not _claim_matches(claims["iss"], {"sentry", "relay"}):
        raise AuthFailure(401, "failed to decode token", "InvalidIssuer")


def _claim_matches(value: object, allowed: set[str]) -> bool:
    if isinstance(value, str):
        return value in allowed
    if isinstance(value, list):
        return any(isinstance(v, str) and v in allowed for v in value)
    return False


def _resource_claims(claims: dict[str, object]) -> tuple[str, dict[str, str], list[str]]:
    res = claims.get("res")
    if not isinstance(res, dict) or not all(isinstance(v, str) for v in res.values()):
        raise AuthFailure(401, "failed to decode token", "JSON error: invalid `res` claim")
    usecase = res.get("os:usecase")
    if not isinstance(usecase, str):
        raise AuthFailure(401, "failed to decode token", "JSON error: missing field `os:usecase`")
    permissions = claims.get("permissions")
    if not isinstance(permissions, list) or not all(
        isinstance(p, str) and p in PERMISSIONS for p in permissions
    ):
        raise AuthFailure(401, "failed to decode token", "JSON error: invalid `permissions`")
    scopes = {k: v for k, v in res.items() if k != "os:usecase"}
    return usecase, scopes, permissions


def _parse_timestamp(text: str) -> datetime | None:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _ = match.groups()
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    if fraction:
        value += timedelta(microseconds=int(fraction.ljust(9, "0")[:6]))
    return value
