"""The helpers objectstore-client 0.2.10 added behave as they did there.

The expected values were produced by running the 0.2.10 wheel on the same input.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import sentry_sdk
import urllib3

from objectstore_client import auth, client, tracing, utils
from objectstore_client.errors import (
    ExpiryExtensionRejected,
    ObjectNotFound,
    RequestError,
    ServerError,
    raise_for_status,
)
from objectstore_client.metrics import StorageMetricEmitter, measure_storage_operation
from objectstore_client.scope import Scope
from tests._spans import recorded, root_span


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/objects/u/_/a b#c?d%20é", "/v1/objects/u/_/a%20b%23c%3Fd%2520%C3%A9"),
        ("/p/o=1;p=2/x:y@z!$&'()*+,;=", "/p/o=1;p=2/x:y@z!$&'()*+,;="),
        ("~-._", "~-._"),
    ],
)
def test_encode_path(path, expected):
    assert utils.encode_path(path) == expected


def test_encode_query():
    assert utils.encode_query("a=b c&d=?/é") == "a=b%20c&d=?/%C3%A9"
    assert utils.encode_query("os_timestamp=2026-01-01T00:00:00Z") == (
        "os_timestamp=2026-01-01T00:00:00Z"
    )


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, dict[str, str], str | None]] = []

    def increment(self, name, value=1, tags=None):
        pass

    def gauge(self, name, value, tags=None):
        pass

    def distribution(self, name, value, tags=None, unit=None):
        self.calls.append((name, value, dict(tags or {}), unit))


def test_record_size_has_no_compression_tag():
    backend = Recording()
    emitter = StorageMetricEmitter(backend, "multipart.put_part", "uc")
    emitter.record_size(1024)
    assert backend.calls == [("storage.multipart.put_part.size", 1024, {"usecase": "uc"}, "byte")]
    assert emitter.size == 1024


def test_record_size_feeds_throughput_without_compression_tag():
    backend = Recording()
    with measure_storage_operation(backend, "resumable.put", "uc") as emitter:
        emitter.record_size(4096)
    throughput = [c for c in backend.calls if c[0] == "storage.resumable.put.throughput"]
    assert len(throughput) == 1
    assert throughput[0][2] == {"usecase": "uc"}


def response(status: int, body: bytes = b"") -> urllib3.HTTPResponse:
    return urllib3.HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)


def test_raise_for_status_error_type_is_raised_for_any_error_status():
    # As in 0.2.10: an explicit error_type is what is raised.
    with pytest.raises(ExpiryExtensionRejected) as info:
        raise_for_status(response(409, b"conflict"), error_type=ExpiryExtensionRejected)
    assert info.value.status == 409
    assert info.value.response == "conflict"
    with pytest.raises(ObjectNotFound):
        raise_for_status(response(500), error_type=ObjectNotFound)


def test_raise_for_status_keeps_the_specific_class_when_it_fits():
    # The default (RequestError) still yields the class for the status.
    with pytest.raises(ObjectNotFound):
        raise_for_status(response(404))
    with pytest.raises(ServerError):
        raise_for_status(response(503), error_type=RequestError)
    raise_for_status(response(200), error_type=ObjectNotFound)


def test_client_module_reexports_the_0_2_names():
    assert client.SecretKey is auth.SecretKey
    assert client.ObjectNotFound is ObjectNotFound
    assert client.ExpiryExtensionRejected is ExpiryExtensionRejected
    assert client.Permission.OBJECT_READ.value == "object.read"
    assert client.HEADER_FILENAME == "x-sn-filename"
    assert client.format_timedelta is not None
    assert client.storage_span is tracing.storage_span


class Capturing(sentry_sdk.transport.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[Any] = []

    def capture_envelope(self, envelope) -> None:
        self.items += envelope.items


def test_storage_span_takes_a_usecase_as_0_2_passes_it():
    transport = Capturing()
    previous = sentry_sdk.get_client()
    sentry_sdk.init(
        dsn="https://public@example.invalid/1",
        traces_sample_rate=1.0,
        transport=transport,
        default_integrations=False,
    )
    try:
        with root_span("t"):
            usecase = client.Usecase("attachments")
            with tracing.storage_span("put", usecase, Scope(org=1), key="k") as span:
                span.set_attribute("objectstore.compressed_size", 3)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(previous)
    (span,) = recorded(transport.items)
    assert span.data["objectstore.usecase"] == "attachments"
    assert span.data["objectstore.compressed_size"] == 3
    assert span.name == "objectstore.put attachments"


def test_span_attribute_value_admits_lists():
    value: tracing.SpanAttributeValue = ["object.read", "object.write"]
    assert isinstance(value, list)
