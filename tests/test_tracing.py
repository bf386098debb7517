"""Spans per operation, against every span API the installed sentry-sdk has.

sentry-sdk 2.x before 2.66 has transaction-based spans only; 2.66 to the last 2.x has
those and streamed spans (`trace_lifecycle="stream"`); 3.x has streamed spans only. Each
test runs in every mode the installed version has; the mode it lacks is skipped, naming
the version. tracing.py must pass against the oldest supported 2.x, the newest 2.x and
3.x (see pyproject.toml).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.integrations.stdlib import StdlibIntegration

from objectstore_client import Client, Usecase
from objectstore_client.scope import Scope
from objectstore_client.tracing import SPAN_ORIGIN, storage_span, trace_propagation_headers
from tests._spans import Recorded, recorded

# sentry-sdk 3 removed `start_transaction` along with transaction-based spans.
HAS_TRANSACTIONS = hasattr(sentry_sdk, "start_transaction")
HAS_STREAMING = importlib.util.find_spec("sentry_sdk.traces") is not None


def _sdk() -> Any:
    """`sentry_sdk`, untyped: the type checker sees one version, the tests run against two."""
    return sentry_sdk


def _traces() -> Any:
    """`sentry_sdk.traces`, the streamed span API (2.66 and later)."""
    return importlib.import_module("sentry_sdk.traces")


class CapturingTransport(sentry_sdk.transport.Transport):
    """Keeps envelopes in memory instead of sending them."""

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.items: list[Any] = []

    def capture_envelope(self, envelope) -> None:
        self.items.extend(envelope.items)


@dataclass
class Sentry:
    """sentry-sdk initialised in one span mode, with what it sent."""

    mode: str
    transport: CapturingTransport

    @contextmanager
    def root(self) -> Iterator[None]:
        """A root span (a transaction, or a segment) for the operations to nest in."""
        if self.mode == "transaction":
            with _sdk().start_transaction(name="test"):
                yield
        else:
            with _traces().start_span(name="test"):
                yield

    def spans(self) -> list[Recorded]:
        """The child spans sent so far, in the order they started."""
        sentry_sdk.flush()
        return recorded(self.transport.items)

    def span_setter(self) -> tuple[type, str]:
        """The span class sentry-sdk uses in this mode and its attribute setter's name."""
        if self.mode == "transaction":
            return _sdk().tracing.Span, "set_data"
        # 2.x names the streamed span `StreamedSpan`, 3.x `Span`.
        streamed = getattr(_traces(), "StreamedSpan", None) or _traces().Span
        return streamed, "set_attribute"


@pytest.fixture(params=["transaction", "stream"])
def sentry(request) -> Iterator[Sentry]:
    """Initialises sentry-sdk in one span mode with an in-memory transport."""
    mode = request.param
    available = HAS_TRANSACTIONS if mode == "transaction" else HAS_STREAMING
    if not available:
        pytest.skip(f"sentry-sdk {sentry_sdk.VERSION} has no {mode} span API")
    options: dict[str, Any] = {}
    if mode == "stream" and HAS_TRANSACTIONS:
        options["_experiments"] = {"trace_lifecycle": "stream"}  # 2.x: opt in
    transport = CapturingTransport()
    sentry_sdk.init(
        dsn="https://public@example.invalid/1",
        traces_sample_rate=1.0,
        transport=transport,
        default_integrations=False,
        auto_enabling_integrations=False,
        **options,
    )
    yield Sentry(mode, transport)
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to an inactive client


def test_spans_are_a_no_op_without_sentry():
    assert not sentry_sdk.get_client().is_active()
    with storage_span("put", "uc", Scope(org=1), key="k") as span:
        span.set_data("anything", 1)
    assert list(trace_propagation_headers()) == []


def test_one_span_per_operation(sentry, objectstore_url, objectstore_usecase):
    with sentry.root(), Client(objectstore_url) as client:
        session = client.session(Usecase(objectstore_usecase), org=7)
        key = session.put(b"x", key="k")
        session.get(key).payload.read()
        session.head(key)
        session.delete(key)
    spans = sentry.spans()
    assert [span.op for span in spans] == [
        "objectstore.put",
        "objectstore.get",
        "objectstore.head",
        "objectstore.delete",
    ]
    put = spans[0]
    assert put.origin == SPAN_ORIGIN
    assert put.name == f"objectstore.put {objectstore_usecase}"
    assert put.data["objectstore.usecase"] == objectstore_usecase
    assert put.data["objectstore.scopes.org"] == 7
    assert put.data["objectstore.key"] == "k"
    assert put.data["objectstore.compression"] == "zstd"
    assert not any(span.failed for span in spans)


def test_failed_operation_marks_the_span(sentry, objectstore_url, objectstore_usecase):
    with sentry.root(), Client(objectstore_url) as client:
        assert client.session(Usecase(objectstore_usecase)).get_or_none("missing") is None
    (span,) = sentry.spans()
    assert span.op == "objectstore.get"
    assert span.failed


def test_propagate_traces_sends_headers_once(sentry, scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with sentry.root():
        with Client(server.url, propagate_traces=True) as client:
            client.session(Usecase("u")).head("k")
        with Client(server.url) as client:
            client.session(Usecase("u")).head("k")
    propagated, plain = server.requests
    assert "sentry-trace" in propagated.headers
    assert "sentry-trace" not in plain.headers


def test_propagation_is_left_to_the_stdlib_integration_when_it_is_active(sentry):
    assert list(trace_propagation_headers())  # active, without StdlibIntegration
    sentry_sdk.get_client().integrations[StdlibIntegration.identifier] = StdlibIntegration()
    assert list(trace_propagation_headers()) == []


def test_a_failing_span_never_fails_an_upload(
    sentry, objectstore_url, objectstore_usecase, monkeypatch, caplog
):
    # Attributes set after the object was stored: a broken tracing setup must not lose
    # the key the server returned.
    span_class, setter = sentry.span_setter()
    original = getattr(span_class, setter)

    def set_attribute(self, key, value):
        if key in ("objectstore.key", "objectstore.compression"):
            raise RuntimeError("tracing broke")
        original(self, key, value)

    monkeypatch.setattr(span_class, setter, set_attribute)
    with sentry.root(), Client(objectstore_url) as client:
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"kept")
        assert session.get(key).payload.read() == b"kept"
    assert "tracing broke" in caplog.text
    assert [span.op for span in sentry.spans()] == ["objectstore.put", "objectstore.get"]
