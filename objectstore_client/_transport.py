"""Sending requests: the user agent, replays and error translation (the pool: `_pool`).

This is the only module that calls urllib3 to send requests and the only place where
urllib3's exceptions become ours (`translate_error`). What is sent again, and when, is
decided by the retry policy in `objectstore_client._retry`; `Transport` applies it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from types import GeneratorType
from typing import IO, cast

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as Urllib3ProtocolError

from objectstore_client import _retry
from objectstore_client._error_body import body_text
from objectstore_client._pool import USER_AGENT
from objectstore_client._upload import SourceError, UploadBody
from objectstore_client.errors import (
    ConnectError,
    ConnectTimeout,
    DeadlineExceeded,
    IntegrityError,
    ObjectstoreError,
    ProtocolError,
    RequestError,
    TransportError,
    TransportTimeout,
    raise_for_status,
)

logger = logging.getLogger(__name__)

# urllib3 names the connection by its repr, e.g. `WriteTimeoutHTTPConnection(host='h',
# port=1)`: a class internal to this SDK, meaningless to the reader of an error.
_CONNECTION_REPR = re.compile(r"\b\w*Connection(?:Pool)?\(host='([^']*)', port=(\w+)\)")


def _plain_host(match: re.Match[str]) -> str:
    host, port = match[1], match[2]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host if port == "None" else f"{host}:{port}"


def translate_error(exc: Exception, method: str, path: str) -> TransportError:
    """Maps a urllib3 or socket exception to the matching `TransportError`.

    The result is also an instance of `exc`'s class (and of its `reason`'s, for a
    `MaxRetryError`): see `TransportError.from_urllib3`.
    """
    original = exc
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    cause = exc.args[1] if isinstance(exc, Urllib3ProtocolError) and len(exc.args) > 1 else None
    error_type: type[TransportError]
    if isinstance(exc, NewConnectionError):
        error_type, what = ConnectError, "could not connect"
    elif isinstance(exc, ConnectTimeoutError):
        error_type, what = ConnectTimeout, "timed out connecting"
    elif isinstance(exc, ReadTimeoutError | TimeoutError) or isinstance(cause, TimeoutError):
        error_type, what = TransportTimeout, "timed out"
    elif isinstance(exc, EmptyPoolError):
        error_type, what = TransportTimeout, "timed out waiting for a pooled connection"
    elif isinstance(exc, urllib3.exceptions.ClosedPoolError):
        error_type, what = TransportError, "the client is closed"
    else:
        error_type, what = ProtocolError, "connection failed"
    detail = _CONNECTION_REPR.sub(_plain_host, str(exc))
    # Also an instance of what urllib3 raised (0.2.x let that through), for old handlers.
    return error_type.from_urllib3(f"{method} {path}: {what}: {detail}", original)


class _DeadlineTimeout(urllib3.Timeout):
    """Timeouts capped at the time left until `deadline`, worked out for each attempt.

    urllib3 clones the timeout for every connection attempt, the ones it retries itself
    included: each clone is capped anew, so a retried connection does not wait the time
    left at the start of the request all over again.
    """

    def __init__(self, connect: float | None, read: float | None, deadline: float) -> None:
        super().__init__(connect=connect, read=read)
        self._uncapped = (connect, read)
        self._deadline = deadline

    def clone(self) -> urllib3.Timeout:
        left = max(self._deadline - time.monotonic(), 0.001)
        connect, read = self._uncapped
        return urllib3.Timeout(
            connect=left if connect is None else min(connect, left),
            read=left if read is None else min(read, left),
        )


class Transport:
    """Sends requests through one urllib3 pool; thread-safe.

    Args:
        pool: The connection pool. Only the connect part of its `retries` is used by
            urllib3 (see `_retry.connect_retries_only`); this class replays the rest.
        max_replays: How many times an idempotent, replayable request is sent again after
            a dropped connection, a timeout or a 429/502/503/504 answer.
        user_agent: The `User-Agent` to send; `None` keeps the pool's, or sends
            `USER_AGENT` if the pool's headers have none.
        deadline: Seconds one request may take, replays and the pauses between them
            included, until its response headers are in; `None`: no limit.
    """

    def __init__(
        self,
        pool: urllib3.connectionpool.HTTPConnectionPool,
        max_replays: int,
        *,
        user_agent: str | None = None,
        deadline: float | None = None,
    ) -> None:
        self.pool = pool
        self.max_replays = max_replays
        self.deadline = deadline
        self.retries = _retry.connect_retries_only(pool.retries)
        self.headers = {k: v for k, v in pool.headers.items() if k.lower() != "user-agent"}
        pool_agent = next((v for k, v in pool.headers.items() if k.lower() == "user-agent"), None)
        self.headers["User-Agent"] = user_agent or pool_agent or USER_AGENT

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: UploadBody | None = None,
        *,
        stream: bool = False,
        idempotent: bool | None = None,
        on_attempt: Callable[[str | None], None] | None = None,
        validate: Callable[[urllib3.BaseHTTPResponse], object] | None = None,
        replay_headers: Callable[[], Mapping[str, str]] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Sends a request and returns its successful (< 400) response.

        With `stream`, the body is left unread and the caller must read or close the
        response to release the connection; otherwise it is read and the connection is
        back in the pool. `idempotent` overrides whether the method may be sent again
        (by default GET, HEAD, PUT and DELETE may). `on_attempt` is called before every
        attempt with the reason for sending again (`None` before the first). `validate`
        reads a successful answer (not streamed); if it raises `ProtocolError` or
        `IntegrityError` (an answer cut or garbled on the way), the request is replayed
        like after a dropped connection, and the last such error raised. `replay_headers`
        is called before every replay for headers that replace those given (a token
        signed anew, as the first attempt's may have expired by then).

        An error raised for a request with a body carries `stored`: `False` if no attempt
        can have been processed (none reached the server, each was refused with a 4xx, or
        the caller's stream failed before the body was complete), otherwise `None`.

        Raises:
            RequestError: The final answer has a status of 400 or more.
            DeadlineExceeded: The deadline passed before a response arrived.
            TransportError: No usable response was received; or the caller's upload
                stream failed while being sent again after an attempt the server may
                have stored (`stored=None`, the stream's error as `__cause__`).
            Exception: Whatever the caller's upload stream raised, unchanged, when no
                attempt can have been stored.
        """
        if idempotent is None:
            idempotent = method in _retry.IDEMPOTENT_METHODS
        replayable = idempotent and (body is None or body.replayable)
        if body is not None and body.content_length is not None:
            # A known length spares the server chunked decoding; urllib3 only measures
            # buffers, not streams.
            headers = {**headers, "Content-Length": str(body.content_length)}
        deadline = None if self.deadline is None else time.monotonic() + self.deadline
        # Once per request: the deadline-bound versions work out the time left themselves,
        # at each (urllib3-internal) attempt.
        timeout = self._timeout(deadline)
        retries = self.retries
        if deadline is not None:
            retries = _retry.DeadlineRetry.bounded(retries, deadline)
        attempt = 0
        reason: str | None = None
        # Whether some attempt may have been processed by the server.
        maybe_processed = False
        try:
            while True:
                if on_attempt is not None:
                    on_attempt(reason)
                if attempt and replay_headers is not None:
                    headers = {**headers, **replay_headers()}
                started = time.monotonic()
                sent = None
                try:
                    # Inside: rewinding a stream can fail (a `SourceError`).
                    sent = None if body is None else body.open()
                    response = self.pool.urlopen(
                        method,
                        path,
                        # urllib3 sends any buffer, and reads any object with read().
                        body=cast("bytes | IO[bytes] | None", sent),
                        headers=headers,
                        preload_content=not stream,
                        decode_content=False,
                        assert_same_host=False,
                        retries=retries,
                        timeout=timeout,
                        # A pool with `block=True` waits for a free connection: not
                        # past the deadline either.
                        pool_timeout=(
                            None
                            if deadline is None
                            # urllib3 annotates an int; a float is what queue.get takes.
                            else cast("int", max(deadline - time.monotonic(), 0.001))
                        ),
                    )
                except SourceError as exc:
                    # The body was cut short, so the server cannot have stored this attempt;
                    # the caller's error is theirs to handle, unchanged.
                    if not maybe_processed:
                        raise exc.original from None
                    # But an earlier attempt may have been stored, which the stream's error
                    # cannot say: the caller gets that unknown (`stored=None`, and the key
                    # from `upload_outcome`), with the stream's error as the cause.
                    raise TransportError(
                        f"{method} {path}: the upload stream failed when sent again"
                        f" ({exc.original!r}); an earlier attempt may have been stored"
                    ) from exc.original
                except (urllib3.exceptions.HTTPError, OSError) as exc:
                    maybe_processed = maybe_processed or not _retry.never_sent(exc)
                    error = translate_error(exc, method, path)
                    reason = type(error).__name__
                    if (
                        replayable
                        and attempt < self.max_replays
                        and _retry.replayable_error(exc)
                        and self._pause(method, path, attempt, str(exc), None, deadline)
                    ):
                        attempt += 1
                        continue
                    if deadline is not None and time.monotonic() >= deadline:
                        raise DeadlineExceeded.from_urllib3(
                            f"{method} {path}: the deadline of {self.deadline} s passed", exc
                        ) from exc
                    raise error from exc
                finally:
                    if isinstance(sent, GeneratorType):
                        # urllib3 drops an iterator it stopped sending from without
                        # closing it: a segmented body's compression threads (and the
                        # segments done ahead) would live on with the error's traceback.
                        sent.close()
                logger.debug(
                    "%s %s -> %s in %.3fs",
                    method,
                    path,
                    response.status,
                    time.monotonic() - started,
                )
                status = response.status
                # A 4xx refuses the request; a 5xx may come from a proxy after the server
                # stored (a 502 on the way back), so it proves nothing.
                maybe_processed = maybe_processed or status >= 500
                reason = f"status_{status}"
                if (
                    status in _retry.RETRY_STATUSES
                    and replayable
                    and attempt < self.max_replays
                    and self._pause(
                        method,
                        path,
                        attempt,
                        reason,
                        _retry.retry_after(response),
                        deadline,
                        release=response,
                    )
                ):
                    attempt += 1
                    continue
                if status >= 300:
                    try:
                        raise_for_status(response, method)
                        # Objectstore never redirects; a 3xx comes from something in
                        # between (say a proxy sending http:// to https://) and means the
                        # request was not carried out: not a success to return.
                        location = response.headers.get("Location")
                        raise RequestError(
                            f"{method} {path} failed with status {status}: redirected"
                            + (f" to {location}" if location else "")
                            + " (Objectstore never redirects: check the base URL)",
                            status,
                            body_text(response),
                        )
                    finally:
                        response.release_conn()
                if validate is not None and not stream:
                    try:
                        validate(response)
                    except (ProtocolError, IntegrityError) as exc:
                        maybe_processed, reason = True, type(exc).__name__
                        if (
                            replayable
                            and attempt < self.max_replays
                            and self._pause(method, path, attempt, str(exc), None, deadline)
                        ):
                            attempt += 1
                            continue
                        raise
                return response
        except ObjectstoreError as exc:
            if body is not None:
                exc.stored = None if maybe_processed else False
            raise

    def _timeout(self, deadline: float | None) -> urllib3.Timeout:
        """The pool's timeouts, each capped at the time left until `deadline`."""
        if deadline is None:
            return self.pool.timeout
        timeout = self.pool.timeout.clone()
        timeout.start_connect()
        connect = urllib3.Timeout.resolve_default_timeout(timeout.connect_timeout)
        read = urllib3.Timeout.resolve_default_timeout(timeout.read_timeout)
        return _DeadlineTimeout(connect, read, deadline)

    def _pause(
        self,
        method: str,
        path: str,
        attempt: int,
        reason: str,
        retry_after: float | None,
        deadline: float | None,
        *,
        release: urllib3.BaseHTTPResponse | None = None,
    ) -> bool:
        """Waits before a replay; `False` (without waiting) if it would end past `deadline`.

        A `release`d answer is drained first, so its connection is not held while waiting.
        """
        delay = _retry.backoff_delay(attempt, retry_after)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        if release is not None:
            release.drain_conn()
            release.release_conn()
        logger.info(
            "retrying %s %s in %.2fs after %s (retry %d of %d)",
            method,
            path,
            delay,
            reason,
            attempt + 1,
            self.max_replays,
        )
        time.sleep(delay)
        return True

    def close(self) -> None:
        """Closes every pooled connection."""
        self.pool.close()
