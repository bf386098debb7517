"""A Python client for Objectstore, Sentry's blob storage service.

Drop-in compatible with objectstore-client 0.0.19::

    from objectstore_client import Client, Usecase

    client = Client("http://localhost:8888")
    session = client.session(Usecase("attachments"), org=42, project=1337)
    key = session.put(b"Hello, world!")
    with session.get(key) as result:
        content = result.payload.read()
    session.delete(key)

The local server for tests lives in `objectstore_client.testing`.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from objectstore_client._version import __version__ as __version__
from objectstore_client.auth import Permission, SecretKey, TokenGenerator, TokenProvider
from objectstore_client.errors import (
    ArgumentError,
    AuthError,
    BatchFailed,
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    DecodeError,
    EndpointNotFound,
    ExpiryExtensionRejected,
    ExpiryExtensionUnsupported,
    IntegrityError,
    InvalidArgument,
    InvalidArgumentType,
    ObjectNotFound,
    ObjectstoreError,
    PermissionDenied,
    ProtocolError,
    RangeNotSatisfiable,
    RateLimited,
    RequestError,
    ServerError,
    TransportError,
    TransportTimeout,
    Unauthenticated,
    UnsupportedCompression,
)
from objectstore_client.metadata import (
    Compression,
    ExpirationPolicy,
    Manual,
    Metadata,
    TimeToIdle,
    TimeToLive,
)
from objectstore_client.metrics import MetricsBackend, NoOpMetricsBackend
from objectstore_client.progress import Progress, ProgressCallback
from objectstore_client.scope import Scope
from objectstore_client.usecase import Usecase
from objectstore_client.utils import parse_accept_encoding

if _typing.TYPE_CHECKING:
    from objectstore_client.client import Client, GetResponse, Session

# Names whose modules are imported on first use: the client brings urllib3 (and the
# request pipeline) with it, so a program that only imports the package, or only its
# errors and metadata types, does not pay for them. `from objectstore_client import
# Client` works as always.
_LAZY = {
    "Client": "objectstore_client.client",
    "GetResponse": "objectstore_client.client",
    "Session": "objectstore_client.client",
}

__all__ = [
    "ArgumentError",
    "AuthError",
    "BatchFailed",
    "Client",
    "Compression",
    "ConnectError",
    "ConnectTimeout",
    "DeadlineExceeded",
    "DecodeError",
    "EndpointNotFound",
    "ExpirationPolicy",
    "ExpiryExtensionRejected",
    "ExpiryExtensionUnsupported",
    "GetResponse",
    "IntegrityError",
    "InvalidArgument",
    "InvalidArgumentType",
    "Manual",
    "Metadata",
    "MetricsBackend",
    "NoOpMetricsBackend",
    "ObjectNotFound",
    "ObjectstoreError",
    "Permission",
    "PermissionDenied",
    "Progress",
    "ProgressCallback",
    "ProtocolError",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestError",
    "Scope",
    "SecretKey",
    "ServerError",
    "Session",
    "TimeToIdle",
    "TimeToLive",
    "TokenGenerator",
    "TokenProvider",
    "TransportError",
    "TransportTimeout",
    "Unauthenticated",
    "UnsupportedCompression",
    "Usecase",
    "parse_accept_encoding",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
