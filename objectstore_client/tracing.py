"""Sentry performance spans: one per storage operation, op `objectstore.<operation>`.

Spans are only created when sentry-sdk is initialised in the process; otherwise every
function here does nothing, at the cost of one check.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from objectstore_client.scope import Scope

logger = logging.getLogger(__name__)

__all__ = [
    "NO_SPAN",
    "SPAN_ORIGIN",
    "SpanAttribute",
    "SpanAttributeValue",
    "storage_span",
    "trace_propagation_headers",
    "tracing_active",
]

SPAN_ORIGIN = "auto.objectstore.client"
"""The origin of every span this SDK creates (`auto.<integration>.<library>`)."""

SpanAttribute = str | int | float | bool

SpanAttributeValue = str | int | float | bool | list[str] | list[int] | list[float]
"""What a span attribute may hold (0.2.x's name): a scalar or a list of one kind."""


class _Named(Protocol):
    """A usecase as 0.2.x passes it to `storage_span`: anything with a `name`."""

    @property
    def name(self) -> str: ...


class _NoSpan:
    """Stands in for a span when Sentry is not active, so call sites need no checks."""

    def set_data(self, key: str, value: Any) -> None:
        """Discards the attribute."""

    def set_attribute(self, key: str, value: Any) -> None:
        """Discards the attribute (0.2.x's name for `set_data`)."""


class _GuardedSpan:
    """A Sentry span whose `set_data` logs instead of raising.

    Tracing is best effort: a failing integration must not fail the operation, least of
    all after it succeeded (an upload's key is set on the span once the object is stored).
    Wraps either kind of sentry-sdk span: a streamed span (`set_attribute`) or a
    transaction-based one (`set_data`).
    """

    __slots__ = ("_set",)

    def __init__(self, span: Any, *, streamed: bool) -> None:
        self._set = span.set_attribute if streamed else span.set_data

    def set_data(self, key: str, value: Any) -> None:
        try:
            self._set(key, value)
        except Exception:
            logger.warning("tracing failed to set span data %s", key, exc_info=True)

    def set_attribute(self, key: str, value: Any) -> None:
        """Sets the attribute (0.2.x's name for `set_data`)."""
        self.set_data(key, value)


NO_SPAN = _NoSpan()
"""What `storage_span` yields when Sentry is not active; stateless, so shared."""


def tracing_active() -> bool:
    """Whether sentry-sdk is initialised and active, so that spans would be recorded."""
    # sentry-sdk is imported here, not at the top: it takes longer to import than the
    # whole SDK. A program that never imported it cannot have initialised it.
    if "sentry_sdk" not in sys.modules:
        return False
    import sentry_sdk

    return sentry_sdk.get_client().is_active()


@contextmanager
def storage_span(
    operation: str, usecase: str | _Named, scope: Scope, **attributes: SpanAttributeValue | None
) -> Generator[Any]:
    """Runs the enclosed block in a span `objectstore.<operation>` named after the usecase.

    The span carries `objectstore.usecase`, `objectstore.scopes.<name>` for each scope
    component and `objectstore.<name>` for each non-`None` keyword argument. The yielded
    span accepts `set_data(key, value)` for attributes known only later; an error from
    sentry-sdk while setting an attribute is logged as a warning, never raised; it also
    accepts 0.2.x's `set_attribute(key, value)`. An exception
    leaving the block marks the span as failed and propagates.

    Args:
        operation: The operation, e.g. `"put"`.
        usecase: The usecase name, or the `Usecase` (as 0.2.x passes it).
        scope: The scope of the session.
        **attributes: Extra span attributes.
    """
    if not tracing_active():
        yield NO_SPAN
        return
    if not isinstance(usecase, str):
        usecase = usecase.name
    op = f"objectstore.{operation}"
    name = f"{op} {usecase}"
    described: dict[str, Any] = {"objectstore.usecase": usecase}
    for scope_name, scope_value in scope.dict().items():
        described[f"objectstore.scopes.{scope_name}"] = scope_value
    if _span_streaming():
        import sentry_sdk.traces

        # The operation, usecase and scope are given at the start, as 0.2.10 does, so
        # that a traces sampler sees them; the caller's values (a key) go through the
        # guard like the later ones.
        started = {"sentry.op": op, "sentry.origin": SPAN_ORIGIN, **described}
        with sentry_sdk.traces.start_span(name=name, attributes=started) as streamed:
            span = _GuardedSpan(streamed, streamed=True)
            _set_attributes(span, attributes)
            yield span
        return
    import sentry_sdk

    with sentry_sdk.start_span(op=op, name=name, origin=SPAN_ORIGIN) as legacy:
        span = _GuardedSpan(legacy, streamed=False)
        for key, value in described.items():
            span.set_data(key, value)
        _set_attributes(span, attributes)
        yield span


def _set_attributes(span: _GuardedSpan, attributes: dict[str, SpanAttributeValue | None]) -> None:
    """Sets `objectstore.<name>` for each attribute that is not `None`."""
    for name, value in attributes.items():
        if value is not None:
            span.set_data(f"objectstore.{name}", value)


def _span_streaming() -> bool:
    """Whether spans must be started with `sentry_sdk.traces.start_span` (span streaming).

    sentry-sdk 3 has no other span API. From 2.66 to the last 2.x, both exist, but the
    streaming one is only recorded when span streaming is enabled (`trace_lifecycle=
    "stream"`) and the transaction-based one only when it is not; each returns a span
    that records nothing (and warns) in the other mode. Before 2.66 only the
    transaction-based one exists.
    """
    import sentry_sdk

    if not hasattr(sentry_sdk, "start_transaction"):
        return True  # 3.x
    import sentry_sdk.tracing_utils

    enabled = getattr(sentry_sdk.tracing_utils, "has_span_streaming_enabled", None)
    return enabled is not None and bool(enabled(sentry_sdk.get_client().options))


def trace_propagation_headers() -> Iterator[tuple[str, str]]:
    """Yields the `sentry-trace`/`baggage` headers to continue the current trace.

    Yields nothing when Sentry is not active, or when sentry-sdk's `StdlibIntegration` is,
    because that integration adds the same headers to every request itself; sending them
    twice would give the request two `sentry-trace` headers.
    """
    if "sentry_sdk" not in sys.modules:
        return  # never imported, so never initialised (see `tracing_active`)
    import sentry_sdk
    from sentry_sdk.integrations.stdlib import StdlibIntegration

    client = sentry_sdk.get_client()
    if not client.is_active() or client.get_integration(StdlibIntegration) is not None:
        return
    yield from sentry_sdk.get_current_scope().iter_trace_propagation_headers()
