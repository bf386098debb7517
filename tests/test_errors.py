from __future__ import annotations

import io
import pickle

import pytest
import urllib3

from objectstore_client import errors
from objectstore_client.client import RequestError as ClientRequestError
from objectstore_client.errors import (
    ArgumentError,
    AuthError,
    ConnectError,
    ConnectTimeout,
    DecodeError,
    ExpiryExtensionRejected,
    ExpiryExtensionUnsupported,
    InvalidArgument,
    InvalidArgumentType,
    ObjectNotFound,
    ObjectstoreError,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestError,
    ServerError,
    TransportError,
    TransportTimeout,
    Unauthenticated,
    UnsupportedCompression,
    error_class_for_status,
    raise_for_status,
)

AUTH_400 = '{"detail":"auth error: bad request: No authorization token provided"}'


def response(status: int, body: bytes = b"", url: str = "/v1/objects/u/_/k", reason=None):
    return urllib3.HTTPResponse(
        body=io.BytesIO(body), status=status, request_url=url, reason=reason
    )


def test_request_error_keeps_the_0_0_19_constructor_and_import_paths():
    error = RequestError("boom", 500, "body")
    assert (str(error), error.status, error.response) == ("boom", 500, "body")
    assert ClientRequestError is RequestError
    import objectstore_client

    assert objectstore_client.RequestError is RequestError


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(404, "", ObjectNotFound, id="404"),
        pytest.param(401, "{}", Unauthenticated, id="401"),
        pytest.param(400, AUTH_400, Unauthenticated, id="400-auth"),
        pytest.param(400, '{"detail":"service error: metadata"}', RequestError, id="400"),
        pytest.param(403, "", PermissionDenied, id="403"),
        pytest.param(429, "", RateLimited, id="429"),
        pytest.param(500, "", ServerError, id="500"),
        pytest.param(503, "", ServerError, id="503"),
        pytest.param(405, "", RequestError, id="405"),
    ],
)
def test_status_maps_to_class(status, body, expected):
    assert error_class_for_status(status, body) is expected


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        pytest.param(405, "PATCH", ExpiryExtensionUnsupported, id="patch-405"),
        pytest.param(409, "PATCH", ExpiryExtensionRejected, id="patch-409"),
        pytest.param(404, "PATCH", ObjectNotFound, id="patch-404"),
        pytest.param(403, "PATCH", PermissionDenied, id="patch-403"),
        pytest.param(405, "GET", RequestError, id="get-405"),
        pytest.param(409, "PUT", RequestError, id="put-409"),
        pytest.param(409, None, RequestError, id="no-method-409"),
    ],
)
def test_extend_expiry_statuses_map_to_their_classes(status, method, expected):
    """PATCH is only used to extend expiry, so its 405 and 409 have their own classes."""
    assert error_class_for_status(status, "", method) is expected


def test_unsupported_extension_message_says_so():
    with pytest.raises(ExpiryExtensionUnsupported) as info:
        raise_for_status(
            response(405, url="/v1/objects/u/_/k", reason="Method Not Allowed"), "PATCH"
        )
    assert str(info.value) == (
        "PATCH /v1/objects/u/_/k failed with status 405 Method Not Allowed "
        "(this server does not support extending expiry; "
        "upload the object again with a new expiration_policy instead)"
    )
    assert isinstance(info.value, RequestError)
    assert info.value.status == 405


def test_hierarchy():
    assert issubclass(ObjectNotFound, FileNotFoundError)
    assert issubclass(ObjectNotFound, RequestError)
    assert issubclass(Unauthenticated, AuthError)
    assert issubclass(PermissionDenied, AuthError)
    assert issubclass(InvalidArgument, ValueError)
    assert issubclass(InvalidArgumentType, TypeError)
    assert issubclass(ConnectTimeout, ConnectError)
    assert issubclass(ConnectTimeout, TransportTimeout)
    assert issubclass(UnsupportedCompression, NotImplementedError)
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type):
            assert issubclass(value, ObjectstoreError)


def test_every_exception_class_is_drawn_in_the_module_docstring():
    for name in errors.__all__:
        if isinstance(getattr(errors, name), type):
            assert name in (errors.__doc__ or "")


def test_every_public_name_is_named_by_its_public_module():
    # The classes are defined in private modules (errors.py stays small enough to grow);
    # tracebacks, pickles and docs must still name `objectstore_client.errors`.
    for name in errors.__all__:
        value = getattr(errors, name)
        assert value.__module__ == "objectstore_client.errors", name
        assert pickle.loads(pickle.dumps(value)) is value


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RequestError("m", 400, "r"), id="RequestError"),
        pytest.param(ObjectNotFound("m", 404, ""), id="ObjectNotFound"),
        pytest.param(PermissionDenied("m", 403, "{}"), id="PermissionDenied"),
        pytest.param(ServerError("m", 500, "x"), id="ServerError"),
        pytest.param(InvalidArgument("key", "must not be empty"), id="InvalidArgument"),
        pytest.param(InvalidArgumentType("key", "must be a str"), id="InvalidArgumentType"),
        pytest.param(ArgumentError("key", "rule"), id="ArgumentError"),
        pytest.param(ConnectTimeout("GET /: timed out"), id="ConnectTimeout"),
        pytest.param(ProtocolError("GET /: dropped"), id="ProtocolError"),
        pytest.param(TransportError("x"), id="TransportError"),
        pytest.param(DecodeError("x"), id="DecodeError"),
        pytest.param(UnsupportedCompression("x"), id="UnsupportedCompression"),
        pytest.param(ExpiryExtensionRejected("m", 409, "{}"), id="ExpiryExtensionRejected"),
        pytest.param(ExpiryExtensionUnsupported("m (hint)", 405, ""), id="Unsupported"),
    ],
)
def test_exceptions_pickle(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_object_not_found_formats_like_a_request_error():
    error = ObjectNotFound("GET /x failed with status 404", 404, "")
    assert str(error) == "GET /x failed with status 404"
    assert error.errno is None


def test_argument_error_names_argument_and_rule():
    error = InvalidArgument("key", "must not be empty")
    assert (error.argument, error.rule) == ("key", "must not be empty")
    assert str(error) == "invalid key: must not be empty"


def test_raise_for_status_passes_success():
    raise_for_status(response(200))
    raise_for_status(response(204))


def test_raise_for_status_message_names_method_path_status_and_detail():
    body = b'{"detail":"auth error: operation not allowed","causes":["x"]}'
    with pytest.raises(PermissionDenied) as info:
        raise_for_status(
            response(403, body, url="/v1/objects/u/_/k?os_auth=secret", reason="Forbidden"), "GET"
        )
    message = str(info.value)
    assert message == (
        "GET /v1/objects/u/_/k failed with status 403 Forbidden: auth error: operation not allowed"
    )
    assert "secret" not in message
    assert info.value.response == body.decode()
    assert info.value.detail == "auth error: operation not allowed"


def test_raise_for_status_without_method_keeps_the_0_0_19_signature():
    with pytest.raises(ObjectNotFound, match="failed with status 404"):
        raise_for_status(response(404))


def test_raise_for_status_truncates_huge_bodies():
    with pytest.raises(ServerError) as info:
        raise_for_status(response(502, b"<html>" + b"x" * 10_000))
    assert len(str(info.value)) < 500
    assert len(info.value.response) > 10_000
