"""The API of objectstore-client 0.2.10 is present, but for the contradictions listed here.

The surface of 0.2.10 is encoded below as data, taken from the 0.2.10 wheel (PyPI) by
importing each public module and reading `inspect.signature` of every function, class and
method it defines; 0.2.10 is not imported here. Every module, name, signature (parameter
names, kinds, order, defaults), property, field order and constant of it must be present
with the same form, except where it contradicts objectstore-client 0.0.19, which this
package keeps. Those contradictions are listed in `CONTRADICTIONS` with their reason and
documented in the README ("Migrating from 0.2.x"); the tests check both that nothing else
differs and that each listed contradiction is still real.

A signature is compatible when every 0.2.10 parameter is there with the same kind and
default and in the same order, the positional ones at the same positions, and any
parameter added here has a default, so each 0.2.10 call binds the same way.

Contradictions of behaviour rather than form are tested in tests/test_compat_02x.py:
`Session.get` and `Session.head` return `None` for a missing object only on a
`Client(..., missing="none")` (0.0.19 raised, and still does by default).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any

import pytest

R = "<required>"

# Public names of each module (the package itself as "objectstore_client"), leaving out
# what 0.2.10 imported from the standard library and third parties.
NAMES = {
    "auth": ["Permission", "Scope", "SecretKey", "TokenGenerator", "TokenProvider"],
    "client": [
        "Client",
        "Compression",
        "DEFAULT_CONNECT_TIMEOUT",
        "ExpirationPolicy",
        "ExpiryExtensionRejected",
        "GetResponse",
        "HEADER_EXPIRATION",
        "HEADER_FILENAME",
        "HEADER_META_PREFIX",
        "HEADER_ORIGIN",
        "Metadata",
        "MetricsBackend",
        "MultipartUpload",
        "NoOpMetricsBackend",
        "ObjectNotFound",
        "PARAM_AUTH",
        "Permission",
        "RequestError",
        "Scope",
        "SecretKey",
        "Session",
        "TokenProvider",
        "USER_AGENT",
        "Usecase",
        "_ConnectionDefaults",
        "format_expiration",
        "format_timedelta",
        "measure_storage_operation",
        "raise_for_status",
        "storage_span",
    ],
    "errors": ["ExpiryExtensionRejected", "ObjectNotFound", "RequestError", "raise_for_status"],
    "metadata": [
        "Compression",
        "ExpirationPolicy",
        "HEADER_EXPIRATION",
        "HEADER_FILENAME",
        "HEADER_META_PREFIX",
        "HEADER_ORIGIN",
        "HEADER_SIZE",
        "HEADER_TIME_CREATED",
        "HEADER_TIME_EXPIRES",
        "Metadata",
        "TIME_SPLIT",
        "TimeToIdle",
        "TimeToLive",
        "decode_header_value",
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
    "multipart": [
        "CompletePart",
        "MultipartCompleteError",
        "MultipartUpload",
        "PartInfo",
        "RequestError",
        "measure_storage_operation",
        "raise_for_status",
        "storage_span",
    ],
    "objectstore_client": [
        "Client",
        "Compression",
        "ExpirationPolicy",
        "ExpiryExtensionRejected",
        "GetResponse",
        "Metadata",
        "MetricsBackend",
        "NoOpMetricsBackend",
        "ObjectNotFound",
        "Permission",
        "RequestError",
        "SecretKey",
        "Session",
        "TimeToIdle",
        "TimeToLive",
        "TokenGenerator",
        "TokenProvider",
        "Usecase",
        "parse_accept_encoding",
    ],
    "presign": [
        "MAX_PRESIGN_DURATION",
        "PARAM_DURATION",
        "PARAM_KID",
        "PARAM_SIG",
        "PARAM_TIMESTAMP",
        "SUPPORTED_METHODS",
        "build_canonical_form",
    ],
    "scope": ["EMPTY_SCOPES", "SCOPE_VALUE_ALLOWED_CHARS", "Scope"],
    "tracing": ["SPAN_ORIGIN", "Scope", "SpanAttributeValue", "storage_span"],
    "utils": [
        "decode_header_value",
        "encode_header_value",
        "encode_path",
        "encode_query",
        "guess_mime_type",
        "parse_accept_encoding",
    ],
}

# Every signature: (parameter, kind, repr(default)); kinds "pk" positional-or-keyword,
# "kw" keyword-only, "**" / "*" variadic. Classes are listed by their constructor.
SIGNATURES = {
    "auth.SecretKey": [
        ("kid", "pk", "<required>"),
        ("secret_key", "pk", "<required>"),
        ("expiry_seconds", "pk", "60"),
        ("permissions", "pk", "None"),
    ],
    "auth.SecretKey.sign_for_scope": [
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("permissions", "pk", "None"),
        ("expiry_seconds", "pk", "None"),
    ],
    "auth.SecretKey.signature_for_canonical_form": [("canonical_form", "pk", "<required>")],
    "auth.SecretKey.token_for_scope": [
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("permissions", "pk", "None"),
        ("expiry_seconds", "pk", "None"),
    ],
    "auth.TokenGenerator": [
        ("kid", "pk", "<required>"),
        ("secret_key", "pk", "<required>"),
        ("expiry_seconds", "pk", "60"),
        ("permissions", "pk", "None"),
    ],
    "auth.TokenGenerator.sign_for_scope": [
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("permissions", "pk", "None"),
        ("expiry_seconds", "pk", "None"),
    ],
    "auth.TokenGenerator.signature_for_canonical_form": [("canonical_form", "pk", "<required>")],
    "auth.TokenGenerator.token_for_scope": [
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("permissions", "pk", "None"),
        ("expiry_seconds", "pk", "None"),
    ],
    "client.Client": [
        ("base_url", "pk", "<required>"),
        ("metrics_backend", "pk", "None"),
        ("propagate_traces", "pk", "False"),
        ("retries", "pk", "None"),
        ("timeout_ms", "pk", "None"),
        ("connection_kwargs", "pk", "None"),
        ("token", "pk", "None"),
        ("spool_dir", "pk", "None"),
    ],
    "client.Client.session": [("usecase", "pk", "<required>"), ("scopes", "**", "<required>")],
    "client.GetResponse": [("metadata", "pk", "<required>"), ("payload", "pk", "<required>")],
    "client.Session": [
        ("pool", "pk", "<required>"),
        ("base_path", "pk", "<required>"),
        ("metrics_backend", "pk", "<required>"),
        ("propagate_traces", "pk", "<required>"),
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("token", "pk", "None"),
        ("spool_dir", "pk", "None"),
    ],
    "client.Session.delete": [("key", "pk", "<required>")],
    "client.Session.extend_expiry": [
        ("key", "pk", "<required>"),
        ("at", "pk", "None"),
        ("from_creation", "pk", "None"),
        ("from_now", "pk", "None"),
    ],
    "client.Session.get": [
        ("key", "pk", "<required>"),
        ("decompress", "pk", "True"),
        ("accept_encoding", "pk", "None"),
    ],
    "client.Session.head": [("key", "pk", "<required>")],
    "client.Session.initiate_multipart_upload": [
        ("key", "kw", "None"),
        ("compression", "kw", "None"),
        ("content_type", "kw", "None"),
        ("metadata", "kw", "None"),
        ("expiration_policy", "kw", "None"),
        ("origin", "kw", "None"),
        ("filename", "kw", "None"),
    ],
    "client.Session.mint_token": [("permissions", "pk", "None"), ("expiry_seconds", "pk", "None")],
    "client.Session.object_url": [("key", "pk", "<required>"), ("token_validity", "pk", "None")],
    "client.Session.presigned_object_url": [
        ("method", "pk", "<required>"),
        ("key", "pk", "<required>"),
        ("duration", "pk", "datetime.timedelta(seconds=3600)"),
    ],
    "client.Session.put": [
        ("contents", "pk", "<required>"),
        ("key", "pk", "None"),
        ("compress", "pk", "None"),
        ("compression", "pk", "None"),
        ("precompressed", "pk", "None"),
        ("content_type", "pk", "None"),
        ("metadata", "pk", "None"),
        ("expiration_policy", "pk", "None"),
        ("origin", "pk", "None"),
        ("filename", "pk", "None"),
        ("resumable_threshold_bytes", "pk", "None"),
    ],
    "client.Session.resume_multipart_upload": [
        ("key", "pk", "<required>"),
        ("upload_id", "pk", "<required>"),
    ],
    "client.Usecase": [
        ("name", "pk", "<required>"),
        ("compression", "pk", "'zstd'"),
        ("expiration_policy", "pk", "None"),
        ("resumable_threshold_bytes", "pk", "268435456"),
    ],
    "client._ConnectionDefaults": [
        ("retries", "pk", "Retry(total=10, connect=3, read=0, redirect=None, status=None)"),
        ("timeout", "pk", "Timeout(connect=0.1, read=None, total=None)"),
    ],
    "errors.ExpiryExtensionRejected": [
        ("message", "pk", "<required>"),
        ("status", "pk", "<required>"),
        ("response", "pk", "<required>"),
    ],
    "errors.ObjectNotFound": [
        ("message", "pk", "<required>"),
        ("status", "pk", "<required>"),
        ("response", "pk", "<required>"),
    ],
    "errors.RequestError": [
        ("message", "pk", "<required>"),
        ("status", "pk", "<required>"),
        ("response", "pk", "<required>"),
    ],
    "errors.raise_for_status": [
        ("response", "pk", "<required>"),
        ("error_type", "kw", "<class 'objectstore_client.errors.RequestError'>"),
    ],
    "metadata.Metadata": [
        ("content_type", "pk", "<required>"),
        ("compression", "pk", "<required>"),
        ("expiration_policy", "pk", "<required>"),
        ("time_created", "pk", "<required>"),
        ("time_expires", "pk", "<required>"),
        ("origin", "pk", "<required>"),
        ("filename", "pk", "<required>"),
        ("size", "pk", "<required>"),
        ("custom", "pk", "<required>"),
    ],
    "metadata.Metadata.from_headers": [("headers", "pk", "<required>")],
    "metadata.TimeToIdle": [("delta", "pk", "<required>")],
    "metadata.TimeToLive": [("delta", "pk", "<required>")],
    "metadata.format_expiration": [("expiration_policy", "pk", "<required>")],
    "metadata.format_timedelta": [("delta", "pk", "<required>")],
    "metadata.itertools_batched": [
        ("iterable", "pk", "<required>"),
        ("n", "pk", "<required>"),
        ("strict", "pk", "False"),
    ],
    "metadata.parse_expiration": [("value", "pk", "<required>")],
    "metadata.parse_timedelta": [("delta", "pk", "<required>")],
    "metrics.MetricsBackend.distribution": [
        ("name", "pk", "<required>"),
        ("value", "pk", "<required>"),
        ("tags", "pk", "None"),
        ("unit", "pk", "None"),
    ],
    "metrics.MetricsBackend.gauge": [
        ("name", "pk", "<required>"),
        ("value", "pk", "<required>"),
        ("tags", "pk", "None"),
    ],
    "metrics.MetricsBackend.increment": [
        ("name", "pk", "<required>"),
        ("value", "pk", "1"),
        ("tags", "pk", "None"),
    ],
    "metrics.NoOpMetricsBackend.distribution": [
        ("name", "pk", "<required>"),
        ("value", "pk", "<required>"),
        ("tags", "pk", "None"),
        ("unit", "pk", "None"),
    ],
    "metrics.NoOpMetricsBackend.gauge": [
        ("name", "pk", "<required>"),
        ("value", "pk", "<required>"),
        ("tags", "pk", "None"),
    ],
    "metrics.NoOpMetricsBackend.increment": [
        ("name", "pk", "<required>"),
        ("value", "pk", "1"),
        ("tags", "pk", "None"),
    ],
    "metrics.StorageMetricEmitter": [
        ("backend", "pk", "<required>"),
        ("operation", "pk", "<required>"),
        ("usecase", "pk", "<required>"),
    ],
    "metrics.StorageMetricEmitter.maybe_record_compression_ratio": [],
    "metrics.StorageMetricEmitter.maybe_record_throughputs": [],
    "metrics.StorageMetricEmitter.record_compressed_size": [
        ("value", "pk", "<required>"),
        ("compression", "pk", "'unknown'"),
    ],
    "metrics.StorageMetricEmitter.record_latency": [("elapsed", "pk", "<required>")],
    "metrics.StorageMetricEmitter.record_size": [("value", "pk", "<required>")],
    "metrics.StorageMetricEmitter.record_uncompressed_size": [("value", "pk", "<required>")],
    "metrics.measure_storage_operation": [
        ("backend", "pk", "<required>"),
        ("operation", "pk", "<required>"),
        ("usecase", "pk", "<required>"),
        ("uncompressed_size", "pk", "None"),
        ("compressed_size", "pk", "None"),
        ("compression", "pk", "'unknown'"),
    ],
    "multipart.CompletePart": [("part_number", "pk", "<required>"), ("etag", "pk", "<required>")],
    "multipart.MultipartCompleteError": [
        ("code", "pk", "<required>"),
        ("message", "pk", "<required>"),
    ],
    "multipart.MultipartUpload": [
        ("session", "pk", "<required>"),
        ("key", "pk", "<required>"),
        ("upload_id", "pk", "<required>"),
    ],
    "multipart.MultipartUpload.abort": [],
    "multipart.MultipartUpload.complete": [("parts", "pk", "<required>")],
    "multipart.MultipartUpload.list_parts": [],
    "multipart.MultipartUpload.put_part": [
        ("contents", "pk", "<required>"),
        ("part_number", "kw", "<required>"),
        ("content_length", "kw", "<required>"),
        ("content_md5", "kw", "None"),
    ],
    "multipart.PartInfo": [
        ("part_number", "pk", "<required>"),
        ("etag", "pk", "<required>"),
        ("last_modified", "pk", "<required>"),
        ("size", "pk", "<required>"),
    ],
    "presign.build_canonical_form": [
        ("method", "pk", "<required>"),
        ("encoded_path", "pk", "<required>"),
        ("encoded_query", "pk", "<required>"),
    ],
    "scope.Scope": [("scopes", "**", "<required>")],
    "scope.Scope.dict": [],
    "tracing.storage_span": [
        ("operation", "pk", "<required>"),
        ("usecase", "pk", "<required>"),
        ("scope", "pk", "<required>"),
        ("attributes", "**", "<required>"),
    ],
    "utils.decode_header_value": [("value", "pk", "<required>")],
    "utils.encode_header_value": [("value", "pk", "<required>")],
    "utils.encode_path": [("path", "pk", "<required>")],
    "utils.encode_query": [("query", "pk", "<required>")],
    "utils.guess_mime_type": [("contents", "pk", "<required>")],
    "utils.parse_accept_encoding": [("header", "pk", "<required>")],
}

# Properties: whether they can be assigned.
PROPERTIES = {
    "client.Usecase.name": "read-only",
    "multipart.MultipartUpload.key": "read-only",
    "multipart.MultipartUpload.upload_id": "read-only",
}

# Dataclass and NamedTuple fields, in order.
FIELDS = {
    "client.GetResponse": ["metadata", "payload"],
    "client._ConnectionDefaults": ["retries", "timeout"],
    "metadata.Metadata": [
        "content_type",
        "compression",
        "expiration_policy",
        "time_created",
        "time_expires",
        "origin",
        "filename",
        "size",
        "custom",
    ],
    "metadata.TimeToIdle": ["delta"],
    "metadata.TimeToLive": ["delta"],
    "multipart.CompletePart": ["part_number", "etag"],
    "multipart.PartInfo": ["part_number", "etag", "last_modified", "size"],
}

# repr() of constants.
VALUES = {
    "client.DEFAULT_CONNECT_TIMEOUT": "0.1",
    "client.HEADER_EXPIRATION": "'x-sn-expiration'",
    "client.HEADER_FILENAME": "'x-sn-filename'",
    "client.HEADER_META_PREFIX": "'x-snme-'",
    "client.HEADER_ORIGIN": "'x-sn-origin'",
    "client.PARAM_AUTH": "'os_auth'",
    "client.USER_AGENT": "'objectstore-client/0.2.10'",
    "metadata.HEADER_EXPIRATION": "'x-sn-expiration'",
    "metadata.HEADER_FILENAME": "'x-sn-filename'",
    "metadata.HEADER_META_PREFIX": "'x-snme-'",
    "metadata.HEADER_ORIGIN": "'x-sn-origin'",
    "metadata.HEADER_SIZE": "'x-sn-size'",
    "metadata.HEADER_TIME_CREATED": "'x-sn-time-created'",
    "metadata.HEADER_TIME_EXPIRES": "'x-sn-time-expires'",
    "presign.MAX_PRESIGN_DURATION": "datetime.timedelta(days=7)",
    "presign.PARAM_DURATION": "'os_duration'",
    "presign.PARAM_KID": "'os_kid'",
    "presign.PARAM_SIG": "'os_sig'",
    "presign.PARAM_TIMESTAMP": "'os_timestamp'",
    "presign.SUPPORTED_METHODS": "('GET', 'HEAD')",
    "scope.EMPTY_SCOPES": "'_'",
    "scope.SCOPE_VALUE_ALLOWED_CHARS": (
        '"!$\'()+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"'
    ),
    "tracing.SPAN_ORIGIN": "'auto.objectstore.client'",
}

# Where this package keeps 0.0.19's form over 0.2.10's, and why.
CONTRADICTIONS = {
    "client.Session.put": (
        "0.0.19's positional order (contents, key, compression, content_type, metadata, "
        "expiration_policy, origin); 0.2.x's compress, precompressed, filename and "
        "resumable_threshold_bytes are keyword-only"
    ),
    "metadata.Metadata": (
        "0.0.19's field order: filename and size follow custom (and default to None), so "
        "0.0.19's positional Metadata(...) calls keep working"
    ),
    "client.Client": (
        "spool_dir is keyword-only, as is every parameter after 0.0.19's seven (0.2.x has it "
        "eighth, positional)"
    ),
    "client.Usecase.name": "assignable (validated), as in 0.0.19",
    "client.USER_AGENT": "names this package's version",
    "client._ConnectionDefaults": (
        "a 60 s read timeout per socket operation instead of none, so that a stalled "
        "server cannot hang a call forever"
    ),
}

# Contradictions of a default only: the fields themselves are 0.2.10's, in its order.
DEFAULTS_ONLY = {"client._ConnectionDefaults"}

KINDS = {
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "pk",
    inspect.Parameter.KEYWORD_ONLY: "kw",
    inspect.Parameter.VAR_KEYWORD: "**",
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.POSITIONAL_ONLY: "po",
}


def resolve(path: str) -> Any:
    module, _, rest = path.partition(".")
    target: Any = importlib.import_module(
        "objectstore_client" if module == "objectstore_client" else f"objectstore_client.{module}"
    )
    for part in rest.split(".") if rest else []:
        target = (
            inspect.getattr_static(target, part)
            if inspect.isclass(target)
            else getattr(target, part)
        )
        if isinstance(target, staticmethod | classmethod):
            target = target.__func__
    return target


def signature(obj: Any) -> list[tuple[str, str, str]]:
    return [
        (p.name, KINDS[p.kind], R if p.default is p.empty else repr(p.default))
        for p in inspect.signature(obj).parameters.values()
        if p.name not in ("self", "cls")
    ]


def signature_problems(ours: list[tuple[str, str, str]], theirs: list[tuple[str, str, str]]):
    problems = []
    names = {name for name, _, _ in theirs}
    common = [p for p in ours if p[0] in names]
    if common != theirs:
        problems.append(f"0.2.10 parameters differ: {common} != {theirs}")
    positional = [p[0] for p in ours if p[1] == "pk"]
    expected = [p[0] for p in theirs if p[1] == "pk"]
    if positional[: len(expected)] != expected:
        problems.append(f"positional parameters {positional} do not start with {expected}")
    added = [p for p in ours if p[0] not in names and p[1] not in ("*", "**") and p[2] == R]
    if added:
        problems.append(f"added parameters without default: {added}")
    return problems


@pytest.mark.parametrize("module", sorted(NAMES))
def test_module_names(module):
    imported = resolve(module)
    assert [name for name in NAMES[module] if not hasattr(imported, name)] == []


@pytest.mark.parametrize("path", sorted(SIGNATURES))
def test_signature(path):
    problems = signature_problems(signature(resolve(path)), SIGNATURES[path])
    if path in CONTRADICTIONS:
        assert problems, f"{path} is listed as a contradiction but matches 0.2.10"
    else:
        assert problems == []


@pytest.mark.parametrize("path", sorted(PROPERTIES))
def test_property(path):
    prop = resolve(path)
    assert isinstance(prop, property)
    kind = "read-write" if prop.fset is not None else "read-only"
    assert (kind != PROPERTIES[path]) == (path in CONTRADICTIONS)


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_fields(path):
    cls = resolve(path)
    ours = (
        [f.name for f in dataclasses.fields(cls)]
        if dataclasses.is_dataclass(cls)
        else list(cls._fields)
    )
    # Fields may only be added after 0.2.10's, so positional construction binds the same.
    matches = ours[: len(FIELDS[path])] == FIELDS[path]
    assert matches != (path in CONTRADICTIONS and path not in DEFAULTS_ONLY)


@pytest.mark.parametrize("path", sorted(VALUES))
def test_value(path):
    value = resolve(path)
    ours = repr("".join(sorted(value)) if isinstance(value, set) else value)
    assert (ours != VALUES[path]) == (path in CONTRADICTIONS)


def test_every_contradiction_is_checked():
    checked = set(SIGNATURES) | set(PROPERTIES) | set(FIELDS) | set(VALUES)
    assert set(CONTRADICTIONS) <= checked
