"""Metrics: a pluggable backend and the `storage.<operation>.*` metrics of every operation.

Metric names and tags are those of objectstore-client 0.0.19, so existing dashboards keep
working:

* `storage.<op>.latency` (seconds), tags `usecase` and `outcome` (`success`/`error`, new);
* `storage.put.size` (bytes), tags `usecase`, `compression` (`none`: bytes read from the
  caller, `zstd`: bytes sent);
* `storage.<op>.attempts` (requests sent for the operation, replays included; new), tags
  `usecase`, `outcome`; `storage.<op>.retries` (counter, new): one per replay, tags
  `usecase` and `reason` (`status_503`, `ProtocolError`, `TransportTimeout`, ...);
* `storage.put.compression_ratio`, `storage.put.throughput` (bytes/s) and
  `storage.put.inverse_throughput` (s/byte), tags `usecase`, `compression`.

Sizes are counted while the body is sent, never read back from the caller's stream.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

__all__ = [
    "MetricsBackend",
    "NoOpMetricsBackend",
    "StorageMetricEmitter",
    "Tags",
    "measure_storage_operation",
]

Tags = Mapping[str, str]

logger = logging.getLogger(__name__)


@runtime_checkable
class MetricsBackend(Protocol):
    """Receives the SDK's metrics; implement it to forward them to your metrics system."""

    @abstractmethod
    def increment(self, name: str, value: int | float = 1, tags: Tags | None = None) -> None:
        """Increments the counter `name` by `value`."""
        raise NotImplementedError

    @abstractmethod
    def gauge(self, name: str, value: int | float, tags: Tags | None = None) -> None:
        """Sets the gauge `name` to `value`."""
        raise NotImplementedError

    @abstractmethod
    def distribution(
        self, name: str, value: int | float, tags: Tags | None = None, unit: str | None = None
    ) -> None:
        """Records `value` in the distribution `name`."""
        raise NotImplementedError


class NoOpMetricsBackend(MetricsBackend):
    """The default backend: discards every metric."""

    def increment(self, name: str, value: int | float = 1, tags: Tags | None = None) -> None:
        """Discards the metric."""

    def gauge(self, name: str, value: int | float, tags: Tags | None = None) -> None:
        """Discards the metric."""

    def distribution(
        self, name: str, value: int | float, tags: Tags | None = None, unit: str | None = None
    ) -> None:
        """Discards the metric."""


class StorageMetricEmitter:
    """Emits the metrics of one storage operation; yielded by `measure_storage_operation`.

    Args:
        backend: Where metrics go.
        operation: The operation name, e.g. `"put"`; metric names are `storage.<operation>.*`.
        usecase: The usecase name, sent as the `usecase` tag.
    """

    def __init__(self, backend: MetricsBackend, operation: str, usecase: str) -> None:
        self.backend = backend
        self.operation = operation
        self.usecase = usecase
        self.start: int | None = None
        self.elapsed: float | None = None
        self.size: int | None = None
        self.uncompressed_size: int | None = None
        self.compressed_size: int | None = None
        self.compression: str = "unknown"
        self.outcome: str = "success"
        self.attempts = 0

    def record_latency(self, elapsed: float) -> None:
        """Records how long the operation took, in seconds."""
        tags = {"usecase": self.usecase, "outcome": self.outcome}
        self.backend.distribution(f"storage.{self.operation}.latency", elapsed, tags=tags)
        self.elapsed = elapsed

    def record_attempt(self, reason: str | None) -> None:
        """Counts a request sent; a replay (`reason`: why) also counts in `retries`."""
        self.attempts += 1
        if reason is not None:
            tags = {"usecase": self.usecase, "reason": reason}
            self.backend.increment(f"storage.{self.operation}.retries", tags=tags)

    def maybe_record_attempts(self) -> None:
        """Records how many requests were sent, if any were counted."""
        if self.attempts:
            tags = {"usecase": self.usecase, "outcome": self.outcome}
            self.backend.distribution(
                f"storage.{self.operation}.attempts", self.attempts, tags=tags
            )

    def record_uncompressed_size(self, value: int) -> None:
        """Records the payload size before compression, in bytes."""
        self._record_size(value, "none")
        self.uncompressed_size = value

    def record_size(self, value: int) -> None:
        """Records a payload size with no compression tag (a part or chunk), in bytes."""
        tags = {"usecase": self.usecase}
        self.backend.distribution(f"storage.{self.operation}.size", value, tags=tags, unit="byte")
        self.size = value

    def record_compressed_size(self, value: int, compression: str = "unknown") -> None:
        """Records the payload size as sent, compressed with `compression`, in bytes."""
        self._record_size(value, compression)
        self.compressed_size = value
        self.compression = compression

    def _record_size(self, value: int, compression: str) -> None:
        tags = {"usecase": self.usecase, "compression": compression}
        self.backend.distribution(f"storage.{self.operation}.size", value, tags=tags, unit="byte")

    def maybe_record_compression_ratio(self) -> None:
        """Records compressed/uncompressed size, if both are known and non-zero."""
        if not self.uncompressed_size or not self.compressed_size:
            return
        tags = {"usecase": self.usecase, "compression": self.compression}
        self.backend.distribution(
            f"storage.{self.operation}.compression_ratio",
            self.compressed_size / self.uncompressed_size,
            tags=tags,
        )

    def maybe_record_throughputs(self) -> None:
        """Records throughput and inverse throughput for every known non-zero size."""
        if not self.elapsed or self.elapsed <= 0:
            return
        sizes: list[tuple[int, str | None]] = []
        if self.size:
            sizes.append((self.size, None))
        if self.uncompressed_size:
            sizes.append((self.uncompressed_size, "none"))
        if self.compressed_size:
            sizes.append((self.compressed_size, self.compression))
        for size, compression in sizes:
            tags = {"usecase": self.usecase}
            if compression is not None:
                tags["compression"] = compression
            self.backend.distribution(
                f"storage.{self.operation}.throughput", size / self.elapsed, tags=tags
            )
            self.backend.distribution(
                f"storage.{self.operation}.inverse_throughput", self.elapsed / size, tags=tags
            )


@contextmanager
def measure_storage_operation(
    backend: MetricsBackend,
    operation: str,
    usecase: str,
    uncompressed_size: int | None = None,
    compressed_size: int | None = None,
    compression: str = "unknown",
) -> Generator[StorageMetricEmitter]:
    """Measures the latency of the enclosed block and records sizes given or set on the way.

    Yields the emitter, so sizes known only inside the block can be recorded there. On
    exit it records the latency (tagged `outcome:error` if the block raised), then the
    compression ratio and throughputs when sizes are known.
    """
    emitter = StorageMetricEmitter(backend, operation, usecase)
    if uncompressed_size:
        emitter.record_uncompressed_size(uncompressed_size)
    if compressed_size:
        emitter.record_compressed_size(compressed_size, compression)
    start = time.monotonic()
    try:
        yield emitter
    except BaseException:
        emitter.outcome = "error"
        raise
    finally:
        emitter.record_latency(time.monotonic() - start)
        emitter.maybe_record_attempts()
        emitter.maybe_record_compression_ratio()
        emitter.maybe_record_throughputs()


class GuardedMetricsBackend(MetricsBackend):
    """Forwards to a backend, logging instead of raising when the backend fails.

    The SDK records every operation's metrics through this wrapper: by the time most
    metrics are recorded the operation has already happened (an object was stored), so a
    failing metrics system must not turn it into an error and lose its result. Private to
    the SDK; `measure_storage_operation` called directly still lets backend errors through.
    """

    def __init__(self, backend: MetricsBackend) -> None:
        self.backend = backend

    def _failed(self, name: str) -> None:
        logger.warning("metrics backend %r failed to record %s", self.backend, name, exc_info=True)

    def increment(self, name: str, value: int | float = 1, tags: Tags | None = None) -> None:
        """Forwards to the wrapped backend; logs a warning if it raises."""
        try:
            self.backend.increment(name, value, tags=tags)
        except Exception:
            self._failed(name)

    def gauge(self, name: str, value: int | float, tags: Tags | None = None) -> None:
        """Forwards to the wrapped backend; logs a warning if it raises."""
        try:
            self.backend.gauge(name, value, tags=tags)
        except Exception:
            self._failed(name)

    def distribution(
        self, name: str, value: int | float, tags: Tags | None = None, unit: str | None = None
    ) -> None:
        """Forwards to the wrapped backend; logs a warning if it raises."""
        try:
            self.backend.distribution(name, value, tags=tags, unit=unit)
        except Exception:
            self._failed(name)
