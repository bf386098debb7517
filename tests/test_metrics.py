from __future__ import annotations

import io

import pytest

from objectstore_client import Client, MetricsBackend, NoOpMetricsBackend, Usecase
from objectstore_client.metrics import StorageMetricEmitter, measure_storage_operation


class Recorder(MetricsBackend):
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, dict[str, str], str | None]] = []

    def increment(self, name, value=1, tags=None):
        self.calls.append((name, value, dict(tags or {}), None))

    def gauge(self, name, value, tags=None):
        self.calls.append((name, value, dict(tags or {}), None))

    def distribution(self, name, value, tags=None, unit=None):
        self.calls.append((name, value, dict(tags or {}), unit))

    def named(self, name: str):
        return [call for call in self.calls if call[0] == name]


def test_noop_backend_is_a_backend():
    backend = NoOpMetricsBackend()
    assert isinstance(backend, MetricsBackend)
    backend.increment("x")
    backend.gauge("x", 1)
    backend.distribution("x", 1, unit="byte")


def test_measure_storage_operation_records_everything():
    backend = Recorder()
    with measure_storage_operation(backend, "put", "uc", uncompressed_size=100) as emitter:
        assert isinstance(emitter, StorageMetricEmitter)
        emitter.record_compressed_size(25, "zstd")
    names = [call[0] for call in backend.calls]
    assert names == [
        "storage.put.size",
        "storage.put.size",
        "storage.put.latency",
        "storage.put.compression_ratio",
        "storage.put.throughput",
        "storage.put.inverse_throughput",
        "storage.put.throughput",
        "storage.put.inverse_throughput",
    ]
    assert backend.calls[0] == (
        "storage.put.size",
        100,
        {"usecase": "uc", "compression": "none"},
        "byte",
    )
    assert backend.named("storage.put.latency")[0][2] == {"usecase": "uc", "outcome": "success"}
    assert backend.named("storage.put.compression_ratio")[0][1] == 0.25


def test_latency_of_a_failed_operation_is_tagged_error():
    backend = Recorder()
    with pytest.raises(RuntimeError), measure_storage_operation(backend, "get", "uc"):
        raise RuntimeError
    assert backend.named("storage.get.latency")[0][2] == {"usecase": "uc", "outcome": "error"}


def test_client_operations_emit_0_0_19_metrics(objectstore_url, objectstore_usecase):
    backend = Recorder()
    with Client(objectstore_url, metrics_backend=backend) as client:
        session = client.session(Usecase(objectstore_usecase))
        stream = io.BytesIO(b"skip" + b"a" * 10_000)
        stream.seek(4)
        key = session.put(stream)
        session.get(key).payload.read()
        session.head(key)
        session.delete(key)
        session.get_or_none(key)
    sizes = backend.named("storage.put.size")
    assert sizes[0][1:3] == (10_000, {"usecase": objectstore_usecase, "compression": "none"})
    assert sizes[1][2] == {"usecase": objectstore_usecase, "compression": "zstd"}
    assert 0 < sizes[1][1] < 10_000
    assert backend.named("storage.put.compression_ratio")
    assert backend.named("storage.put.throughput")
    latencies = [(c[0], c[2]["outcome"]) for c in backend.calls if c[0].endswith(".latency")]
    assert latencies == [
        ("storage.put.latency", "success"),
        ("storage.get.latency", "success"),
        ("storage.head.latency", "success"),
        ("storage.delete.latency", "success"),
        ("storage.get.latency", "error"),
    ]


def test_a_subclass_of_the_noop_backend_receives_metrics(objectstore_url, objectstore_usecase):
    class Counting(NoOpMetricsBackend):
        def __init__(self) -> None:
            self.names: list[str] = []

        def distribution(self, name, value, tags=None, unit=None):
            self.names.append(name)

    backend = Counting()
    with Client(objectstore_url, metrics_backend=backend) as client:
        session = client.session(Usecase(objectstore_usecase))
        session.delete(session.put(b"x"))
    assert "storage.put.latency" in backend.names
    assert "storage.delete.latency" in backend.names


def test_a_failing_backend_never_fails_an_operation(objectstore_url, objectstore_usecase, caplog):
    class Failing(NoOpMetricsBackend):
        def distribution(self, name, value, tags=None, unit=None):
            raise RuntimeError(f"statsd down ({name})")

    with Client(objectstore_url, metrics_backend=Failing()) as client:
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"data")
        assert session.get(key).payload.read() == b"data"
        assert session.head(key) is not None
        session.delete(key)
        assert session.get_or_none(key) is None
    assert "statsd down" in caplog.text
    assert any(record.levelname == "WARNING" for record in caplog.records)
