"""The connection pool: one urllib3 pool per client, whose body writes use a write timeout.

`build_pool` checks the caller's `connection_kwargs` (typed errors, before any request) and
installs the connection classes below; `_transport.Transport` sends through the pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

from objectstore_client._version import __version__
from objectstore_client.errors import InvalidArgument, InvalidArgumentType

__all__ = ["USER_AGENT", "build_pool"]

USER_AGENT = f"objectstore-client/{__version__}"
"""The `User-Agent` header sent by default."""


class _WriteTimeoutMixin:
    """Bounds writes by the write timeout instead of the connect timeout.

    urllib3 leaves the connect timeout on the socket while the request is sent, so with
    a 100 ms connect timeout any short stall of the server aborts a large upload. Here
    the socket switches to `write_timeout` as soon as it is connected (and for reused
    connections, for the whole send); urllib3 still applies the read timeout to the
    response.
    """

    sock: Any
    timeout: Any

    def __init__(self, *args: Any, write_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_timeout = write_timeout

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if self.sock is not None:
            self.sock.settimeout(self._write_timeout)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            # A new connection: connect() runs inside with the connect timeout.
            super().request(*args, **kwargs)  # type: ignore[misc]
            return
        connect_timeout, self.timeout = self.timeout, self._write_timeout
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        finally:
            self.timeout = connect_timeout


class WriteTimeoutHTTPConnection(_WriteTimeoutMixin, HTTPConnection):
    """An `HTTPConnection` whose request body writes use the write timeout."""


class WriteTimeoutHTTPSConnection(_WriteTimeoutMixin, HTTPSConnection):
    """An `HTTPSConnection` whose request body writes use the write timeout."""


def build_pool(
    base_url: str, pool_kwargs: Mapping[str, Any]
) -> urllib3.connectionpool.HTTPConnectionPool:
    """Creates the pool for `base_url` with body writes bounded by the read timeout.

    Its headers carry `USER_AGENT` unless `pool_kwargs["headers"]` names another.
    """
    try:
        headers = urllib3.HTTPHeaderDict({"User-Agent": USER_AGENT})
        headers.update(pool_kwargs.get("headers") or {})
        pool = urllib3.connectionpool.connection_from_url(
            base_url, **{**pool_kwargs, "headers": headers}
        )
        # urllib3 hands the arguments it does not know to every connection it opens: a
        # misspelt one would only fail (a bare TypeError) on the first request.
        pool.ConnectionCls(host=pool.host, port=pool.port, **pool.conn_kw)
    except TypeError as exc:
        raise InvalidArgumentType("connection_kwargs", str(exc)) from exc
    except ValueError as exc:
        raise InvalidArgument("connection_kwargs", str(exc)) from exc
    timeout = pool.timeout.clone()
    timeout.start_connect()
    pool.conn_kw["write_timeout"] = urllib3.Timeout.resolve_default_timeout(timeout.read_timeout)
    pool.ConnectionCls = (
        WriteTimeoutHTTPSConnection if pool.scheme == "https" else WriteTimeoutHTTPConnection
    )
    return pool
