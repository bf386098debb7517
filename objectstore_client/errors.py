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

Every name here is public from this module. The status errors (`RequestError` and its
subclasses) and the translation of an error response into one (`error_class_for_status`,
`raise_for_status`) are defined in `_status_errors`, the base class in `_error_base`; a new
error goes into the module of its kind, and into `__all__` and the tree above.
"""

from __future__ import annotations

from typing import Any, Self

from objectstore_client._error_base import ObjectstoreError
from objectstore_client._status_errors import (
    AuthError,
    EndpointNotFound,
    ExpiryExtensionRejected,
    ExpiryExtensionUnsupported,
    MultipartCompleteError,
    ObjectNotFound,
    PermissionDenied,
    RangeNotSatisfiable,
    RateLimited,
    RequestError,
    ServerError,
    Unauthenticated,
    error_class_for_status,
    raise_for_status,
)

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


class DecodeError(ObjectstoreError):
    """A downloaded payload could not be decoded (for example corrupt zstd data)."""


class IntegrityError(ObjectstoreError):
    """What came back does not match what was sent or announced (e.g. a `PUT`'s key)."""


class UnsupportedCompression(DecodeError, NotImplementedError):
    """The object uses a content encoding this client cannot decompress.

    Also a `NotImplementedError`, which objectstore-client 0.0.19 raised in this case.
    Download with `decompress=False` to receive the stored bytes as they are.
    """
