"""Checks on the settings of a `Client`: base URL, counts, timeouts, token, pool."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from objectstore_client import _protocol
from objectstore_client._missing import MissingMode
from objectstore_client._validation.arguments import type_name
from objectstore_client.auth import TokenGenerator
from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.metrics import MetricsBackend


def check_base_url(base_url: object) -> tuple[str, str]:
    """Checks a client's base URL; returns its origin (`scheme://host[:port]`) and path."""
    if not isinstance(base_url, str):
        raise InvalidArgumentType("base_url", f"must be a str, got {type_name(base_url)}")
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise InvalidArgument("base_url", f"{base_url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            "base_url", f"must be an http:// or https:// URL with a host, got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise InvalidArgument("base_url", f"must not have a query or fragment: {base_url!r}")
    return _protocol.url_origin(parts.scheme, parts.hostname, port), parts.path


def check_count(value: object, argument: str, minimum: int) -> int:
    """Checks a whole number (not a `bool`) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentType(argument, f"must be an int, got {type_name(value)}")
    if value < minimum:
        raise InvalidArgument(argument, f"must be at least {minimum}, got {value}")
    return value


MAX_RETRIES = 100
"""More retries than this are a mistake: with back-off they would take minutes per call."""

MAX_SECONDS = 24 * 3600.0
"""The longest timeout or deadline accepted: a day. Longer ones are mistakes (a unit
confused, seconds given as milliseconds)."""


def check_retries(retries: object) -> int:
    """Checks `retries`: a whole number from 0 to `MAX_RETRIES`."""
    count = check_count(retries, "retries", 0)
    if count > MAX_RETRIES:
        raise InvalidArgument("retries", f"must be at most {MAX_RETRIES}, got {count}")
    return count


def _check_seconds(value: object, argument: str, scale: float) -> float:
    """Checks a finite, non-negative number of at most `MAX_SECONDS` (after `scale`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentType(argument, f"must be a number, got {type_name(value)}")
    if not math.isfinite(value) or value < 0:
        raise InvalidArgument(argument, f"must be a finite number, not negative, got {value}")
    seconds = value * scale
    if seconds > MAX_SECONDS:
        raise InvalidArgument(argument, f"must be at most a day, got {value}")
    return seconds


def check_timeout_ms(timeout_ms: object) -> float | None:
    """Checks a given `timeout_ms`; returns the read timeout in seconds, `None` for 0.

    `0` means no read timeout, as 0.0.19 treated it (it ignored 0).
    """
    seconds = _check_seconds(timeout_ms, "timeout_ms", 1 / 1000)
    return seconds if seconds > 0 else None


def check_deadline(deadline: object) -> float | None:
    """Checks `deadline`: `None`, or seconds more than 0 and at most a day."""
    if deadline is None:
        return None
    seconds = _check_seconds(deadline, "deadline", 1.0)
    if seconds <= 0:
        raise InvalidArgument("deadline", f"must be more than 0 seconds, got {deadline}")
    return seconds


def check_token(token: object) -> None:
    """Checks a client's token: a `TokenGenerator`, a JWT string, or `None`."""
    if token is None or isinstance(token, TokenGenerator):
        return
    if not isinstance(token, str):
        raise InvalidArgumentType(
            "token", f"must be a TokenGenerator or a str, got {type_name(token)}"
        )
    if not token or not token.isascii() or not token.isprintable() or " " in token:
        # The message must not echo the token.
        raise InvalidArgument("token", "must be a non-empty JWT without spaces or non-ASCII")


def check_auth_header(auth_header: object) -> None:
    """Checks the header that carries tokens: `"authorization"` or `"x-os-auth"`."""
    if auth_header not in ("authorization", "x-os-auth"):
        raise InvalidArgument(
            "auth_header", f"must be 'authorization' or 'x-os-auth', got {auth_header!r}"
        )


def check_metrics_backend(backend: object) -> None:
    """Checks a metrics backend: `None` or an implementation of `MetricsBackend`."""
    if backend is not None and not isinstance(backend, MetricsBackend):
        raise InvalidArgumentType("metrics_backend", "must implement MetricsBackend")


def check_injected_pool(
    pool: object,
    base_origin: str,
    timeout_ms: object,
    connection_kwargs: Mapping[str, Any] | None,
    max_connections: object,
) -> None:
    """Checks a `pool` given to `Client`: a urllib3 pool for the base URL's origin.

    Pool settings cannot be combined with it: the pool is used as it is configured.
    """
    # Imported on use: `import objectstore_client` does without urllib3.
    from urllib3.connectionpool import HTTPConnectionPool

    if not isinstance(pool, HTTPConnectionPool):
        raise InvalidArgumentType(
            "pool", f"must be a urllib3 HTTPConnectionPool, got {type_name(pool)}"
        )
    if timeout_ms is not None or connection_kwargs is not None or max_connections is not None:
        raise InvalidArgument(
            "pool",
            "cannot be combined with timeout_ms, connection_kwargs or max_connections; "
            "configure the pool itself",
        )
    actual = _protocol.url_origin(pool.scheme, pool.host, pool.port)
    if base_origin != actual:
        raise InvalidArgument("pool", f"connects to {actual}, but base_url is {base_origin}")


def check_missing(missing: object) -> MissingMode:
    """Checks a client's `missing`: `"raise"` or `"none"`."""
    if missing == "raise" or missing == "none":
        return missing
    raise InvalidArgument("missing", f"must be 'raise' or 'none', got {missing!r}")
