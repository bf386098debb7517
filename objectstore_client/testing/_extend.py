"""PATCH extend-expiry (protocol §22): move an object's deadline later, never earlier.

Served by today's server, and by a 0.2.0 server only with `extend_expiry=True`. The decision
order is the server's: JSON extraction (415/400/422) → target deadline (400 on overflow) →
permission (403) → missing or expired (404) → never expires (409) → usecase maximum (400) →
already late enough (204, unchanged) → extend (204).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from objectstore_client.testing._context import Context
from objectstore_client.testing._duration import DurationError, Policy, parse_duration
from objectstore_client.testing._http import Response
from objectstore_client.testing._jsonbody import read_json_body
from objectstore_client.testing._metadata import MAX_TIMESTAMP_US, ObjectMeta, to_us
from objectstore_client.testing._objects import WRITE, legacy_filesystem
from objectstore_client.testing._policy import maximum
from objectstore_client.testing._responses import HTTPFailure, empty, json_detail, text_error
from objectstore_client.testing._rfc3339 import parse_rfc3339

_SECOND_US = 1_000_000
_UNITS_S = (86_400, 3600, 60)


def _shape_error(detail: str) -> HTTPFailure:
    return HTTPFailure(
        text_error(422, f"Failed to deserialize the JSON body into the target type: {detail}")
    )


def _ceil_seconds_us(value_us: int) -> int:
    return -(-value_us // _SECOND_US) * _SECOND_US


def _target(document: object, now_us: int) -> tuple[str, int]:
    """The requested deadline: `("at" | "now", µs)` or `("creation", µs after creation)`.

    Raises the 422 for any shape the server's strict deserializer refuses, and the 400 for a
    `from: now` deadline past year 9999.
    """
    if not isinstance(document, dict) or set(document) != {"extend_expiry"}:
        raise _shape_error("expected exactly the field `extend_expiry`")
    spec = document["extend_expiry"]
    if not isinstance(spec, dict):
        raise _shape_error("`extend_expiry` must be an object")
    if set(spec) == {"at"} and isinstance(spec["at"], str):
        try:
            seconds, nanos = parse_rfc3339(spec["at"])
        except ValueError:
            raise _shape_error("`at` must be an RFC 3339 UTC timestamp") from None
        # The deadline is whole seconds, rounded up (`Timestamp::try_from`).
        at_us = (seconds + (1 if nanos else 0)) * _SECOND_US
        if at_us > MAX_TIMESTAMP_US:
            raise _shape_error("`at` is outside the supported range")
        return "at", at_us
    if set(spec) == {"after", "from"} and spec["from"] in ("creation", "now"):
        if not isinstance(spec["after"], str):
            raise _shape_error("`after` must be a duration string")
        try:
            after_us = parse_duration(spec["after"]) // 1000
        except DurationError:
            raise _shape_error("invalid `after` duration") from None
        if spec["from"] == "creation":
            return "creation", after_us
        deadline = _ceil_seconds_us(now_us + after_us)
        if deadline > MAX_TIMESTAMP_US:
            raise HTTPFailure(
                json_detail(400, "client error: expiration deadline is outside supported range")
            )
        return "now", deadline
    raise _shape_error("expected `at`, or `after` with `from`")


def ttl_for(lifetime_us: int) -> int:
    """The TTL (ns) the server records for a new lifetime (protocol §22).

    Whole seconds (rounded up), then the first of days, hours, minutes within 1 % of it.
    """
    seconds = -(-lifetime_us // _SECOND_US)
    for unit in _UNITS_S:
        rounded = (seconds + unit // 2) // unit * unit
        if abs(rounded - seconds) <= seconds // 100:
            return rounded * 1_000_000_000
    return seconds * 1_000_000_000


def _extended(meta: ObjectMeta, deadline: int) -> ObjectMeta:
    assert meta.expires_us is not None
    policy = meta.policy
    if policy.kind == "ttl":
        if meta.time_created is not None:
            lifetime = deadline - to_us(meta.time_created)
        else:
            lifetime = policy.nanos // 1000 + (deadline - meta.expires_us)
        policy = Policy("ttl", ttl_for(lifetime))
    return replace(meta, expires_us=deadline, policy=policy)


def patch(context: Context) -> Response:
    """PATCH: 204 (extended or already late enough), 404, 409, 400, 422, 415 (protocol §22)."""
    document = read_json_body(context.request)
    now_us = to_us(context.now())
    anchor, value = _target(document, now_us)
    context.authorize(WRITE)
    services = context.services
    with services.backend_slot():
        oid = context.oid()
        stored = services.storage.open(oid)
        if stored is not None:
            stored.blob.close()
            if not legacy_filesystem(context) and stored.meta.expired(context.now()):
                stored = None
        if stored is None:
            return empty(404)
        meta = stored.meta
        if meta.policy.kind == "manual" or meta.expires_us is None:
            return json_detail(409, "expiry extension could not be satisfied")
        if anchor == "creation":
            if meta.time_created is None:
                return json_detail(409, "expiry extension could not be satisfied")
            deadline = min(to_us(meta.time_created) + value, MAX_TIMESTAMP_US)
        else:
            deadline = value
        limit = maximum(services.config, context.usecase, meta.policy.kind)
        if limit is not None and deadline > now_us + limit // timedelta(microseconds=1):
            return json_detail(
                400,
                "client error: invalid metadata",
                "requested expiry exceeds maximum remaining lifetime",
            )
        if meta.expires_us >= deadline:
            return empty(204)
        if not services.storage.update_meta(oid, stored.version, _extended(meta, deadline)):
            return json_detail(409, "expiry extension could not be satisfied")
    return empty(204)
