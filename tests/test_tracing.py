from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.integrations.stdlib import StdlibIntegration

from objectstore_client import Client, Usecase
from objectstore_client.scope import Scope
from objectstore_client.tracing import SPAN_ORIGIN, storage_span, trace_propagation_headers


class CapturingTransport(sentry_sdk.transport.Transport):
    """Keeps envelopes in memory instead of sending them."""

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.transactions: list[dict[str, Any]] = []

    def capture_envelope(self, envelope) -> None:
        for item in envelope.items:
            if item.type == "transaction":
                self.transactions.append(item.payload.json)


@pytest.fixture
def sentry_events():
    """Initialises sentry-sdk with an in-memory transport; yields captured transactions."""
    transport = CapturingTransport()
    sentry_sdk.init(
        dsn="https://public@example.invalid/1",
        traces_sample_rate=1.0,
        transport=transport,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    yield transport.transactions
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # back to an inactive client


def test_spans_are_a_no_op_without_sentry():
    assert not sentry_sdk.get_client().is_active()
    with storage_span("put", "uc", Scope(org=1), key="k") as span:
        span.set_data("anything", 1)
    assert list(trace_propagation_headers()) == []


def test_one_span_per_operation(sentry_events, objectstore_url, objectstore_usecase):
    with sentry_sdk.start_transaction(name="test"), Client(objectstore_url) as client:
        session = client.session(Usecase(objectstore_usecase), org=7)
        key = session.put(b"x", key="k")
        session.get(key).payload.read()
        session.head(key)
        session.delete(key)
    (transaction,) = sentry_events
    spans = transaction["spans"]
    assert [span["op"] for span in spans] == [
        "objectstore.put",
        "objectstore.get",
        "objectstore.head",
        "objectstore.delete",
    ]
    put = spans[0]
    assert put["origin"] == SPAN_ORIGIN
    assert put["description"] == f"objectstore.put {objectstore_usecase}"
    assert put["data"]["objectstore.usecase"] == objectstore_usecase
    assert put["data"]["objectstore.scopes.org"] == 7
    assert put["data"]["objectstore.key"] == "k"
    assert put["data"]["objectstore.compression"] == "zstd"


def test_failed_operation_marks_the_span(sentry_events, objectstore_url, objectstore_usecase):
    with sentry_sdk.start_transaction(name="test"), Client(objectstore_url) as client:
        assert client.session(Usecase(objectstore_usecase)).get_or_none("missing") is None
    (transaction,) = sentry_events
    assert transaction["spans"][0]["status"] == "internal_error"


def test_propagate_traces_sends_headers_once(sentry_events, scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204))
    with sentry_sdk.start_transaction(name="test"):
        with Client(server.url, propagate_traces=True) as client:
            client.session(Usecase("u")).head("k")
        with Client(server.url) as client:
            client.session(Usecase("u")).head("k")
    propagated, plain = server.requests
    assert "sentry-trace" in propagated.headers
    assert "sentry-trace" not in plain.headers


def test_propagation_is_left_to_the_stdlib_integration_when_it_is_active(sentry_events):
    assert list(trace_propagation_headers())  # active, without StdlibIntegration
    sentry_sdk.get_client().integrations[StdlibIntegration.identifier] = StdlibIntegration()
    assert list(trace_propagation_headers()) == []


def test_a_failing_span_never_fails_an_upload(
    sentry_events, objectstore_url, objectstore_usecase, monkeypatch, caplog
):
    # Attributes set after the object was stored: a broken tracing setup must not lose
    # the key the server returned.
    original = sentry_sdk.tracing.Span.set_data

    def set_data(self, key, value):
        if key in ("objectstore.key", "objectstore.compression"):
            raise RuntimeError("tracing broke")
        original(self, key, value)

    monkeypatch.setattr(sentry_sdk.tracing.Span, "set_data", set_data)
    with sentry_sdk.start_transaction(name="test"), Client(objectstore_url) as client:
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"kept")
        assert session.get(key).payload.read() == b"kept"
    assert "tracing broke" in caplog.text
