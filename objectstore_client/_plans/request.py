"""`RequestPlan`: one HTTP request of an operation, as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Literal

from objectstore_client._upload import UploadBody, prepare_body
from objectstore_client.metadata import Compression

__all__ = ["CREATING_OPERATIONS", "BodyPlan", "Endpoint", "RequestPlan"]

Endpoint = Literal[
    "objects",
    "objects:batch",
    "objects:multipart",
    "objects:multipart:parts",
    "objects:multipart:complete",
]
"""The first path segment after `/v1/` (protocol §2.1): which family of routes."""


CREATING_OPERATIONS = frozenset({"put", "multipart.initiate", "resumable.create"})
"""Operations that create an object (protocol §6.1, §6.2, §11.1, §23.2): a 404 answer to
them cannot mean a missing object, only a path the server has no route for."""


@dataclass(frozen=True, slots=True)
class BodyPlan:
    """What an upload sends: the caller's contents and the compression to apply on the way."""

    contents: bytes | bytearray | memoryview | IO[bytes]
    """Validated contents: bytes-like, or a readable binary file object."""

    compression: Compression
    """`"zstd"` to compress while sending, `"none"` to send the contents as they are."""

    def prepare(self) -> UploadBody:
        """Wraps the contents for sending (compressing bytes-like contents now)."""
        return prepare_body(self.contents, self.compression)


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """One request, decided without I/O; `RequestContext.send` executes it.

    The path is `<base path>/v1/<endpoint>/<usecase>/<scope>/<key>`, built by the context,
    which knows the base path, usecase and scope.
    """

    operation: str
    """The operation this request serves; names its span and `storage.<operation>.*` metrics."""

    method: str
    """The HTTP method."""

    key: str | None
    """The object key, or `None` for the usecase+scope collection (path ending in `/`)."""

    headers: Mapping[str, str] = field(default_factory=dict)
    """Operation headers; the context adds the user agent, auth and trace headers."""

    body: BodyPlan | None = None
    """The request body, if any."""

    query: tuple[tuple[str, str], ...] = ()
    """Query parameters, in order; values are percent-encoded when sent."""

    endpoint: Endpoint = "objects"
    """The route family (protocol §2.1)."""

    idempotent: bool | None = None
    """Whether the request may be replayed; `None` decides by method (see `_retry`)."""

    stream: bool = False
    """Leave the response body unread for the caller (downloads)."""
