"""The retry policy: what is sent again, how often, and how long to wait in between.

This is the one place that decides about retries; `_transport` applies it.

* Failures to connect are retried for every request: nothing was sent, so trying again is
  safe. urllib3 does this, per the connect part of the pool's `Retry` (`connect_retries_only`;
  3 times by default, with back-off).
* Dropped connections, read or write timeouts, and the statuses in `RETRY_STATUSES` are
  replayed for idempotent requests (GET, HEAD, DELETE, PUT with a key, and the PATCH that
  extends an object's expiry) whose body can be sent again (none, bytes-like, or a stream
  that was seekable when the upload started). Up to `replays` more attempts, with exponential
  back-off and jitter (`backoff_delay`), honouring a `Retry-After` of up to
  `MAX_RETRY_AFTER` seconds.
* Nothing else. In particular a POST (upload without key) is never sent twice, because the
  server may have stored the first one under a key we never learned.

How many replays: `Client(retries=N)` sets N for both kinds. Without `retries`, a pool the
client creates replays `DEFAULT_RETRIES` times; an injected pool's own `Retry` decides
(`replays_for_pool`), so `Retry(total=0)` really means "send once". A pool's counts are
capped at `MAX_RETRIES`, the most `Client(retries=...)` accepts, for connecting and for
replays alike: `Retry(total=None)` or a total of a million would otherwise keep one call
going for hours (or forever, as urllib3 never exhausts a `Retry` without counts).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import urllib3
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    EmptyPoolError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from objectstore_client._validation.settings import MAX_RETRIES

__all__ = [
    "DEFAULT_RETRIES",
    "IDEMPOTENT_METHODS",
    "MAX_RETRIES",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "DeadlineRetry",
    "backoff_delay",
    "connect_retries_only",
    "default_retry",
    "never_sent",
    "replayable_error",
    "replays_for_pool",
    "retry_after",
]

DEFAULT_RETRIES = 3
"""Retries after a failed connection attempt, and replays of idempotent requests."""

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses after which an idempotent, replayable request is sent again."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
"""Methods that may be sent twice unless a plan says otherwise."""

MAX_RETRY_AFTER = 10.0
"""The longest `Retry-After` honoured, in seconds; longer ones are capped to it."""

_BASE_BACKOFF = 0.1
_MAX_BACKOFF = 2.0


def default_retry(connect: int = DEFAULT_RETRIES) -> urllib3.Retry:
    """The `Retry` of a pool the client creates: connection failures only."""
    # Only connection failures are retried by urllib3 (the request was never sent); the
    # transport decides about everything else, knowing whether the body can be replayed.
    return urllib3.Retry(
        connect=connect,
        read=0,
        other=0,
        backoff_factor=0.1,
        respect_retry_after_header=False,
    )


class DeadlineRetry(urllib3.Retry):
    """A `Retry` that gives up once `deadline` (a `time.monotonic()` instant) has passed.

    urllib3 retries failed connections by itself, each attempt with the full connect
    timeout and a back-off in between; without this, `Client(deadline=...)` was overrun
    by every connection retry (4 attempts of a 0.5 s deadline took 2.6 s). The back-off
    never sleeps past the deadline either.
    """

    deadline: float | None = None

    @classmethod
    def bounded(cls, base: urllib3.Retry, deadline: float) -> DeadlineRetry:
        """`base`'s counts and settings, given up on at `deadline`."""
        retry = cls.__new__(cls)
        retry.__dict__.update(vars(base))
        retry.deadline = deadline
        return retry

    def new(self, **kw: Any) -> DeadlineRetry:
        retry = super().new(**kw)
        retry.deadline = self.deadline
        return retry

    def is_exhausted(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        return super().is_exhausted()

    def get_backoff_time(self) -> float:
        delay = super().get_backoff_time()
        if self.deadline is None:
            return delay
        return min(delay, max(self.deadline - time.monotonic(), 0.0))


def connect_retries_only(retries: urllib3.Retry | bool | int | None) -> urllib3.Retry:
    """Returns the part of a pool's `retries` that only retries failed connections.

    urllib3 would otherwise send a request again after a read error, an "other" error, a
    listed status or a redirect, even a POST or a half-sent stream. Only the transport
    knows whether a request may be sent twice, so urllib3 may only retry connecting, when
    nothing was sent. The connect count (or the total, if the connect count is unset),
    at most `MAX_RETRIES` (also when both are unset, which urllib3 takes as "no limit"),
    and the backoff settings are kept; a 3xx answer is returned as it is.
    """
    base = urllib3.Retry.from_int(retries)
    if base.total is False:
        # No retries at all, and redirects are returned rather than raised: nothing to trim.
        return base
    connect = base.connect if base.connect is not None else base.total
    connect = MAX_RETRIES if connect is None else min(connect, MAX_RETRIES)
    return base.new(
        total=connect,
        connect=connect,
        read=0,
        other=0,
        status=0,
        redirect=0,
        status_forcelist=None,
        raise_on_redirect=False,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


def replays_for_pool(retries: urllib3.Retry | bool | int | None) -> int:
    """How often an injected pool's `retries` lets an idempotent request be sent again.

    The pool's own limits are honoured: the total, and the read and status counts where
    set (the smallest wins, as each bounds some of the failures replayed), capped at
    `MAX_RETRIES`. `False` or a total of 0 means no replays; `None` is urllib3's default
    of 3.
    """
    base = urllib3.Retry.from_int(retries)
    if base.total is False:
        return 0
    limits = [
        limit
        for limit in (base.total, base.read, base.status)
        if isinstance(limit, int) and not isinstance(limit, bool)
    ]
    return min(max(0, min(limits)), MAX_RETRIES) if limits else DEFAULT_RETRIES


def replayable_error(exc: Exception) -> bool:
    """Whether a urllib3 failure may have left the server without an answer to act on.

    Dropped connections and timeouts qualify; a replay is then safe for idempotent requests.
    """
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    return isinstance(exc, Urllib3ProtocolError | ReadTimeoutError)


def never_sent(exc: Exception) -> bool:
    """Whether a urllib3 failure proves that the request never left the client.

    Failing to connect (refused, timed out, no pooled connection, a closed pool) does;
    anything after connecting does not, since the server may have read the request.
    """
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    return isinstance(
        exc, NewConnectionError | ConnectTimeoutError | EmptyPoolError | ClosedPoolError
    )


def retry_after(response: urllib3.BaseHTTPResponse) -> float | None:
    """The response's `Retry-After` in seconds (delta form), capped; `None` if absent."""
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    if math.isnan(seconds):
        # `Retry-After: nan` parses, and `time.sleep(nan)` raises ValueError.
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def backoff_delay(attempt: int, retry_after_seconds: float | None) -> float:
    """Seconds to wait before replay number `attempt + 1`.

    The server's `Retry-After` if it gave one; otherwise exponential back-off from 0.1 s,
    capped at 2 s, with jitter so that many clients do not retry in lockstep.
    """
    if retry_after_seconds is not None:
        return retry_after_seconds
    return min(_MAX_BACKOFF, _BASE_BACKOFF * 2.0**attempt) * random.uniform(0.5, 1.0)
