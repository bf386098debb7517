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
from objectstore_client.auth import Permission, TokenGenerator
from objectstore_client.errors import InvalidArgument

__all__ = ["mint_token", "object_url", "presigned_object_url"]


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
