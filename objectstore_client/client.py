"""`Client`: connecting to an Objectstore server.

Also re-exports, for code written against objectstore-client 0.0.19, `Usecase`, `Session`,
`GetResponse`, `RequestError` and `raise_for_status` from their modules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from types import TracebackType
from typing import Any, Generic, Self

import urllib3
from urllib3.connectionpool import HTTPConnectionPool

from objectstore_client import _retry, _validation
from objectstore_client._context import AuthHeader, RequestContext
from objectstore_client._missing import MissingT
from objectstore_client._pool import USER_AGENT, build_pool
from objectstore_client._retry import DEFAULT_RETRIES
from objectstore_client._transport import Transport
from objectstore_client.auth import Permission, SecretKey, TokenProvider
from objectstore_client.errors import (
    ExpiryExtensionRejected,
    InvalidArgumentType,
    ObjectNotFound,
    RequestError,
    raise_for_status,
)
from objectstore_client.metadata import (
    HEADER_EXPIRATION,
    HEADER_FILENAME,
    HEADER_META_PREFIX,
    HEADER_ORIGIN,
    Compression,
    ExpirationPolicy,
    Metadata,
    format_expiration,
    format_timedelta,
)
from objectstore_client.metrics import (
    MetricsBackend,
    NoOpMetricsBackend,
    measure_storage_operation,
)
from objectstore_client.multipart import MultipartUpload
from objectstore_client.presign import PARAM_AUTH
from objectstore_client.scope import Scope
from objectstore_client.session import GetResponse, Session
from objectstore_client.tracing import storage_span
from objectstore_client.usecase import Usecase

# 0.0.19's client module imported `HEADER_*`, `Metadata`, `format_expiration` and
# `measure_storage_operation` at module level, 0.2.x's also `SecretKey`, `Permission`,
# `ObjectNotFound`, `ExpiryExtensionRejected`, `HEADER_FILENAME`, `format_timedelta`,
# `storage_span`, `Compression`, `ExpirationPolicy` and `MultipartUpload`; callers import
# or patch them here.
__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRIES",
    "HEADER_EXPIRATION",
    "HEADER_FILENAME",
    "HEADER_META_PREFIX",
    "HEADER_ORIGIN",
    "PARAM_AUTH",
    "USER_AGENT",
    "Client",
    "Compression",
    "ExpirationPolicy",
    "ExpiryExtensionRejected",
    "GetResponse",
    "Metadata",
    "MultipartUpload",
    "ObjectNotFound",
    "Permission",
    "RequestError",
    "SecretKey",
    "Session",
    "Usecase",
    "format_expiration",
    "format_timedelta",
    "measure_storage_operation",
    "raise_for_status",
    "storage_span",
]

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 0.1
"""Seconds allowed for establishing a connection (as in 0.0.19); it does not bound writes."""

DEFAULT_READ_TIMEOUT = 60.0
"""Seconds one socket read or write may wait (not a limit on a whole request): a stalled
server is given up on after a minute, while a transfer of any size through a slow link
goes on as long as bytes keep moving. 60 s is botocore's and google-cloud-storage's read
timeout, and leaves a server time to finish storing a large upload before it answers."""

DEFAULT_MAX_CONNECTIONS = 32
"""Connections kept open per client. Sentry runs up to 32 worker threads per process and
had to raise 0.0.19's single connection to 32 (getsentry/sentry#116051)."""


@dataclass
class _ConnectionDefaults:
    """The pool settings a `Client` starts from; `connection_kwargs` override them."""

    # Plain class-level defaults, as in 0.0.19, so `_ConnectionDefaults.retries` reads
    # as an attribute; sharing them is safe, urllib3 copies both before changing them.
    retries: urllib3.Retry = _retry.default_retry()  # noqa: RUF009 (shared on purpose, see above)
    """Connection failures are retried three times; other failures are left to the client."""

    timeout: urllib3.Timeout = urllib3.Timeout(  # noqa: RUF009 (shared on purpose, see above)
        connect=DEFAULT_CONNECT_TIMEOUT, read=DEFAULT_READ_TIMEOUT
    )
    """100 ms to connect; 60 s per socket read (the read timeout also bounds body writes)."""

    maxsize: int = DEFAULT_MAX_CONNECTIONS
    """Connections kept for reuse."""

    block: bool = False
    """Never wait for a free connection: past `maxsize`, extra ones are opened and closed."""


class Client(Generic[MissingT]):
    """A client for one Objectstore server; create it once and share it.

    The client is thread-safe: any number of threads may use it and its sessions at the
    same time. It keeps up to `max_connections` idle HTTP connections for reuse (default
    32, one per worker thread of a Sentry process; see `DEFAULT_MAX_CONNECTIONS`) and
    never makes a thread wait for one: more concurrent requests open extra connections
    that are closed afterwards. Call `close()` or use `with` to close them.

    Timeouts: connecting may take 100 ms (`DEFAULT_CONNECT_TIMEOUT`); every socket write
    of the body and read of the response may wait 60 s (`DEFAULT_READ_TIMEOUT`) or
    `timeout_ms`. These bound each socket operation, not a request: a stalled server is
    given up on, a multi-GiB transfer through a slow link is not as long as bytes move.
    `timeout_ms=None` means the default (unlike 0.0.19, where it meant no limit);
    `timeout_ms=0` means no read or write limit. The connect timeout never applies to
    body writes. `deadline` bounds each request with its replays: no replay starts, and
    no pause before one runs, past it (the last failure is raised instead), and neither
    connecting nor waiting for an answer waits past it (`DeadlineExceeded`, a
    `TransportTimeout`). Bytes that keep moving are never cut off: body transfers, like a
    download's payload read after the call returns, are bounded per socket operation.

    Retries (see `objectstore_client._transport`): a failed connection attempt is retried
    `retries` times for every request, as nothing was sent. Dropped connections,
    timeouts and 429/502/503/504 answers are retried `retries` times, with exponential
    back-off, only for idempotent requests (GET, HEAD, DELETE, PUT, `extend_expiry`,
    batch requests) whose body can be sent again; `put` without a key is a PUT of a key
    chosen here. Only `put(..., server_key=True)` (a POST) is never sent twice.

    The first seven parameters are those of objectstore-client 0.0.19, in its order.

    Args:
        base_url: The server URL, e.g. `"http://objectstore:8888"`; a path is prepended to
            every request path.
        metrics_backend: Receives `storage.*` metrics; none are recorded by default.
        propagate_traces: Send Sentry's trace headers. Skipped when sentry-sdk's
            `StdlibIntegration` is active, which already sends them.
        retries: Number of retries, as above (at most 100); `0` disables retries. Default 3.
        timeout_ms: Socket read and write timeout in milliseconds, at most a day;
            `None`: `DEFAULT_READ_TIMEOUT`; `0`: none.
        connection_kwargs: Keyword arguments for the urllib3 `HTTPConnectionPool`,
            overriding the defaults (`retries`, `timeout`, `maxsize`, `block`, `headers`).
        token: A `TokenGenerator` (a token per usecase and scope, signed and cached) or a
            pre-signed token string sent as is. `None` or `""`: requests carry no token.
        auth_header: Carry the token in `Authorization: Bearer` (default, accepted by every
            server version) or `X-Os-Auth: Bearer` (`"x-os-auth"`, for deployments behind
            proxies that use `Authorization` themselves).
        max_connections: Idle connections kept for reuse; default 32.
        user_agent: The `User-Agent` header; default `objectstore-client/<version>`.
        pool: Use this urllib3 pool (its timeouts and retries, each count capped at 100)
            instead of creating one; it must point at the host of `base_url`. `close()`
            leaves it open.
        spool_dir: Accepted as in 0.2.x, and not needed: large uploads never spool to
            disk here (see `Session.put`).
        missing: What `get` and `head` do about a missing object: `"raise"` (default)
            raises `ObjectNotFound`, as in 0.0.19; `"none"` returns `None`, as in 0.2.x.
            Type checkers see the mode: `Client(url, missing="none")` is a
            `Client[Literal["none"]]`, its sessions' `get` returns `GetResponse | None`.
        deadline: Seconds (more than 0, at most a day) for each request and its replays,
            as above; `None` (default): no deadline.

    Raises:
        InvalidArgument: An argument breaks a rule (URL without http(s) scheme or host,
            negative or absurd retries, timeouts or deadline, an unknown `auth_header`, a
            malformed static token).
        InvalidArgumentType: An argument has the wrong type.
    """

    def __init__(
        self,
        base_url: str,
        metrics_backend: MetricsBackend | None = None,
        propagate_traces: bool = False,
        retries: int | None = None,
        timeout_ms: float | None = None,
        connection_kwargs: Mapping[str, Any] | None = None,
        token: TokenProvider | None = None,
        *,
        spool_dir: str | PathLike[str] | None = None,
        auth_header: AuthHeader = "authorization",
        max_connections: int | None = None,
        user_agent: str | None = None,
        pool: HTTPConnectionPool | None = None,
        # The default is "raise"; typed by the type variable's default (see `_missing`).
        missing: MissingT = "raise",  # type: ignore[assignment]
        deadline: float | None = None,
    ) -> None:
        _validation.check_missing(missing)
        self._missing: MissingT = missing
        self._spool_dir = spool_dir
        base_origin, base_path = _validation.check_base_url(base_url)
        if retries is not None:
            retries = _validation.check_retries(retries)
        deadline = _validation.check_deadline(deadline)
        _validation.check_metrics_backend(metrics_backend)
        if isinstance(token, str) and not token:
            # 0.0.19 sent no auth header for an empty token (config left blank).
            token = None
        _validation.check_token(token)
        _validation.check_auth_header(auth_header)
        _validation.check_header_text(user_agent, "user_agent")
        if pool is None:
            pool_kwargs = _pool_kwargs(retries, timeout_ms, connection_kwargs, max_connections)
            self._pool = build_pool(base_url, pool_kwargs)
            self._owns_pool = True
        else:
            _validation.check_injected_pool(
                pool, base_origin, timeout_ms, connection_kwargs, max_connections
            )
            self._pool = pool
            self._owns_pool = False
        if retries is not None:
            replays = retries
        elif pool is not None or "retries" in (connection_kwargs or {}):
            # The caller configured urllib3's retries: they bound our replays too.
            replays = _retry.replays_for_pool(self._pool.retries)
        else:
            replays = _retry.DEFAULT_RETRIES
        self._base_path = base_path
        self._metrics_backend = metrics_backend or NoOpMetricsBackend()
        self._propagate_traces = bool(propagate_traces)
        self._token = token
        self._auth_header: AuthHeader = auth_header
        self._transport = Transport(self._pool, replays, user_agent=user_agent, deadline=deadline)
        logger.debug("objectstore client for %s%s", base_origin, base_path)

    def session(self, usecase: Usecase, **scopes: str | int | bool) -> Session[MissingT]:
        """Returns a `Session` for the objects of `usecase` within the given scope.

        The scope is an ordered namespace given as keyword arguments, conventionally
        starting with the organization and project: `client.session(uc, org=1, project=2)`.
        Order matters. Names and values may use `A-Z a-z 0-9 - _ ( ) $ ! + '`; values may
        be `str`, `int` or `bool`. No request is sent.

        Raises:
            InvalidArgument: A scope name or value breaks the rules.
            InvalidArgumentType: `usecase` is not a `Usecase`, or a value has a wrong type.
        """
        if not isinstance(usecase, Usecase):
            raise InvalidArgumentType("usecase", f"must be a Usecase, got {type(usecase).__name__}")
        context = RequestContext(
            transport=self._transport,
            base_path=self._base_path,
            usecase=usecase,
            scope=Scope(**scopes),
            token=self._token,
            auth_header=self._auth_header,
            metrics_backend=self._metrics_backend,
            propagate_traces=self._propagate_traces,
        )
        return Session(
            self._pool,
            self._base_path,
            self._metrics_backend,
            self._propagate_traces,
            usecase,
            context.scope,
            self._token,
            self._spool_dir,
            _context=context,
            _missing=self._missing,
        )

    def close(self) -> None:
        """Closes the idle connections of the pool the client created.

        Later requests raise `TransportError`. An injected `pool` is left open.
        """
        if self._owns_pool:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _pool_kwargs(
    retries: int | None,
    timeout_ms: float | None,
    connection_kwargs: Mapping[str, Any] | None,
    max_connections: int | None,
) -> dict[str, Any]:
    defaults = _ConnectionDefaults()
    kwargs: dict[str, Any] = {
        "retries": defaults.retries,
        "timeout": defaults.timeout,
        "maxsize": defaults.maxsize,
        "block": defaults.block,
    }
    if retries is not None:
        kwargs["retries"] = _retry.default_retry(connect=retries)
    if timeout_ms is not None:
        read_timeout = _validation.check_timeout_ms(timeout_ms)
        kwargs["timeout"] = urllib3.Timeout(connect=DEFAULT_CONNECT_TIMEOUT, read=read_timeout)
    if max_connections is not None:
        kwargs["maxsize"] = _validation.check_count(max_connections, "max_connections", 1)
    if connection_kwargs is not None:
        if not isinstance(connection_kwargs, Mapping):
            raise InvalidArgumentType("connection_kwargs", "must be a mapping")
        kwargs.update(connection_kwargs)
    return kwargs
