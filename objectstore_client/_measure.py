"""One operation's Sentry span and `storage.<operation>.*` metrics, as one context manager."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from objectstore_client.metrics import (
    MetricsBackend,
    NoOpMetricsBackend,
    StorageMetricEmitter,
    _GuardedMetricsBackend,
    measure_storage_operation,
)
from objectstore_client.scope import Scope
from objectstore_client.tracing import NO_SPAN, storage_span, tracing_active


class _Unmeasured:
    """`measure` when nothing would record the operation: no span, no metrics.

    A plain object rather than the nested generator context managers of the measured
    path, which cost a sixth of a small request when Sentry is off and metrics go nowhere.
    """

    __slots__ = ("_entered",)

    def __init__(self, emitter: StorageMetricEmitter) -> None:
        self._entered = (NO_SPAN, emitter)

    def __enter__(self) -> tuple[Any, StorageMetricEmitter]:
        return self._entered

    def __exit__(self, *exc_info: object) -> None:
        return None


def measure(
    backend: MetricsBackend, operation: str, usecase: str, scope: Scope, key: str | None
) -> AbstractContextManager[tuple[Any, StorageMetricEmitter]]:
    """Wraps one operation in its Sentry span and its `storage.<operation>.*` metrics.

    Yields the span and the metric emitter. When Sentry is not active and the backend is
    exactly `NoOpMetricsBackend` (a subclass may record), neither is created.
    """
    if type(backend) is NoOpMetricsBackend and not tracing_active():
        return _Unmeasured(StorageMetricEmitter(backend, operation, usecase))
    return _measured(backend, operation, usecase, scope, key)


@contextmanager
def _measured(
    backend: MetricsBackend, operation: str, usecase: str, scope: Scope, key: str | None
) -> Iterator[tuple[Any, StorageMetricEmitter]]:
    # Metrics are best effort: the backend's errors are logged (spans guard themselves).
    guarded = _GuardedMetricsBackend(backend)
    with (
        storage_span(operation, usecase, scope, key=key) as span,
        measure_storage_operation(guarded, operation, usecase) as emitter,
    ):
        yield span, emitter
