"""`LocalServer`: the local Objectstore server running in a background thread."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from objectstore_client.testing._app import App
from objectstore_client.testing._config import (
    AuthKey,
    Killswitch,
    Semantics,
    ServerConfig,
    StorageKind,
    UsecasePolicy,
)
from objectstore_client.testing._http import HTTPServer
from objectstore_client.testing._limits import DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT
from objectstore_client.testing._storage import DirectoryStorage, MemoryStorage, Storage


class LocalServer:
    """A local Objectstore server speaking the real server's HTTP protocol over loopback.

    Usable as a context manager (`with LocalServer() as server: server.url`) or with
    `start()` / `stop()`. Requests are served by a thread per connection; the server is safe
    under concurrent requests: a reader never sees a half-written object and two writers of
    one key never interleave (the last complete write wins).

    Args:
        host: Address to listen on. Defaults to loopback.
        port: TCP port; 0 picks a free one (read it back from `url` or `port`).
        storage: `"filesystem"` keeps objects in `data_dir`; `"memory"` keeps them in RAM.
        data_dir: Directory for `"filesystem"` storage. `None` creates a temporary directory
            that `stop()` removes; a given directory is created if needed and kept.
        auth_keys: Key id → `AuthKey`. With keys, tokens are verified (spec §13).
        enforce_auth: Whether auth failures are errors. `None` (default) means "enforce when
            keys are configured"; `False` with keys verifies and logs but allows everything,
            as the real server does; `True` without keys is a `ConfigError`.
        semantics: `"production"` (default) or `"filesystem"`: which backend's observable
            quirks to reproduce; see the package docstring.
        usecases: Per-usecase expiration policy restrictions (spec §9.6).
        killswitches: Requests matching any of these get 403 (spec §14).
        rate_limit_rps: A global request rate limit (token bucket, burst = one second's
            worth); excess requests get 429. `None` (default) means no limit, as the real
            server's default.
        extend_expiry: Serve the `PATCH` extend-expiry endpoint of newer servers (spec §18.2).
            Off by default, as the server snapshot of the spec answers `PATCH` with 405.
        max_requests: In-flight HTTP request limit (`http.max_requests`); beyond it 503.
        max_concurrency: Backend operation limit (`service.max_concurrency`); beyond it 429.
        max_connections: Open connections served at once; one more is answered 503 and
            closed. `None` (default): half the process's free file descriptors, at most 1024.
        header_timeout: Seconds a client has to send a complete request head (from the
            connection's accept, or from the first byte of a later request); then the
            connection is closed.
        keepalive_timeout: Seconds an idle keep-alive connection is kept open.
        clock: Returns the current UTC time; tests can pass a controllable clock to exercise
            expiry without sleeping.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        storage: StorageKind = "filesystem",
        data_dir: str | Path | None = None,
        auth_keys: Mapping[str, AuthKey] | None = None,
        enforce_auth: bool | None = None,
        semantics: Semantics = "production",
        usecases: Mapping[str, UsecasePolicy] | None = None,
        killswitches: Sequence[Killswitch] = (),
        rate_limit_rps: float | None = None,
        extend_expiry: bool = False,
        max_requests: int = 10_000,
        max_concurrency: int = 500,
        max_connections: int | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        config = ServerConfig(
            host=host,
            port=port,
            storage=storage,
            data_dir=Path(data_dir) if data_dir is not None else None,
            auth_keys=dict(auth_keys or {}),
            enforce_auth=enforce_auth,
            semantics=semantics,
            usecases=dict(usecases or {}),
            killswitches=tuple(killswitches),
            rate_limit_rps=rate_limit_rps,
            extend_expiry=extend_expiry,
            max_requests=max_requests,
            max_concurrency=max_concurrency,
            max_connections=max_connections,
            header_timeout=header_timeout,
            keepalive_timeout=keepalive_timeout,
        )
        self._init(config, clock)

    @classmethod
    def from_config(
        cls, config: ServerConfig, *, clock: Callable[[], datetime] | None = None
    ) -> LocalServer:
        """Builds a server from a complete `ServerConfig` (e.g. one read from `OS__*`)."""
        server = cls.__new__(cls)
        server._init(config, clock)
        return server

    def _init(self, config: ServerConfig, clock: Callable[[], datetime] | None) -> None:
        self.config = config
        self._clock = clock
        self._owned_dir: Path | None = None
        self._http: HTTPServer | None = None
        self._app: App | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321`. Only valid while running."""
        if self._http is None:
            raise RuntimeError("the server is not running; call start() first")
        host = self._http.host
        if ":" in host:
            host = f"[{host}]"
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"http://{host}:{self._http.port}"

    @property
    def port(self) -> int:
        """The TCP port being served. Only valid while running."""
        if self._http is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._http.port

    @property
    def max_connections(self) -> int:
        """The connection cap in effect (resolved from the default). Only valid while running."""
        if self._http is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._http.max_connections

    @property
    def data_dir(self) -> Path | None:
        """The storage directory (`None` for memory storage)."""
        if self.config.storage == "memory":
            return None
        return self._owned_dir or self.config.data_dir

    def _make_storage(self) -> Storage:
        if self.config.storage == "memory":
            return MemoryStorage()
        if self.config.data_dir is None:
            self._owned_dir = Path(tempfile.mkdtemp(prefix="objectstore-"))
            return DirectoryStorage(self._owned_dir)
        return DirectoryStorage(self.config.data_dir)

    def start(self) -> Self:
        """Binds the socket and starts serving in a daemon thread.

        Raises:
            OSError: The address cannot be bound (e.g. the port is in use).
        """
        if self._http is not None:
            return self
        storage = self._make_storage()
        self._app = App(self.config, storage, clock=self._clock)
        try:
            self._http = HTTPServer(
                self.config.host,
                self.config.port,
                self._app.handle,
                self._app.exempt,
                max_requests=self.config.max_requests,
                max_connections=self.config.max_connections,
                header_timeout=self.config.header_timeout,
                keepalive_timeout=self.config.keepalive_timeout,
            )
        except BaseException:
            self._cleanup_dir()
            raise
        self._http.start()
        return self

    def stop(self) -> None:
        """Stops accepting, closes open connections and removes a temporary data dir."""
        if self._http is not None:
            self._http.stop()
            self._http = None
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
