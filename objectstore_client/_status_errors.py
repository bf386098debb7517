"""The errors for an error status, and the translation of a response into one.

`RequestError` and its subclasses, one per status the caller handles differently;
`error_class_for_status` (the one place where statuses map to classes) and
`raise_for_status`. All are public in `objectstore_client.errors`: a new status error goes
here, and into that module's `__all__` and tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from objectstore_client._error_base import ObjectstoreError
from objectstore_client._error_body import MAX_DETAIL_CHARS as _MAX_DETAIL_CHARS
from objectstore_client._error_body import body_text as _body_text
from objectstore_client._error_body import json_detail as _json_detail

if TYPE_CHECKING:  # urllib3 is imported on use: `import objectstore_client` does without it
    import urllib3

__all__ = [
    "AuthError",
    "EndpointNotFound",
    "ExpiryExtensionRejected",
    "ExpiryExtensionUnsupported",
    "MultipartCompleteError",
    "ObjectNotFound",
    "PermissionDenied",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestError",
    "ServerError",
    "Unauthenticated",
    "error_class_for_status",
    "raise_for_status",
]


class RequestError(ObjectstoreError):
    """The server answered with an error status.

    The constructor and attributes are those of objectstore-client 0.0.19.

    Args:
        message: Human-readable description; `str(error)` returns it.
        status: The HTTP status code.
        response: The response body decoded as text (often JSON `{"detail", "causes"}`).
    """

    # Appended to the message by `raise_for_status`: what the status means for the caller.
    _hint: ClassVar[str | None] = None

    def __init__(self, message: str, status: int, response: str) -> None:
        super().__init__(message)
        self.status = status
        self.response = response

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles `args` only, which holds just the message.
        return (type(self), (str(self.args[0]) if self.args else "", self.status, self.response))

    def __str__(self) -> str:
        # FileNotFoundError (a base of ObjectNotFound) would otherwise format errno fields.
        return str(self.args[0]) if self.args else ""

    @property
    def detail(self) -> str | None:
        """The server's `detail` message from a JSON error body, if there is one."""
        return _json_detail(self.response)


class ObjectNotFound(RequestError, FileNotFoundError):
    """404: the object does not exist or has expired (also a `FileNotFoundError`)."""


class EndpointNotFound(RequestError):
    """404 to an upload: no route at the path, so the base URL (its path) or usecase is wrong.

    Uploads never miss their object. Not an `ObjectNotFound`, so it is not taken for one.
    """

    _hint = "no Objectstore endpoint at this path: check the base URL's path and the usecase"


class AuthError(RequestError):
    """The server refused to authorize the request."""


class Unauthenticated(AuthError):
    """400 without a usable token, or 401: the token is missing, invalid or expired."""


class PermissionDenied(AuthError):
    """403: the token does not grant this operation, or a killswitch blocks it."""


class RateLimited(RequestError):
    """429: the server rate limited the request or was at capacity."""


class ServerError(RequestError):
    """5xx: the server failed to process the request."""


class ExpiryExtensionRejected(RequestError):
    """409 to `Session.extend_expiry`: the server refused to extend this object's expiry.

    The object never expires (no TTL or TTI policy), it changed while the deadline was
    being moved (try again), or it lacks the creation time a `from_creation` target needs.
    The object is not guaranteed to still exist.
    """


class ExpiryExtensionUnsupported(RequestError):
    """405 to `Session.extend_expiry`: the server has no endpoint to extend expiry.

    Servers before the extend-expiry endpoint (including the 0.2.0 release)
    answer its `PATCH` with 405 Method Not Allowed. On such servers the only way to change
    an object's expiration is to upload it again with a new `expiration_policy`.
    """

    _hint = (
        "this server does not support extending expiry; "
        "upload the object again with a new expiration_policy instead"
    )


class RangeNotSatisfiable(RequestError):
    """416: a byte range (named in the message) starts past the end of the stored bytes."""


class MultipartCompleteError(RequestError):
    """Completing a multipart upload failed; the server said so in its 200 answer's body.

    The completion answer's status is always 200 (protocol §11.4); the outcome is the JSON
    document that follows, here `{"error": {"code": ..., "message": ...}}`. Nothing was
    written and the upload stays open, so completing it again (with corrected parts) is
    possible. Names and attributes are those of objectstore-client 0.2.x.

    Args:
        code: The server's error code, e.g. `"InvalidPart"` or `"internal error"`.
        message: The server's description; also `response`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"Multipart upload completion failed ({code}): {message}", 200, message)
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.response))


def error_class_for_status(
    status: int, response: str = "", method: str | None = None
) -> type[RequestError]:
    """Returns the `RequestError` subclass for an error status.

    This is the one place where statuses map to exception classes.

    Args:
        status: An HTTP status code of 400 or more.
        response: The response body; a 400 whose JSON detail is an auth error maps to
            `Unauthenticated` (the server answers 400 when no token was sent).
        method: The request method. `PATCH` is only used to extend expiry, so a 405 to it
            means the server lacks that endpoint and a 409 that it refused the extension.
            A 404 to a `POST` is `EndpointNotFound` (`RequestContext.send` maps others').
    """
    if method == "PATCH" and status == 405:
        return ExpiryExtensionUnsupported
    if method == "PATCH" and status == 409:
        return ExpiryExtensionRejected
    if status == 404:
        # Every POST creates something (object, batch, upload): 404 means no such route.
        return EndpointNotFound if method == "POST" else ObjectNotFound
    if status == 401:
        return Unauthenticated
    if status == 400 and (_json_detail(response) or "").startswith("auth error"):
        return Unauthenticated
    if status == 403:
        return PermissionDenied
    if status == 429:
        return RateLimited
    if status == 416:
        return RangeNotSatisfiable
    if status >= 500:
        return ServerError
    return RequestError


def raise_for_status(
    response: urllib3.BaseHTTPResponse,
    method: str | None = None,
    *,
    error_type: type[RequestError] = RequestError,
) -> None:
    """Raises the matching `RequestError` if `response` has a status of 400 or more.

    Reads the rest of the response body to include it in the error. The signature of
    objectstore-client 0.0.19 is kept; `method` is optional and only improves the message.

    Args:
        response: A urllib3 response.
        method: The request method, named in the message when given.
        error_type: The class to raise (0.2.x's argument). The class chosen by
            `error_class_for_status` is raised if it is a subclass of `error_type` (so the
            default `RequestError` raises e.g. `ObjectNotFound` for a 404); otherwise
            `error_type` itself, as 0.2.x does.

    Raises:
        RequestError: An instance of `error_type`, as above.
    """
    status = response.status
    if status < 400:
        return
    body = _body_text(response)
    by_status = error_class_for_status(status, body, method)
    if issubclass(by_status, error_type):
        error_type = by_status
    target = " ".join(part for part in (method, (response.url or "").split("?")[0]) if part)
    message = f"{target or 'request'} failed with status {status}"
    if response.reason:
        message += f" {response.reason}"
    detail = _json_detail(body) or body.strip()
    if detail:
        if len(detail) > _MAX_DETAIL_CHARS:
            detail = detail[:_MAX_DETAIL_CHARS] + "..."
        message += f": {detail}"
    if error_type._hint:
        message += f" ({error_type._hint})"
    raise error_type(message, status, body)


# Public under `objectstore_client.errors`: tracebacks, pickles and docs name that path.
for _public in (
    RequestError,
    ObjectNotFound,
    EndpointNotFound,
    AuthError,
    Unauthenticated,
    PermissionDenied,
    RateLimited,
    ServerError,
    ExpiryExtensionRejected,
    ExpiryExtensionUnsupported,
    RangeNotSatisfiable,
    MultipartCompleteError,
    error_class_for_status,
    raise_for_status,
):
    _public.__module__ = "objectstore_client.errors"
