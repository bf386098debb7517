"""What an endpoint handler sees: the request's `Context` and the server `Services` it may use.

Handlers (`_objects`, `_batch`, `_multipart`, ...) depend on this module only, never on
`_app`, which imports them to build its route table: the dependency points one way.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from objectstore_client.testing._auth import Grant
from objectstore_client.testing._config import ServerConfig
from objectstore_client.testing._duration import Policy
from objectstore_client.testing._fskeys import Access, FilesystemKeys
from objectstore_client.testing._http import Request
from objectstore_client.testing._storage import ObjectId, Storage
from objectstore_client.testing._upload_sessions import UploadSessions


class PolicyError(ValueError):
    """A write's expiration policy is not allowed for its usecase (protocol §9.6)."""


class Services(Protocol):
    """The server-wide services a handler may use (implemented by `_app.App`)."""

    @property
    def config(self) -> ServerConfig:
        """The server's settings."""

    @property
    def storage(self) -> Storage:
        """Where objects and multipart uploads live."""

    @property
    def fs_keys(self) -> FilesystemKeys | None:
        """The filesystem semantics' path index; `None` with production semantics."""

    @property
    def production(self) -> bool:
        """Whether the production backends' semantics apply (else the filesystem's)."""

    @property
    def current(self) -> bool:
        """Whether the server speaks today's protocol (`server_version="current"`)."""

    @property
    def upload_sessions(self) -> UploadSessions:
        """The resumable upload sessions (protocol §23)."""

    def now(self) -> datetime:
        """The current time (UTC), from the configured clock."""

    def backend_slot(self) -> AbstractContextManager[None]:
        """Holds one backend slot; raises the 429 `HTTPFailure` when none is free."""

    def try_backend_slot(self) -> bool:
        """Takes a backend slot without blocking; release it with `release_slot`."""

    def release_slot(self) -> None:
        """Releases a slot taken by `try_backend_slot`."""

    def take_rate_token(self) -> bool:
        """Consumes one request's worth of the rate limit; False when exhausted."""

    def check_policy(self, usecase: str, policy: Policy) -> None:
        """Raises `PolicyError` if the usecase's restrictions forbid `policy`."""

    def count_bytes(self, amount: int) -> None:
        """Adds to the `/keda` byte counter."""


@dataclass
class Context:
    """One object request after stages 1-6 of protocol §3: who asks, for what."""

    services: Services
    request: Request
    grant: Grant
    usecase: str
    scopes: tuple[tuple[str, str], ...]
    key: str
    time: datetime
    """When the request entered; on a current server rounded up to a whole second."""

    @property
    def current(self) -> bool:
        """Whether the server speaks today's protocol."""
        return self.services.current

    def now(self) -> datetime:
        """The time this request's writes and expiry decisions use.

        Today's server uses one request time for all of them (protocol §5.5); the 0.2.0
        release read the clock at each step.
        """
        return self.time if self.services.current else self.services.now()

    def oid(self, key: str | None = None, access: Access = "read") -> ObjectId:
        """The object `key` (default: the path's) names in this usecase and scope.

        With filesystem semantics the key is normalised as a path join would, and the
        backend's path conflicts raise its 500 (see `_fskeys`).
        """
        key = self.key if key is None else key
        fs_keys = self.services.fs_keys
        if fs_keys is not None:
            key = fs_keys.resolve((self.usecase, self.scopes), key, access)
        return ObjectId(self.usecase, self.scopes, key)

    def raw_oid(self, key: str | None = None) -> ObjectId:
        """The object id of `key` without any filesystem normalisation."""
        return ObjectId(self.usecase, self.scopes, self.key if key is None else key)

    def write_guard(self, oid: ObjectId) -> AbstractContextManager[object]:
        """Held around the swap of a write of `oid`.

        The filesystem semantics' path index re-checks its conflicts and records the file
        atomically with the swap.
        """
        if self.services.fs_keys is None:
            return nullcontext()
        return self.services.fs_keys.writing((oid.usecase, oid.scopes), oid.key)

    def delete_guard(self, oid: ObjectId) -> AbstractContextManager[object]:
        """Held around the removal of `oid`: the path index records it atomically."""
        if self.services.fs_keys is None:
            return nullcontext()
        return self.services.fs_keys.deleting((oid.usecase, oid.scopes), oid.key)

    def authorize(self, permission: str) -> None:
        """Stage 8's permission check; raises `AuthFailure` (403)."""
        self.grant.check(permission, self.usecase, self.scopes)
