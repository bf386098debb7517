"""The exceptions raised by objectstore-client.

Every exception the SDK raises on its own account derives from `ObjectstoreError`::

    ObjectstoreError
    ├── ArgumentError                  bad input, raised before any request is sent
    │   ├── InvalidArgument            (also ValueError) a value breaks a rule
    │   └── InvalidArgumentType        (also TypeError) a value has the wrong type
    ├── TransportError                 no usable HTTP response (wraps urllib3's exceptions)
    │   ├── ConnectError               could not connect; nothing was sent
    │   │   └── ConnectTimeout         (also TransportTimeout) connecting took too long
    │   ├── TransportTimeout           the server stopped sending or receiving in time
    │   │   └── DeadlineExceeded       the call's overall `deadline` passed
    │   └── ProtocolError              connection dropped, or a malformed response
    ├── RequestError                   the server answered with an error status (as in 0.0.19)
    │   ├── ObjectNotFound             (also FileNotFoundError) 404: missing or expired
    │   ├── EndpointNotFound           404 to an upload: wrong base URL or usecase
    │   ├── AuthError                  the request was not authorized
    │   │   ├── Unauthenticated        400 without a usable token, 401 invalid token
    │   │   └── PermissionDenied       403: token lacks permission, or a killswitch
    │   ├── RateLimited                429: rate limited or server at capacity
    │   ├── ServerError                5xx
    │   ├── ExpiryExtensionRejected    409 to extend_expiry: the object never expires
    │   ├── ExpiryExtensionUnsupported 405 to extend_expiry: the server predates it
    │   ├── MultipartCompleteError     completing a multipart upload failed (its answer is 200)
    │   └── RangeNotSatisfiable        416: a requested byte range starts past the end
    ├── BatchFailed                    `BatchResults.error_for_failures`: operations failed
    ├── DecodeError                    a downloaded payload could not be decoded
    │   └── UnsupportedCompression     (also NotImplementedError) unknown content encoding
    └── IntegrityError                 what came back does not match what was sent or announced

Errors raised by the caller's own upload stream (for example an `OSError` from a file) are
not wrapped: they propagate unchanged.

`RequestError(message, status, response)` keeps the constructor, attributes and import
paths of objectstore-client 0.0.19 (`objectstore_client.RequestError`,
`objectstore_client.client.RequestError`); `response` is the response body as text.
Messages name the HTTP method, the URL path and the status; they never contain a token.
All exceptions can be pickled, so they cross process boundaries intact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from objectstore_client._error_body import MAX_DETAIL_CHARS as _MAX_DETAIL_CHARS
from objectstore_client._error_body import body_text as _body_text
from objectstore_client._error_body import json_detail as _json_detail

if TYPE_CHECKING:  # urllib3 is imported on use: `import objectstore_client` does without it
    import urllib3

__all__ = [
    "ArgumentError",
    "AuthError",
    "BatchFailed",
    "ConnectError",
    "ConnectTimeout",
    "DeadlineExceeded",
    "DecodeError",
    "EndpointNotFound",
    "ExpiryExtensionRejected",
    "ExpiryExtensionUnsupported",
    "IntegrityError",
    "InvalidArgument",
    "InvalidArgumentType",
    "MultipartCompleteError",
    "ObjectNotFound",
    "ObjectstoreError",
    "PermissionDenied",
    "ProtocolError",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestError",
    "ServerError",
    "TransportError",
    "TransportTimeout",
    "Unauthenticated",
    "UnsupportedCompression",
    "error_class_for_status",
    "raise_for_status",
]


class ObjectstoreError(Exception):
    """Base class of every exception raised by objectstore-client.

    An upload's errors carry `key`, the object's key, and `stored`: `False` if it provably
    was not stored (nothing reached the server, a 4xx refused it), `True` if it was, `None`
    if unknown (broken after sending, a 5xx, an untrusted answer). Elsewhere both `None`.
    """

    stored: bool | None = None
    key: str | None = None

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Whatever a subclass's __reduce__ keeps, the upload outcome crosses processes too.
        rebuild, args, *rest = cast(Any, self.__reduce__())
        outcome = {name: value for name, value in vars(self).items() if name in ("stored", "key")}
        state = {**(rest[0] or {}), **outcome} if rest else outcome
        return (rebuild, args, state, *rest[1:]) if outcome else (rebuild, args, *rest)


class ArgumentError(ObjectstoreError):
    """An argument was rejected before any request was sent.

    Attributes:
        argument: The name of the offending argument (e.g. `"key"`, `"scopes"`).
        rule: The rule it breaks, in words.
    """

    stored = False  # Raised before anything is sent.

    def __init__(self, argument: str, rule: str) -> None:
        super().__init__(f"invalid {argument}: {rule}")
        self.argument = argument
        self.rule = rule

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.argument, self.rule))


class InvalidArgument(ArgumentError, ValueError):
    """An argument has an acceptable type but breaks a rule (a `ValueError`)."""


class InvalidArgumentType(ArgumentError, TypeError):
    """An argument has a type the SDK does not accept (a `TypeError`)."""


class TransportError(ObjectstoreError):
    """No usable HTTP response was received; the cause is chained as `__cause__`.

    The errors the SDK raises for network failures are created by `from_urllib3`, so they
    are also instances of the urllib3 exceptions objectstore-client 0.2.x let through for
    the same failure (see there): handlers written for it keep working.
    """

    @classmethod
    def from_urllib3(cls, message: str, error: BaseException) -> Self:
        """A `cls` that is also urllib3's `error`, for 0.2.x handlers (`mirror_error`)."""
        from objectstore_client._urllib3_mirror import mirror_error

        return mirror_error(cls, message, error)


class ConnectError(TransportError):
    """The connection could not be established, so the request was not sent."""


class TransportTimeout(TransportError):
    """A socket operation timed out (connecting, sending the body or reading)."""


class DeadlineExceeded(TransportTimeout):
    """The call's overall `deadline` (see `Client`) passed before it completed."""


class ConnectTimeout(ConnectError, TransportTimeout):
    """Connecting took longer than the connect timeout; the request was not sent."""


class ProtocolError(TransportError):
    """The connection broke mid-request, or the response was not valid HTTP or JSON.

    When this is raised for a request with a body, the server may or may not have
    processed it.
    """


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


class BatchFailed(ObjectstoreError):
    """Raised by `BatchResults.error_for_failures` when operations of a batch failed.

    Attributes:
        errors: `(index, error)` for each failed operation, in the caller's order.
        total: How many operations the batch had.
    """

    def __init__(self, errors: list[tuple[int, ObjectstoreError | None]], total: int) -> None:
        first = f": operation {errors[0][0]}: {errors[0][1]}" if errors else ""
        super().__init__(f"{len(errors)} of {total} batch operations failed{first}")
        self.errors = errors
        self.total = total

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.total))


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


class DecodeError(ObjectstoreError):
    """A downloaded payload could not be decoded (for example corrupt zstd data)."""


class IntegrityError(ObjectstoreError):
    """What came back does not match what was sent or announced (e.g. a `PUT`'s key)."""


class UnsupportedCompression(DecodeError, NotImplementedError):
    """The object uses a content encoding this client cannot decompress.

    Also a `NotImplementedError`, which objectstore-client 0.0.19 raised in this case.
    Download with `decompress=False` to receive the stored bytes as they are.
    """


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
