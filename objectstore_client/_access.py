"""Access for external consumers: token URLs, presigned URLs and minted tokens.

Services and browsers that hold no signing key (Symbolicator, the web UI, tools) read
objects through what these functions hand out; `Session.object_url`,
`Session.presigned_object_url` and `Session.mint_token` document them. They only sign,
locally: none sends a request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from objectstore_client import _validation, presign
from objectstore_client._context import RequestContext
from objectstore_client._session_base import SessionBase
from objectstore_client.auth import Permission, TokenGenerator
from objectstore_client.errors import InvalidArgument

__all__ = ["SharingVerbs", "mint_token", "object_url", "presigned_object_url"]


def object_url(context: RequestContext, key: str, token_validity: timedelta | None) -> str:
    """The full URL of an object, with a read-only `os_auth` token if asked (see `Session`)."""
    checked_key = _validation.check_key(key)
    url = context.url(context.path(checked_key))
    if token_validity is None:
        return url
    seconds = _validation.check_url_validity(token_validity, "token_validity", presigned=False)
    token = _generator(context, "object_url(token_validity=...)").token_for_scope(
        context.usecase.name, context.scope, [Permission.OBJECT_READ], seconds
    )
    # A JWT is base64url parts joined by dots: nothing to escape in a query.
    return f"{url}?{presign.PARAM_AUTH}={token}"


def presigned_object_url(
    context: RequestContext, method: presign.PresignMethod, key: str, duration: timedelta
) -> str:
    """A presigned `GET`/`HEAD` URL of one object (see `Session.presigned_object_url`)."""
    checked_method = _validation.check_presign_method(method)
    checked_key = _validation.check_key(key)
    seconds = _validation.check_url_validity(duration, "duration")
    generator = _generator(context, "presigned_object_url")
    if Permission.OBJECT_READ not in generator.permissions:
        raise InvalidArgument(
            "token", "the key may not read (object.read), so it cannot presign a read"
        )
    path = presign.presigned_path(
        generator, checked_method, context.path(checked_key), seconds, datetime.now(UTC)
    )
    return context.url(path)


def mint_token(
    context: RequestContext, permissions: list[Permission] | None, expiry_seconds: int | None
) -> str:
    """A token for the context's usecase and scope (see `Session.mint_token`)."""
    token = context.token
    if isinstance(token, str) and permissions is None and expiry_seconds is None:
        return token
    return _generator(context, "mint_token").token_for_scope(
        context.usecase.name, context.scope, permissions, expiry_seconds
    )


def _generator(context: RequestContext, purpose: str) -> TokenGenerator:
    """The context's `TokenGenerator`; other tokens cannot sign (`InvalidArgument`)."""
    token = context.token
    if isinstance(token, TokenGenerator):
        return token
    has = "a static token string" if token else "no token"
    raise InvalidArgument(
        "token",
        f"{purpose} needs Client(token=SecretKey(...)) to sign with, but the client has {has}",
    )


class SharingVerbs(SessionBase):
    """The `Session` methods that hand out access to services without a key."""

    def object_url(self, key: str, token_validity: timedelta | None = None) -> str:
        """Returns the full URL of an object, for services that fetch it themselves.

        Uses the client's scheme, brackets IPv6 addresses and percent-encodes the key.
        Without `token_validity` the URL carries no token, as in objectstore-client
        0.0.19. With it, a read-only token for this session's whole scope, valid that
        long, travels in the `os_auth` query parameter (protocol §13.2): any HTTP client can
        then read (GET, HEAD) any object of the scope with the URL, until it expires.
        The server ignores `os_auth` when the request also has an auth header. Note that
        the server stores bytes as uploaded: a zstd-compressed object is served with
        `Content-Encoding: zstd`.

        Args:
            key: The object's key.
            token_validity: How long the embedded token is valid: more than zero,
                rounded up to whole seconds (the seven-day limit of presigned URLs does
                not apply to tokens). The server accepts it up to 60 s longer. `None`:
                no token.

        Raises:
            InvalidArgument: The key breaks a rule, `token_validity` is out of range, or
                the session's token is not a `TokenGenerator` (needed to sign) or may not
                read.
            InvalidArgumentType: `token_validity` is not a `timedelta`.
        """
        return object_url(self._context, key, token_validity)

    def presigned_object_url(
        self,
        method: presign.PresignMethod,
        key: str,
        duration: timedelta = timedelta(hours=1),
    ) -> str:
        """Returns a URL that lets anyone `GET` or `HEAD` one object for `duration`.

        The URL is signed with the session's key (protocol §13.6): no token is needed, any
        HTTP client can use it as it is (it must be sent verbatim), and a `GET`
        signature also serves `HEAD` and back. The server refuses other methods, other
        objects and changed URLs. It is valid from signing time (to the second) for
        `duration`, rounded up to whole seconds. The server also needs the key's
        `object.read` permission in its configuration. Experimental on the server.

        The signature covers the path as this client sends it, including the path of
        `base_url`: behind a proxy that strips that path the server sees another path
        and refuses the URL (401).

        Args:
            method: `"GET"` or `"HEAD"` (any case).
            key: The object's key.
            duration: Validity: more than zero and at most seven days. Default one hour.

        Raises:
            InvalidArgument: The method is not GET or HEAD, `duration` is out of range,
                the key breaks a rule, or the session's token is not a `TokenGenerator`
                (a `SecretKey`) that may read.
            InvalidArgumentType: An argument has the wrong type.
        """
        return presigned_object_url(self._context, method, key, duration)

    def mint_token(
        self, permissions: list[Permission] | None = None, expiry_seconds: int | None = None
    ) -> str:
        """Returns a token for this session's usecase and scope, to hand to another service.

        With a `TokenGenerator` (`SecretKey`) on the client, signs one with
        `token_for_scope`: `permissions` and `expiry_seconds` default to the generator's,
        and may only narrow its permissions. With a static token string and no
        arguments, returns that token unchanged (it cannot be re-scoped).

        Raises:
            InvalidArgument: The client has no token; or a static one and arguments
                were given; or `permissions` exceeds the generator's (escalation), or
                `expiry_seconds` is not positive.
            InvalidArgumentType: An argument has the wrong type.
        """
        return mint_token(self._context, permissions, expiry_seconds)
