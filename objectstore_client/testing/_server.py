"""`LocalServer`: the local Objectstore server running in a background thread."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from objectstore_client.testing._app import App
from objectstore_client.testing._config import ServerConfig, overlay
from objectstore_client.testing._http import HTTPServer
from objectstore_client.testing._storage import DirectoryStorage, MemoryStorage, Storage


class LocalServer:
    """A local Objectstore server speaking the real server's HTTP protocol over loopback.

    Usable as a context manager (`with LocalServer() as server: server.url`) or with
    `start()` / `stop()`. Requests are served by a thread per connection; the server is safe
    under concurrent requests: a reader never sees a half-written object and two writers of
    one key never interleave (the last complete write wins).

    Args:
        config: All settings at once; defaults to `ServerConfig()`.
        clock: Returns the current UTC time; tests can pass a controllable clock to exercise
            expiry without sleeping.
        **settings: Any `ServerConfig` field by name (e.g. `storage="memory"`), replacing
            the one in `config`; see `ServerConfig` for each setting and its default.

    Raises:
        TypeError: A keyword is not a `ServerConfig` field.
        ConfigError: A setting's value is invalid.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        **settings: Any,
    ) -> None:
        self.config = overlay(config or ServerConfig(), settings)
        self._clock = clock
        self._owned_dir: Path | None = None
        self._http: HTTPServer | None = None
        self._app: App | None = None

    @classmethod
    def from_config(
        cls, config: ServerConfig, *, clock: Callable[[], datetime] | None = None
    ) -> LocalServer:
        """Builds a server from a complete `ServerConfig` (same as `LocalServer(config)`)."""
        return cls(config, clock=clock)

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
        data_dir = self.data_dir
        # Resumable sessions live beside the objects, so a server restarted on a given data
        # directory still knows them (protocol §23.3); in memory they die with the server.
        upload_dir = data_dir / "resumable" if data_dir is not None else None
        self._app = App(self.config, storage, clock=self._clock, upload_dir=upload_dir)
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
