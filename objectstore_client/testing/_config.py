"""Configuration of the local server: the settings and their validation.

`ServerConfig` is the one list of settings: `LocalServer`'s keyword arguments, the CLI and the
`OS__*` environment (`_env`) all produce one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

from objectstore_client.testing._limits import DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT

PERMISSIONS = ("object.read", "object.write", "object.delete")

Semantics = Literal["production", "filesystem"]
StorageKind = Literal["filesystem", "memory"]
ServerVersion = Literal["current", "0.2.0"]
SERVER_VERSIONS: tuple[ServerVersion, ...] = ("current", "0.2.0")


class ConfigError(ValueError):
    """An invalid setting; the message is one line and names the setting."""


@dataclass(frozen=True)
class AuthKey:
    """A key id's verification keys and the most its tokens may be granted (protocol §13.1)."""

    public_keys: tuple[str, ...]
    """Ed25519 public keys in PEM `PUBLIC KEY` form, tried in order (several = rotation)."""

    max_permissions: frozenset[str] = frozenset(PERMISSIONS)
    """Upper bound of every token's permissions. Defaults to all three (read, write, delete)
    so that `AuthKey(public_pem)` lets a first test pass; pass `frozenset()` for a key that
    may do nothing, which is what the real server gives a key configured without
    `max_permissions` (`OS__AUTH__KEYS` keeps that default here too)."""

    def __post_init__(self) -> None:
        if isinstance(self.public_keys, str):
            object.__setattr__(self, "public_keys", (self.public_keys,))
        object.__setattr__(self, "max_permissions", frozenset(self.max_permissions))
        unknown = sorted(set(self.max_permissions) - set(PERMISSIONS))
        if unknown:
            raise ConfigError(f"max_permissions: unknown permission(s) {unknown}")
        if not self.public_keys:
            raise ConfigError("public_keys: at least one public key is required")


@dataclass(frozen=True)
class UsecasePolicy:
    """Which expiration policies a usecase accepts on writes (protocol §9.6).

    The real server's config field names are not in docs/protocol.md; these are ours.
    """

    allow_manual: bool = True
    allow_ttl: bool = True
    max_ttl: timedelta | None = None
    """The 0.2.0 release's longest TTL (its `ttl.max`); today's server falls back to it."""
    allow_tti: bool = True
    max_tti: timedelta | None = None
    """The 0.2.0 release's longest TTI (its `tti.max`); today's server falls back to it."""
    max: timedelta | None = None
    """Today's `expiration.max`: one limit for TTL and TTI, and for PATCH extensions measured
    from the request time. A 0.2.0 server uses it where `max_ttl`/`max_tti` are unset."""


@dataclass(frozen=True)
class Killswitch:
    """Blocks matching requests with 403 (protocol §14); a killswitch with no fields blocks all."""

    usecase: str | None = None
    scopes: Mapping[str, str] = field(default_factory=dict)
    service: str | None = None
    """Glob matched against `x-downstream-service` after stripping a Kubernetes pod suffix."""


@dataclass(frozen=True)
class ServerConfig:
    """Every setting of the local server, with its default.

    `LocalServer(**settings)` takes these as keyword arguments; `LocalServer(config=...)`
    takes a whole one.
    """

    host: str = "127.0.0.1"
    """Address to listen on. Defaults to loopback."""

    port: int = 0
    """TCP port; 0 picks a free one (read it back from `LocalServer.url` or `.port`)."""

    storage: StorageKind = "filesystem"
    """`"filesystem"` keeps objects in `data_dir`; `"memory"` keeps them in RAM."""

    data_dir: Path | None = None
    """Directory for `"filesystem"` storage (a `str` is accepted). `None` creates a temporary
    directory that `stop()` removes; a given directory is created if needed and kept."""

    auth_keys: Mapping[str, AuthKey] = field(default_factory=dict)
    """Key id → `AuthKey`. With keys, tokens are verified (protocol §13). `None` means none."""

    enforce_auth: bool | None = None
    """Whether auth failures are errors. `None` means "enforce when keys are configured";
    `False` with keys verifies and logs but allows everything, as the real server does;
    `True` without keys is a `ConfigError`."""

    semantics: Semantics = "production"
    """`"production"` or `"filesystem"`: which backend's observable quirks to reproduce;
    see the package docstring."""

    usecases: Mapping[str, UsecasePolicy] = field(default_factory=dict)
    """Per-usecase expiration policy restrictions (protocol §9.6). `None` means none."""

    killswitches: Sequence[Killswitch] = ()
    """Requests matching any of these get 403 (protocol §14)."""

    rate_limit_rps: float | None = None
    """A global request rate limit (token bucket, burst = one second's worth); excess
    requests get 429. `None` means no limit, as the real server's default."""

    server_version: ServerVersion = "current"
    """Which server to reproduce: `"current"` (today's Objectstore: HEAD 200 with sizes,
    d/h/m/s durations, percent-encoded metadata, PATCH extend-expiry, ...) or `"0.2.0"`
    (the public 0.2.0 release). Independent of `semantics`."""

    extend_expiry: bool | None = None
    """Serve the `PATCH` extend-expiry endpoint (protocol §22). `None` follows
    `server_version`: on for `"current"`, off for `"0.2.0"` (whose release answers `PATCH`
    with 405); `True` adds it to a 0.2.0 server, `False` removes it from a current one."""

    max_requests: int = 10_000
    """In-flight HTTP request limit (`http.max_requests`); beyond it 503."""

    max_concurrency: int = 500
    """Backend operation limit (`service.max_concurrency`); beyond it 429."""

    max_connections: int | None = None
    """Open connections served at once; one more is answered 503 and closed. `None`: half
    the process's free file descriptors, at most 1024 (see `_limits`)."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    """Seconds a client has to send a complete request head (from the connection's accept,
    or from the first byte of a later request); then the connection is closed."""

    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT
    """Seconds an idle keep-alive connection is kept open."""

    resumable_granularity: int = 0
    """The `granularity` resumable sessions announce (protocol §23.2), in bytes: non-final
    chunks must be at least this long and only whole units are kept. 0 (default, as the
    real filesystem backend) means none; the real GCS backend uses 262144."""

    def __post_init__(self) -> None:
        # Accept the convenient forms the keyword arguments have always taken.
        if self.data_dir is not None:
            # Absolute, once: objects and resumable sessions must not move to another
            # directory when the process changes its working directory.
            object.__setattr__(self, "data_dir", Path(self.data_dir).absolute())
        object.__setattr__(self, "auth_keys", dict(self.auth_keys or {}))
        object.__setattr__(self, "usecases", dict(self.usecases or {}))
        object.__setattr__(self, "killswitches", tuple(self.killswitches))
        if self.storage not in ("filesystem", "memory"):
            raise ConfigError(f"storage: expected 'filesystem' or 'memory', got {self.storage!r}")
        if self.semantics not in ("production", "filesystem"):
            raise ConfigError(
                f"semantics: expected 'production' or 'filesystem', got {self.semantics!r}"
            )
        if self.server_version not in SERVER_VERSIONS:
            raise ConfigError(
                f"server_version: expected 'current' or '0.2.0', got {self.server_version!r}"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} is not a TCP port")
        if self.max_requests < 1 or self.max_concurrency < 1:
            raise ConfigError("max_requests and max_concurrency must be at least 1")
        if self.enforce_auth and not self.auth_keys:
            # The real server refuses to start in this state (protocol §13.1).
            raise ConfigError(
                "auth.enforce (OS__AUTH__ENFORCE): enforcement needs at least one key in "
                "auth.keys (OS__AUTH__KEYS or --auth-key)"
            )
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ConfigError("rate_limit_rps: must be positive")
        if self.max_connections is not None and self.max_connections < 1:
            raise ConfigError("max_connections: must be at least 1")
        if not self.header_timeout > 0 or not self.keepalive_timeout > 0:
            raise ConfigError("header_timeout and keepalive_timeout must be positive")
        if self.resumable_granularity < 0:
            raise ConfigError("resumable_granularity: must not be negative")

    @property
    def current(self) -> bool:
        """Whether the server speaks today's protocol rather than the 0.2.0 release's."""
        return self.server_version == "current"

    @property
    def patch_enabled(self) -> bool:
        """Whether `PATCH` extend-expiry is served (protocol §22)."""
        return self.current if self.extend_expiry is None else self.extend_expiry

    @property
    def auth_active(self) -> bool:
        """Whether tokens are looked at at all (keys configured, or enforcement asked for)."""
        return bool(self.auth_keys)

    @property
    def auth_enforced(self) -> bool:
        """Whether auth failures are errors (else they are only logged, protocol §13.1)."""
        if not self.auth_keys:
            return False
        return True if self.enforce_auth is None else self.enforce_auth


def overlay(base: ServerConfig, settings: Mapping[str, object]) -> ServerConfig:
    """A copy of `base` with `settings` replaced (and validated again).

    Raises:
        TypeError: A name in `settings` is not a `ServerConfig` field.
    """
    unknown = sorted(set(settings) - {f.name for f in fields(ServerConfig)})
    if unknown:
        raise TypeError(f"unknown server setting(s) {unknown}; see ServerConfig")
    return replace(base, **settings)  # type: ignore[arg-type]
