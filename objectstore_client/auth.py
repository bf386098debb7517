"""Authentication: EdDSA-signed JWTs (protocol §13), static tokens, presigned URL signatures."""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.scope import Scope

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Permission", "SecretKey", "TokenGenerator", "TokenProvider"]

# Cached tokens are re-signed once less than this share of their lifetime remains, and
# never later than _MIN_REMAINING_SECONDS before they expire.
_REFRESH_FRACTION = 0.25
_MIN_REMAINING_SECONDS = 5.0
# One token per (usecase, scope, permissions); bounded because a service may touch
# millions of scopes (one per organization and project).
_MAX_CACHED_TOKENS = 1024


class Permission(StrEnum):
    """A permission an Objectstore token may grant."""

    OBJECT_READ = "object.read"
    OBJECT_WRITE = "object.write"
    OBJECT_DELETE = "object.delete"

    @classmethod
    def max(cls) -> list[Self]:
        """Returns every permission: read, write and delete."""
        return list(cls.__members__.values())


class TokenGenerator:
    """Signs JWTs for Objectstore requests with an Ed25519 private key.

    Also available as `SecretKey`, its name since objectstore-client 0.1.14; both names
    are the same class.

    Pass it as `Client(token=...)` and every request carries a token limited to the
    usecase and scope it accesses. The key is parsed once, here. Tokens are cached per
    (usecase, scope, permissions) and signed again when less than a quarter of their
    lifetime (at least 5 seconds) remains, so a request never carries an expired token.
    Safe to share between threads.

    It also signs tokens to hand to services that hold no key (`token_for_scope`,
    `Session.mint_token`, `Session.object_url`) and presigned URLs
    (`signature_for_canonical_form`, `Session.presigned_object_url`). The permissions
    given here are the most any of them may carry.

    Tokens have the header `{"alg": "EdDSA", "typ": "JWT", "kid": kid}` and the claims
    `res` (`os:usecase` and every scope component as a string), `permissions` and `exp`.

    Args:
        kid: The key id the server knows the matching public key under.
        secret_key: The Ed25519 private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
        expiry_seconds: Lifetime of each token in seconds.
        permissions: Permissions to request; `None` means all of them.

    Raises:
        InvalidArgument: `secret_key` is not an Ed25519 private key in PKCS#8 PEM form,
            `kid` is empty, `expiry_seconds` is not positive, or a permission is unknown.
        InvalidArgumentType: An argument has the wrong type.
    """

    def __init__(
        self,
        kid: str,
        secret_key: str,
        expiry_seconds: int = 60,
        permissions: list[Permission] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, ...], tuple[str, float]] = OrderedDict()
        self.kid = kid
        self.secret_key = secret_key
        self.expiry_seconds = expiry_seconds
        self.permissions = permissions if permissions is not None else Permission.max()

    # The lock, the token cache and the parsed key cannot be pickled and must not be
    # shared by copies: a copy whose key or permissions change would hand out the
    # original's cached tokens. State is the settings (the PEM, not the parsed key).
    _UNSHARED = ("_lock", "_cache", "_private_key")

    def __getstate__(self) -> dict[str, Any]:
        """Returns the settings (kid, PEM key, expiry, permissions), without the cache."""
        return {k: v for k, v in self.__dict__.items() if k not in self._UNSHARED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restores the settings, with a fresh lock and cache, and parses the key again."""
        self.__dict__.update(state)
        permissions: list[Permission] = list(state["_permissions"])
        self._permissions = permissions
        self._lock = threading.Lock()
        self._cache = OrderedDict()
        self._private_key = _load_private_key(state["_secret_key"])

    def __copy__(self) -> Self:
        """Returns a generator with the same settings and an empty token cache of its own."""
        copied = type(self).__new__(type(self))
        copied.__setstate__(self.__getstate__())
        return copied

    @property
    def kid(self) -> str:
        """The key id, sent in the token header."""
        return self._kid

    @kid.setter
    def kid(self, kid: str) -> None:
        if not isinstance(kid, str):
            raise InvalidArgumentType("kid", f"must be a str, got {type(kid).__name__}")
        if not kid:
            raise InvalidArgument("kid", "must not be empty")
        self._kid = kid

    @property
    def secret_key(self) -> str:
        """The private key PEM; assigning a new one validates it and drops cached tokens."""
        return self._secret_key

    @secret_key.setter
    def secret_key(self, secret_key: str) -> None:
        self._private_key = _load_private_key(secret_key)
        self._secret_key = secret_key
        with self._lock:
            self._cache.clear()

    @property
    def expiry_seconds(self) -> int:
        """Lifetime of each token in seconds."""
        return self._expiry_seconds

    @expiry_seconds.setter
    def expiry_seconds(self, expiry_seconds: int) -> None:
        self._expiry_seconds = _check_expiry_seconds(expiry_seconds)

    @property
    def permissions(self) -> list[Permission]:
        """The permissions each token requests."""
        return self._permissions

    @permissions.setter
    def permissions(self, permissions: list[Permission]) -> None:
        self._permissions = _check_permissions(permissions)

    def token_for_scope(
        self,
        usecase: str,
        scope: Scope,
        permissions: list[Permission] | None = None,
        expiry_seconds: int | None = None,
    ) -> str:
        """Signs a token for `usecase` and `scope`, to hand to a service that holds no key.

        The server accepts it for requests to `usecase` whose scope components all
        appear in `scope` (protocol §13.4), with the given permissions, for `expiry_seconds`
        from now (plus the server's 60 s leeway). Every call returns a token valid for
        its whole lifetime: one signed earlier in the same second is identical (Ed25519
        signatures are deterministic) and is reused, anything older is not. Also
        available under its earlier name, `sign_for_scope`.

        Args:
            usecase: The usecase name.
            scope: The scope the token is limited to.
            permissions: The permissions to grant; `None` grants this generator's. They
                must be among this generator's permissions.
            expiry_seconds: Lifetime in seconds; `None` uses this generator's.

        Raises:
            InvalidArgument: `permissions` asks for a permission this generator does not
                have (escalation), is unknown, or `expiry_seconds` is not positive.
            InvalidArgumentType: An argument has the wrong type.
        """
        if permissions is None:
            granted = self._permissions
        else:
            # Checked before anything else: a key restricted to reading must never sign
            # a token that writes.
            granted = _check_permissions(permissions)
            escalated = [p for p in granted if p not in self._permissions]
            if escalated:
                raise InvalidArgument(
                    "permissions",
                    f"{', '.join(escalated)} not granted to this key "
                    f"(it has {', '.join(self._permissions) or 'none'})",
                )
        lifetime = (
            self._expiry_seconds
            if expiry_seconds is None
            else _check_expiry_seconds(expiry_seconds)
        )
        return self._cached_token(usecase, scope, granted, lifetime, full_lifetime=True)

    # The name before objectstore-client 0.1.14, and in 0.0.19; called as there
    # (`usecase`, `scope`), it signs with this generator's permissions and expiry.
    sign_for_scope = token_for_scope

    def signature_for_canonical_form(self, canonical_form: str) -> str:
        """Signs a presigned URL's canonical form (see `presign.build_canonical_form`).

        Only Ed25519 keys can sign presigned URLs; the key was checked to be one when it
        was given.

        Returns:
            The Ed25519 signature as unpadded base64url, the value of `os_sig`.

        Raises:
            InvalidArgumentType: `canonical_form` is not a `str`.
        """
        if not isinstance(canonical_form, str):
            raise InvalidArgumentType(
                "canonical_form", f"must be a str, got {type(canonical_form).__name__}"
            )
        signature = self._private_key.sign(canonical_form.encode("utf-8"))
        return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")

    def token_for_request(self, usecase: str, scope: Scope) -> str:
        """Returns a token for a request to `usecase` and `scope`, from the cache if fresh.

        A new one is signed when less than a quarter of its lifetime (at least 5 seconds)
        remains, so it never expires in flight. Clients call this for every request.
        """
        return self._cached_token(
            usecase, scope, self._permissions, self._expiry_seconds, full_lifetime=False
        )

    def _cached_token(
        self,
        usecase: str,
        scope: Scope,
        permissions: list[Permission],
        expiry_seconds: int,
        *,
        full_lifetime: bool,
    ) -> str:
        """Returns a token from the cache if it is fresh enough, else signs and caches one.

        With `full_lifetime`, only a token as fresh as a new one is returned (signed in
        this second); otherwise any with more than the refresh margin left.
        """
        if not isinstance(usecase, str):
            raise InvalidArgumentType("usecase", f"must be a str, got {type(usecase).__name__}")
        if not isinstance(scope, Scope):
            raise InvalidArgumentType("scope", f"must be a Scope, got {type(scope).__name__}")
        cache_key = (usecase, str(scope), self._kid, str(expiry_seconds), *permissions)
        refresh_margin = max(_MIN_REMAINING_SECONDS, expiry_seconds * _REFRESH_FRACTION)
        now = time.time()
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None and (
                cached[1] >= int(now) + expiry_seconds
                if full_lifetime
                else cached[1] - now > refresh_margin
            ):
                self._cache.move_to_end(cache_key)
                return cached[0]
        token, expires = self._sign(usecase, scope, permissions, int(now) + expiry_seconds)
        with self._lock:
            self._cache[cache_key] = (token, expires)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > _MAX_CACHED_TOKENS:
                self._cache.popitem(last=False)
        return token

    def _sign(
        self, usecase: str, scope: Scope, permissions: list[Permission], expires: int
    ) -> tuple[str, float]:
        # `exp` is in whole seconds, as the claim is an integer; the server allows 60 s
        # leeway past it.
        claims = {
            "res": {"os:usecase": usecase, **{k: str(v) for k, v in scope.dict().items()}},
            "permissions": [str(p) for p in permissions],
            "exp": expires,
        }
        # Imported on first use: pyjwt and cryptography take longer to import than the
        # rest of the SDK, and most programs never sign a token.
        import jwt

        token = jwt.encode(claims, self._private_key, algorithm="EdDSA", headers={"kid": self._kid})
        return token, float(expires)


SecretKey = TokenGenerator
"""The name of `TokenGenerator` since objectstore-client 0.1.14; the same class."""

TokenProvider = TokenGenerator | str
"""How a `Client` authenticates: a `TokenGenerator`, or a pre-signed JWT used as is."""


def _load_private_key(secret_key: str) -> Ed25519PrivateKey:
    # Imported on first use (see `_sign`).
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if isinstance(secret_key, bytes):
        pem = secret_key
    elif isinstance(secret_key, str):
        pem = secret_key.encode("utf-8", "replace")
    else:
        raise InvalidArgumentType(
            "secret_key", f"must be a PEM string, got {type(secret_key).__name__}"
        )
    try:
        key = load_pem_private_key(pem.strip(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidArgument(
            "secret_key", "must be an unencrypted Ed25519 private key in PKCS#8 PEM form"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidArgument(
            "secret_key",
            f"must be an Ed25519 (EdDSA) private key, got {type(key).__name__.lstrip('_')}",
        )
    return key


def _check_expiry_seconds(expiry_seconds: object) -> int:
    if isinstance(expiry_seconds, bool) or not isinstance(expiry_seconds, int):
        raise InvalidArgumentType(
            "expiry_seconds", f"must be an int, got {type(expiry_seconds).__name__}"
        )
    if expiry_seconds <= 0:
        raise InvalidArgument("expiry_seconds", f"must be positive, got {expiry_seconds}")
    return expiry_seconds


def _check_permissions(permissions: object) -> list[Permission]:
    if isinstance(permissions, str) or not isinstance(permissions, list | tuple):
        raise InvalidArgumentType(
            "permissions", f"must be a list of Permission, got {type(permissions).__name__}"
        )
    checked = []
    for permission in permissions:
        try:
            checked.append(Permission(permission))
        except ValueError:
            raise InvalidArgument(
                "permissions",
                f"unknown permission {permission!r}; known: {', '.join(Permission)}",
            ) from None
    return checked
