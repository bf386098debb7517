"""`objectstore_client.__all__` is sorted and complete, and keeps every 0.0.19 name."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from datetime import timedelta

import pytest

import objectstore_client
from objectstore_client import (
    Client,
    GetResponse,
    Permission,
    RequestError,
    Session,
    TokenGenerator,
    Usecase,
    client,
    metadata,
    metrics,
    presign,
    utils,
)

# The 15 top-level names of objectstore-client 0.0.19.
NAMES_0_0_19 = {
    "Client",
    "Usecase",
    "Session",
    "GetResponse",
    "RequestError",
    "Compression",
    "ExpirationPolicy",
    "Metadata",
    "Permission",
    "TimeToIdle",
    "TimeToLive",
    "TokenProvider",
    "TokenGenerator",
    "MetricsBackend",
    "NoOpMetricsBackend",
}


def test_all_is_sorted():
    assert objectstore_client.__all__ == sorted(objectstore_client.__all__)


def test_all_is_complete():
    exported = set(objectstore_client.__all__)
    # Submodules are reachable as attributes, `annotations` comes from `__future__`.
    public = {
        name
        for name, value in vars(objectstore_client).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, type(objectstore_client))
    }
    assert public == exported


def test_every_exported_name_resolves():
    for name in objectstore_client.__all__:
        assert getattr(objectstore_client, name) is not None


def test_0_0_19_names_are_kept():
    assert set(objectstore_client.__all__) >= NAMES_0_0_19


def test_testing_is_not_imported_by_the_package():
    assert "testing" not in objectstore_client.__all__


def test_version():
    assert objectstore_client.__version__.count(".") == 2


# Every name objectstore-client 0.0.19 defined in each public module.
MODULE_NAMES_0_0_19 = {
    "client": [
        "DEFAULT_CONNECT_TIMEOUT",
        "Client",
        "GetResponse",
        "RequestError",
        "Session",
        "Usecase",
        "_ConnectionDefaults",
        "raise_for_status",
        # Imported at module level by 0.0.19's client.py; callers import or patch them there.
        "HEADER_EXPIRATION",
        "HEADER_META_PREFIX",
        "HEADER_ORIGIN",
        "Metadata",
        "format_expiration",
        "measure_storage_operation",
    ],
    "auth": ["Permission", "TokenGenerator", "TokenProvider"],
    "scope": ["SCOPE_VALUE_ALLOWED_CHARS", "Scope"],
    "metadata": [
        "Compression",
        "ExpirationPolicy",
        "HEADER_EXPIRATION",
        "HEADER_META_PREFIX",
        "HEADER_ORIGIN",
        "HEADER_TIME_CREATED",
        "HEADER_TIME_EXPIRES",
        "Metadata",
        "TIME_SPLIT",
        "TimeToIdle",
        "TimeToLive",
        "format_expiration",
        "format_timedelta",
        "itertools_batched",
        "parse_expiration",
        "parse_timedelta",
    ],
    "metrics": [
        "MetricsBackend",
        "NoOpMetricsBackend",
        "StorageMetricEmitter",
        "Tags",
        "measure_storage_operation",
    ],
    "utils": ["guess_mime_type"],
}


@pytest.mark.parametrize("module", sorted(MODULE_NAMES_0_0_19))
def test_0_0_19_module_names_are_kept(module):
    imported = importlib.import_module(f"objectstore_client.{module}")
    missing = [name for name in MODULE_NAMES_0_0_19[module] if not hasattr(imported, name)]
    assert missing == []


def _params(function):
    return [
        (p.name, p.default if p.default is not p.empty else "<required>")
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


R = "<required>"


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(
            Client,
            [
                ("base_url", R),
                ("metrics_backend", None),
                ("propagate_traces", False),
                ("retries", None),
                ("timeout_ms", None),
                ("connection_kwargs", None),
                ("token", None),
            ],
            id="Client",
        ),
        pytest.param(Client.session, [("usecase", R), ("scopes", R)], id="Client.session"),
        pytest.param(
            Session,
            [
                ("pool", R),
                ("base_path", R),
                ("metrics_backend", R),
                ("propagate_traces", R),
                ("usecase", R),
                ("scope", R),
                ("token", None),
            ],
            id="Session",
        ),
        pytest.param(
            Session.put,
            [
                ("contents", R),
                ("key", None),
                ("compression", None),
                ("content_type", None),
                ("metadata", None),
                ("expiration_policy", None),
                ("origin", None),
            ],
            id="Session.put",
        ),
        pytest.param(Session.get, [("key", R), ("decompress", True)], id="Session.get"),
        pytest.param(Session.delete, [("key", R)], id="Session.delete"),
        pytest.param(Session.object_url, [("key", R)], id="Session.object_url"),
        pytest.param(
            Usecase,
            [("name", R), ("compression", "zstd"), ("expiration_policy", None)],
            id="Usecase",
        ),
        pytest.param(
            RequestError, [("message", R), ("status", R), ("response", R)], id="RequestError"
        ),
        pytest.param(client.raise_for_status, [("response", R)], id="raise_for_status"),
        pytest.param(
            TokenGenerator,
            [("kid", R), ("secret_key", R), ("expiry_seconds", 60), ("permissions", None)],
            id="TokenGenerator",
        ),
        pytest.param(
            TokenGenerator.sign_for_scope, [("usecase", R), ("scope", R)], id="sign_for_scope"
        ),
        pytest.param(metadata.Metadata.from_headers, [("headers", R)], id="from_headers"),
        pytest.param(metadata.format_expiration, [("expiration_policy", R)], id="fmt_exp"),
        pytest.param(metadata.parse_expiration, [("value", R)], id="parse_exp"),
        pytest.param(metadata.format_timedelta, [("delta", R)], id="format_timedelta"),
        pytest.param(metadata.parse_timedelta, [("delta", R)], id="parse_timedelta"),
        pytest.param(
            metadata.itertools_batched,
            [("iterable", R), ("n", R), ("strict", False)],
            id="itertools_batched",
        ),
        pytest.param(
            metrics.MetricsBackend.increment,
            [("name", R), ("value", 1), ("tags", None)],
            id="increment",
        ),
        pytest.param(
            metrics.MetricsBackend.gauge, [("name", R), ("value", R), ("tags", None)], id="gauge"
        ),
        pytest.param(
            metrics.MetricsBackend.distribution,
            [("name", R), ("value", R), ("tags", None), ("unit", None)],
            id="distribution",
        ),
        pytest.param(
            metrics.measure_storage_operation,
            [
                ("backend", R),
                ("operation", R),
                ("usecase", R),
                ("uncompressed_size", None),
                ("compressed_size", None),
                ("compression", "unknown"),
            ],
            id="measure_storage_operation",
        ),
        pytest.param(
            metrics.StorageMetricEmitter,
            [("backend", R), ("operation", R), ("usecase", R)],
            id="StorageMetricEmitter",
        ),
        pytest.param(
            metrics.StorageMetricEmitter.record_compressed_size,
            [("value", R), ("compression", "unknown")],
            id="record_compressed_size",
        ),
        pytest.param(utils.guess_mime_type, [("contents", R)], id="guess_mime_type"),
    ],
)
def test_0_0_19_signatures_are_kept(function, expected):
    """New parameters may only follow the 0.0.19 ones, and must have defaults."""
    params = _params(function)
    assert params[: len(expected)] == expected
    assert all(default != R for _, default in params[len(expected) :])


def test_0_0_19_field_orders_are_kept():
    assert [f.name for f in dataclasses.fields(metadata.Metadata)][:7] == [
        "content_type",
        "compression",
        "expiration_policy",
        "time_created",
        "time_expires",
        "origin",
        "custom",
    ]
    assert GetResponse._fields == ("metadata", "payload")
    assert [f.name for f in dataclasses.fields(metadata.TimeToLive)] == ["delta"]
    assert [f.name for f in dataclasses.fields(metadata.TimeToIdle)] == ["delta"]
    assert [p.value for p in Permission.max()] == [
        "object.read",
        "object.write",
        "object.delete",
    ]
    assert client.DEFAULT_CONNECT_TIMEOUT == 0.1


# Names objectstore-client 0.2.x added for external access, expiry and compressed reads.
NAMES_0_2 = {"ExpiryExtensionRejected", "ObjectNotFound", "SecretKey", "parse_accept_encoding"}


def test_0_2_names_are_exported():
    assert set(objectstore_client.__all__) >= NAMES_0_2
    assert client.PARAM_AUTH == "os_auth"
    assert {"PARAM_KID", "PARAM_TIMESTAMP", "PARAM_DURATION", "PARAM_SIG"} <= set(presign.__all__)
    assert {"MAX_PRESIGN_DURATION", "SUPPORTED_METHODS", "build_canonical_form"} <= set(
        presign.__all__
    )


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(
            TokenGenerator.token_for_scope,
            [("usecase", R), ("scope", R), ("permissions", None), ("expiry_seconds", None)],
            id="token_for_scope",
        ),
        pytest.param(
            TokenGenerator.signature_for_canonical_form,
            [("canonical_form", R)],
            id="signature_for_canonical_form",
        ),
        pytest.param(
            Session.get,
            # 0.2.x's parameters, then keyword-only additions (ranges, progress: issue 10).
            [
                ("key", R),
                ("decompress", True),
                ("accept_encoding", None),
                ("range", None),
                ("progress", None),
            ],
            id="Session.get",
        ),
        pytest.param(
            Session.object_url, [("key", R), ("token_validity", None)], id="Session.object_url"
        ),
        pytest.param(
            Session.presigned_object_url,
            [("method", R), ("key", R), ("duration", timedelta(hours=1))],
            id="Session.presigned_object_url",
        ),
        pytest.param(
            Session.mint_token,
            [("permissions", None), ("expiry_seconds", None)],
            id="Session.mint_token",
        ),
        pytest.param(
            Session.extend_expiry,
            [("key", R), ("at", None), ("from_creation", None), ("from_now", None)],
            id="Session.extend_expiry",
        ),
        pytest.param(
            presign.build_canonical_form,
            [("method", R), ("encoded_path", R), ("encoded_query", R)],
            id="build_canonical_form",
        ),
        pytest.param(utils.parse_accept_encoding, [("header", R)], id="parse_accept_encoding"),
    ],
)
def test_0_2_signatures_are_kept(function, expected):
    assert _params(function) == expected


def test_0_2_put_keywords():
    parameters = inspect.signature(Session.put).parameters
    for name in ("compress", "precompressed", "filename"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default is None
