"""`RequestContext`: everything the requests of one session share, and their execution.

A context binds a transport (pool, retries, user agent) to a base path, a usecase and a
scope, with the session's credentials, metrics backend and tracing. `Client.session()`
builds one; `Session` is a facade of public verbs over it, and the external-access
functions (`_access`) read it. It turns a `RequestPlan` into a request on the wire
(`send`) and wraps an operation in its span and metrics (`measure`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal
from urllib.parse import quote

import urllib3

from objectstore_client import _protocol
from objectstore_client._download import Reopen, Translate
from objectstore_client._measure import current_emitter, measure
from objectstore_client._plans.request import CREATING_OPERATIONS, Endpoint, RequestPlan
from objectstore_client._transport import Transport, translate_error
from objectstore_client._upload import UploadBody
from objectstore_client.auth import TokenGenerator, TokenProvider
from objectstore_client.errors import EndpointNotFound, ObjectNotFound
from objectstore_client.metrics import MetricsBackend, StorageMetricEmitter
from objectstore_client.scope import Scope
from objectstore_client.tracing import trace_propagation_headers
from objectstore_client.usecase import Usecase

__all__ = ["AuthHeader", "RequestContext"]

AuthHeader = Literal["authorization", "x-os-auth"]
"""Which header carries the token: `Authorization` or `X-Os-Auth` (protocol §13.2)."""

_AUTH_HEADER_NAMES: dict[AuthHeader, str] = {
    "authorization": "Authorization",
    "x-os-auth": "X-Os-Auth",
}


class RequestContext:
    """The shared state of one session's requests; immutable but for the usecase's name.

    Thread-safe: it holds no per-request state. The usecase may be renamed (allowed since
    0.0.19); paths follow the new name.

    Args:
        transport: Sends requests and applies the retry policy.
        base_path: The path of the client's base URL, prepended to every request path.
        usecase: The usecase of every request.
        scope: The scope of every request.
        token: Signs (a `TokenGenerator`) or is (a `str`) the token of every request;
            `None` sends none.
        auth_header: The header that carries the token.
        metrics_backend: Receives `storage.*` metrics.
        propagate_traces: Send Sentry's trace headers.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        base_path: str,
        usecase: Usecase,
        scope: Scope,
        token: TokenProvider | None,
        auth_header: AuthHeader,
        metrics_backend: MetricsBackend,
        propagate_traces: bool,
    ) -> None:
        self.transport = transport
        # As urllib3 will send it: presigned URLs sign the path exactly as sent.
        self.base_path = _protocol.normalize_base_path(base_path)
        self.usecase = usecase
        self.scope = scope
        self.token = token
        self.metrics_backend = metrics_backend
        self.propagate_traces = propagate_traces
        self._auth_header = _AUTH_HEADER_NAMES[auth_header]
        # (usecase name, endpoint -> collection path), rebuilt when the usecase is renamed.
        # Replaced as one tuple, so threads never see a name with another name's paths.
        self._collections: tuple[str, dict[Endpoint, str]] = (usecase.name, {})

    def path(self, key: str | None, endpoint: Endpoint = "objects") -> str:
        """The request path of `key` (or of the collection, ending in `/`) on `endpoint`."""
        name, collections = self._collections
        if name != self.usecase.name:
            name, collections = self._collections = (self.usecase.name, {})
        collection = collections.get(endpoint)
        if collection is None:
            collection = collections[endpoint] = _protocol.object_path(
                self.base_path, name, self.scope, None, endpoint
            )
        # Only the key changes from one request to the next: quote just that.
        return collection if key is None else collection + _protocol.encode_key(key)

    def url(self, path: str) -> str:
        """`scheme://host[:port]` of the server, then `path`."""
        pool = self.transport.pool
        return _protocol.url_origin(pool.scheme, pool.host, pool.port) + path

    def headers(self) -> dict[str, str]:
        """The headers every request carries: user agent, pool headers, traces, token."""
        headers = dict(self.transport.headers)
        if self.propagate_traces:
            headers.update(trace_propagation_headers())
        headers.update(self.token_header())
        return headers

    def token_header(self) -> dict[str, str]:
        """The header with the token, if any: a signed one is fresh at every call."""
        token = self.token
        if isinstance(token, TokenGenerator):
            return {
                self._auth_header: (
                    f"Bearer {token.token_for_request(self.usecase.name, self.scope)}"
                )
            }
        if token:
            return {self._auth_header: f"Bearer {token}"}
        return {}

    def measure(
        self, operation: str, key: str | None
    ) -> AbstractContextManager[tuple[Any, StorageMetricEmitter]]:
        """This session's span and metrics around one operation (see `_measure.measure`)."""
        return measure(self.metrics_backend, operation, self.usecase.name, self.scope, key)

    def target(self, plan: RequestPlan) -> str:
        """The path and query a plan is sent to."""
        path = self.path(plan.key, plan.endpoint)
        if plan.query:
            path += "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in plan.query)
        return path

    def send(
        self,
        plan: RequestPlan,
        target: str | None = None,
        *,
        validate: Callable[[urllib3.BaseHTTPResponse], object] | None = None,
    ) -> tuple[urllib3.BaseHTTPResponse, UploadBody | None]:
        """Executes a plan: sends its request, with replays as `_retry` allows.

        The body is prepared here (bytes are compressed now, streams while sending).
        Returns the successful response (unread if the plan streams) and the body sent.
        `validate` checks a read successful answer (see `Transport.request`).

        Raises:
            RequestError: The final answer has a status of 400 or more.
            TransportError: No usable response was received, or the upload stream
                failed when sent again (see `Transport.request`).
            Exception: Whatever the caller's upload stream raised, unchanged, when no
                attempt can have been stored.
        """
        body = plan.body.prepare() if plan.body is not None else None
        headers = self.headers()
        if plan.headers:
            headers.update(plan.headers)
        emitter = current_emitter()
        # A replay may go out long after the first attempt (timeouts, back-off): it gets
        # a token signed for then, not the first attempt's, which may have expired.
        refresh = isinstance(self.token, TokenGenerator) and not (
            plan.headers and self._auth_header in plan.headers
        )
        try:
            response = self.transport.request(
                plan.method,
                target or self.target(plan),
                headers,
                body,
                stream=plan.stream,
                idempotent=plan.idempotent,
                on_attempt=None if emitter is None else emitter.record_attempt,
                validate=validate,
                replay_headers=self.token_header if refresh else None,
            )
        except ObjectNotFound as exc:
            if plan.operation not in CREATING_OPERATIONS:
                raise
            error = EndpointNotFound(
                f"{exc} (no Objectstore endpoint at this path: "
                "check the base URL's path and the usecase)",
                exc.status,
                exc.response,
            )
            error.stored = exc.stored  # A 404 refused the upload, as the transport says.
            raise error from exc
        return response, body

    @staticmethod
    def translator(method: str, path: str) -> Translate:
        """Turns network errors while reading a response body into the SDK's."""
        return lambda exc: translate_error(exc, method, path)

    def resender(self, plan_for: Callable[[int, int | None], RequestPlan], target: str) -> Reopen:
        """Sends `plan_for(first, last)` to `target`: how a broken download resumes."""
        return lambda first, last: self.send(plan_for(first, last), target)[0]
