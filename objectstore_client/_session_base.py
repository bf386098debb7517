"""`SessionBase`: what every group of `Session` verbs shares: the request context.

`Session` is one class assembled from groups of verbs, each a subclass of `SessionBase` in
the module of its feature (`_access.SharingVerbs`, ...), so that no module outgrows its
concept. The state lives here, once: the session's `RequestContext`.
"""

from __future__ import annotations

from os import PathLike

from urllib3.connectionpool import HTTPConnectionPool

from objectstore_client import _retry
from objectstore_client._context import AuthHeader, RequestContext
from objectstore_client._missing import MissingMode
from objectstore_client._transport import Transport
from objectstore_client.auth import TokenProvider
from objectstore_client.metrics import MetricsBackend
from objectstore_client.scope import Scope
from objectstore_client.usecase import Usecase

__all__ = ["SessionBase"]


class SessionBase:
    """The state of a `Session`: its request context. See `Session` for the constructor."""

    def __init__(
        self,
        pool: HTTPConnectionPool,
        base_path: str,
        metrics_backend: MetricsBackend,
        propagate_traces: bool,
        usecase: Usecase,
        scope: Scope,
        token: TokenProvider | None = None,
        spool_dir: str | PathLike[str] | None = None,
        *,
        _context: RequestContext | None = None,
        _auth_header: AuthHeader = "authorization",
        _missing: MissingMode = "raise",
    ) -> None:
        # What `get` and `head` do about a missing object (`Client(missing=...)`).
        self._missing = _missing
        self._context = _context or RequestContext(
            transport=Transport(pool, _retry.replays_for_pool(pool.retries)),
            base_path=base_path,
            usecase=usecase,
            scope=scope,
            token=token,
            auth_header=_auth_header,
            metrics_backend=metrics_backend,
            propagate_traces=propagate_traces,
        )

    @property
    def usecase(self) -> Usecase:
        """The usecase this session operates in."""
        return self._context.usecase

    @property
    def scope(self) -> Scope:
        """The scope this session operates in."""
        return self._context.scope
