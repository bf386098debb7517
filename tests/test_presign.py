"""The presign protocol (pure): canonical form, timestamps, signed paths (protocol §13.6)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from objectstore_client import TokenGenerator, presign
from objectstore_client.presign import (
    MAX_PRESIGN_DURATION,
    PARAM_DURATION,
    PARAM_KID,
    PARAM_SIG,
    PARAM_TIMESTAMP,
    SUPPORTED_METHODS,
    build_canonical_form,
    format_timestamp,
    presigned_path,
)
from objectstore_client.testing import KeyPair, generate_keypair

SIGNED_AT = datetime(2026, 4, 20, 13, 37, 0, 750_000, tzinfo=UTC)


@pytest.fixture(scope="module")
def keypair() -> KeyPair:
    return generate_keypair()


def verify(keypair: KeyPair, canonical: str, signature: str) -> None:
    """Raises InvalidSignature unless `signature` (unpadded base64url) signs `canonical`."""
    public_key = load_pem_public_key(keypair.public_pem.encode())
    assert isinstance(public_key, Ed25519PublicKey)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public_key.verify(raw, canonical.encode())


def test_constants_match_the_spec():
    assert (PARAM_KID, PARAM_TIMESTAMP, PARAM_DURATION, PARAM_SIG) == (
        "os_kid",
        "os_timestamp",
        "os_duration",
        "os_sig",
    )
    assert presign.PARAM_AUTH == "os_auth"
    assert timedelta(seconds=604_800) == MAX_PRESIGN_DURATION
    assert SUPPORTED_METHODS == ("GET", "HEAD")


def test_canonical_form_of_the_spec_example():
    query = "os_kid=test_kid&os_timestamp=2026-04-20T13:37:00Z&os_duration=3600&os_sig=" + "A" * 86
    assert build_canonical_form(
        "GET", "/v1/objects/attachments/org=42;project=1337/some%20key", query
    ) == (
        "GET\n"
        "/v1/objects/attachments/org=42;project=1337/some%20key\n"
        "os_duration=3600&os_kid=test_kid&os_timestamp=2026-04-20T13:37:00Z"
    )


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [
        pytest.param("HEAD", "", "GET\n/p\n", id="head-signs-as-get-and-no-query"),
        pytest.param("get", "b=1", "GET\n/p\nb=1", id="method-upper-cased"),
        pytest.param("GET", "B=1&a=2", "GET\n/p\na=2&b=1", id="names-lower-cased-then-sorted"),
        pytest.param("GET", "a=%2f&A=%2F", "GET\n/p\na=%2F&a=%2f", id="values-verbatim"),
        pytest.param("GET", "a=2&a=10", "GET\n/p\na=10&a=2", id="whole-string-byte-order"),
        pytest.param("GET", "ab=1&a=1", "GET\n/p\na=1&ab=1", id="shorter-name-first"),
        pytest.param("GET", "&&x=1&", "GET\n/p\nx=1", id="empty-pieces-dropped"),
        pytest.param("GET", "FLAG&x=1", "GET\n/p\nflag&x=1", id="piece-without-equals"),
        pytest.param("GET", "x=1&OS_SIG=abc&os_sig=def", "GET\n/p\nx=1", id="signature-dropped"),
        pytest.param("GET", "x=a=b&x=", "GET\n/p\nx=&x=a=b", id="first-equals-splits"),
        pytest.param("GET", "x=1&x=1", "GET\n/p\nx=1&x=1", id="duplicates-kept"),
    ],
)
def test_canonical_form_rules(method, query, expected):
    assert build_canonical_form(method, "/p", query) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(SIGNED_AT, "2026-04-20T13:37:00Z", id="fraction-dropped"),
        pytest.param(
            datetime(2026, 4, 20, 15, 37, tzinfo=timezone(timedelta(hours=2))),
            "2026-04-20T13:37:00Z",
            id="converted-to-utc",
        ),
    ],
)
def test_format_timestamp(instant, expected):
    assert format_timestamp(instant) == expected


def test_presigned_path_carries_the_four_parameters_and_a_valid_signature(keypair):
    generator = TokenGenerator("test_kid", keypair.private_pem)
    path = "/base/v1/objects/u/org=1/a%20b"
    signed = presigned_path(generator, "GET", path, 3600, SIGNED_AT)
    parts = urlsplit(signed)
    assert parts.path == path
    params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    assert [name for name, _ in params] == ["os_kid", "os_timestamp", "os_duration", "os_sig"]
    values = dict(params)
    assert values["os_kid"] == "test_kid"
    assert values["os_timestamp"] == "2026-04-20T13:37:00Z"
    assert values["os_duration"] == "3600"
    signature = values["os_sig"]
    assert len(signature) == 86  # 64 bytes in base64url, unpadded
    assert "=" not in signature
    unsigned = parts.query.rsplit("&os_sig=", 1)[0]
    verify(keypair, build_canonical_form("GET", path, unsigned), signature)
    # One signature serves GET and HEAD; other methods sign other strings.
    verify(keypair, build_canonical_form("HEAD", path, unsigned), signature)
    assert presigned_path(generator, "HEAD", path, 3600, SIGNED_AT) == signed
    with pytest.raises(InvalidSignature):
        verify(keypair, build_canonical_form("PUT", path, unsigned), signature)


def test_presigned_path_escapes_the_key_id(keypair):
    generator = TokenGenerator("kid+with space&more", keypair.private_pem)
    signed = presigned_path(generator, "GET", "/p", 60, SIGNED_AT)
    # `+` would be form-decoded to a space, `&` would split the parameter.
    assert signed.startswith("/p?os_kid=kid%2Bwith%20space%26more&os_timestamp=")
    assert dict(parse_qsl(urlsplit(signed).query))["os_kid"] == "kid+with space&more"


def test_signature_for_canonical_form(keypair):
    generator = TokenGenerator("k", keypair.private_pem)
    signature = generator.signature_for_canonical_form("GET\n/p\n")
    verify(keypair, "GET\n/p\n", signature)
    # Ed25519 is deterministic: the same form always gets the same signature.
    assert generator.signature_for_canonical_form("GET\n/p\n") == signature
    with pytest.raises(InvalidSignature):
        verify(keypair, "GET\n/q\n", signature)
