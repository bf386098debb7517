"""The request pipeline in the real server's order (protocol §3); the services handlers share."""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from objectstore_client.testing import _batch, _extend, _multipart, _objects, _resumable
from objectstore_client.testing._auth import AuthFailure, Verifier
from objectstore_client.testing._config import ServerConfig
from objectstore_client.testing._context import Context
from objectstore_client.testing._duration import Policy
from objectstore_client.testing._fskeys import FilesystemKeys
from objectstore_client.testing._http import Request, Response
from objectstore_client.testing._metadata import request_time
from objectstore_client.testing._policy import check_policy
from objectstore_client.testing._responses import (
    SERVER,
    TEXT,
    HTTPFailure,
    empty,
    json_error,
    text_error,
)
from objectstore_client.testing._routing import (
    NoRoute,
    PathError,
    Route,
    WrongMethod,
    decode_param,
    match,
    parse_scopes,
)
from objectstore_client.testing._storage import Storage
from objectstore_client.testing._upload_query import UploadOp, classify
from objectstore_client.testing._upload_sessions import UploadSessions

logger = logging.getLogger(__name__)

_POD_SUFFIX = re.compile(r"-[a-z0-9]{5,10}-[a-z0-9]{5}$")


class _TokenBucket:
    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._tokens = rate
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._rate, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


_Handler = Callable[[Context], Response]
_HANDLERS: dict[tuple[Route, str], _Handler] = {
    ("object", "GET"): _objects.get,
    ("object", "HEAD"): _objects.head,
    ("object", "PUT"): _objects.put,
    ("object", "DELETE"): _objects.delete,
    ("object", "PATCH"): _extend.patch,
    ("collection", "POST"): _objects.post,
    ("batch", "POST"): _batch.handle,
    ("multipart", "PUT"): _multipart.initiate,
    ("multipart_collection", "POST"): _multipart.initiate,
    ("multipart", "DELETE"): _multipart.abort,
    ("parts", "PUT"): _multipart.put_part,
    ("parts", "GET"): _multipart.list_parts,
    ("parts", "HEAD"): _multipart.list_parts,
    ("complete", "POST"): _multipart.complete,
}

# Resumable uploads (protocol §23) on a current server, by (route, method, operation); the
# handlers are in `_resumable`. Every (route, method, operation) of `_RESUMABLE_METHODS` has one.
_RESUMABLE: dict[tuple[Route, str, UploadOp], _Handler] = {
    ("collection", "POST", "create"): _resumable.create,
    # The collection route has no existing-session operation. The server's test sends
    # `POST …?session=…` without `upload-length` and gets the create handler's 400; every
    # resumable POST goes to create (§23.1 leaves the rest open).
    ("collection", "POST", "continue"): _resumable.create,
    ("object", "PUT", "create"): _resumable.create,
    ("object", "PUT", "continue"): _resumable.write,
    ("object", "DELETE", "continue"): _resumable.cancel,
    # Without `session`, the cancel handler's query check answers 400 (§23.1).
    ("object", "DELETE", "create"): _resumable.cancel,
}
_RESUMABLE_METHODS: frozenset[tuple[Route, str]] = frozenset(
    {("collection", "POST"), ("object", "PUT"), ("object", "DELETE")}
)


class App:
    """Handles requests for one server: routing, auth, limits, then the endpoint handlers."""

    def __init__(
        self,
        config: ServerConfig,
        storage: Storage,
        clock: Callable[[], datetime] | None = None,
        upload_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.storage = storage
        self.upload_sessions = UploadSessions(upload_dir)
        self._clock = clock
        self._verifier = Verifier(config.auth_keys, config.auth_enforced)
        self._concurrency = threading.BoundedSemaphore(config.max_concurrency)
        self._busy = 0
        self._bucket = _TokenBucket(config.rate_limit_rps) if config.rate_limit_rps else None
        self._counters = {"requests": 0, "bytes": 0}
        self.fs_keys = FilesystemKeys() if config.semantics == "filesystem" else None
        self._counter_lock = threading.Lock()

    def now(self) -> datetime:
        """The current time (UTC), from the configured clock."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    @property
    def current(self) -> bool:
        """Whether the server speaks today's protocol (`server_version="current"`)."""
        return self.config.current

    @property
    def production(self) -> bool:
        """Whether the production backends' semantics apply (else the filesystem's)."""
        return self.config.semantics == "production"

    @staticmethod
    def exempt(path: str) -> bool:
        """Paths not subject to the in-flight request limit (protocol §1, §12)."""
        return path in ("/health", "/ready", "/keda") or path.startswith("/debug/")

    def handle(self, request: Request) -> Response:
        """Answers one request; never raises for bad input."""
        with self._counter_lock:
            self._counters["requests"] += 1
        try:
            response = self._dispatch(request)
        except HTTPFailure as failure:
            response = failure.response
        response.headers.insert(0, SERVER)
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            found = match(request.method, request.path, patch_objects=self.config.patch_enabled)
        except NoRoute:
            return empty(404)
        except WrongMethod as exc:
            return empty(405, ("allow", ",".join(exc.allow)))
        if found.route in ("health", "ready", "keda"):
            return self._service_endpoint(found.route)
        handler = _HANDLERS[(found.route, request.method)]
        if self.current and (found.route, request.method) in _RESUMABLE_METHODS:
            # Runs before auth, as the server's dispatcher does (protocol §23.1).
            operation = classify(request.query)
            if operation is not None:
                handler = _RESUMABLE[(found.route, request.method, operation)]
        try:
            grant = self._verifier.authenticate(
                request.method, request.path, request.query, request.headers
            )
        except AuthFailure as failure:
            return json_error(failure.status, "auth error", *failure.chain)
        try:
            usecase = decode_param(found.usecase, "usecase")
            scopes_text = decode_param(found.scopes, "scopes")
            key = decode_param(found.key, "key")
            scopes = parse_scopes(scopes_text)
        except PathError as exc:
            return text_error(400, f"Invalid URL: {exc}")
        if self._killed(usecase, scopes, request.header("x-downstream-service")):
            return text_error(403, "Object access is disabled for this scope through killswitches")
        if not self.take_rate_token():
            return text_error(429, "Object access is rate limited")
        now = self.now()
        time = request_time(now) if self.current else now
        context = Context(self, request, grant, usecase, scopes, key, time)
        try:
            return handler(context)
        except AuthFailure as failure:
            return json_error(failure.status, "auth error", *failure.chain)

    def take_rate_token(self) -> bool:
        """Consumes one request's worth of the rate limit; False when exhausted."""
        return self._bucket is None or self._bucket.take()

    def _killed(
        self, usecase: str, scopes: tuple[tuple[str, str], ...], service: str | None
    ) -> bool:
        scope_map = dict(scopes)
        for switch in self.config.killswitches:
            if switch.usecase is not None and switch.usecase != usecase:
                continue
            if any(scope_map.get(k) != v for k, v in switch.scopes.items()):
                continue
            if switch.service is not None:
                name = _POD_SUFFIX.sub("", service or "")
                if service is None or not fnmatch.fnmatchcase(name, switch.service):
                    continue
            return True
        return False

    @contextmanager
    def backend_slot(self) -> Iterator[None]:
        """Holds one of `max_concurrency` backend slots; 429 JSON when none is free (§14)."""
        if not self.try_backend_slot():
            raise HTTPFailure(json_error(429, "service error", "concurrency limit reached"))
        try:
            yield
        finally:
            self.release_slot()

    def try_backend_slot(self) -> bool:
        """Takes a backend slot without a context manager (released by `release_slot`)."""
        if not self._concurrency.acquire(blocking=False):
            return False
        with self._counter_lock:
            self._busy += 1
        return True

    def release_slot(self) -> None:
        """Releases a slot taken by `try_backend_slot`."""
        with self._counter_lock:
            self._busy -= 1
        self._concurrency.release()

    def check_policy(self, usecase: str, policy: Policy) -> None:
        """Raises `PolicyError` if the usecase's restrictions forbid `policy` (§9.6)."""
        check_policy(self.config, usecase, policy)

    def count_bytes(self, amount: int) -> None:
        """Adds to the `/keda` byte counter."""
        with self._counter_lock:
            self._counters["bytes"] += amount

    def _service_endpoint(self, route: Route) -> Response:
        if route == "health":
            return Response(200, [TEXT], b"OK")
        if route == "ready":
            if os.path.exists(os.path.join(tempfile.gettempdir(), "objectstore.down")):
                return Response(503, [TEXT], b"Shutting down")
            return Response(200, [TEXT], b"OK")
        with self._counter_lock:
            requests, sent = self._counters["requests"], self._counters["bytes"]
        busy = self._busy
        lines = [
            "# TYPE objectstore_bytes_total counter",
            f"objectstore_bytes_total {sent}",
            "# TYPE objectstore_requests_total counter",
            f"objectstore_requests_total {requests}",
            "# TYPE objectstore_requests_in_flight gauge",
            f"objectstore_requests_in_flight {busy}",
            "# TYPE objectstore_requests_limit gauge",
            f"objectstore_requests_limit {self.config.max_requests}",
            "# TYPE objectstore_tasks_running gauge",
            f"objectstore_tasks_running {busy}",
            "# TYPE objectstore_tasks_limit gauge",
            f"objectstore_tasks_limit {self.config.max_concurrency}",
        ]
        if self.config.rate_limit_rps:
            lines += [
                "# TYPE objectstore_throughput_limit gauge",
                f"objectstore_throughput_limit {self.config.rate_limit_rps}",
            ]
        body = ("\n".join(lines) + "\n").encode()
        return Response(200, [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body)
