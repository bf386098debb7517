from __future__ import annotations

import copy
import pickle
import threading
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from objectstore_client import (
    Client,
    InvalidArgument,
    InvalidArgumentType,
    Permission,
    PermissionDenied,
    SecretKey,
    TokenGenerator,
    Unauthenticated,
    Usecase,
)
from objectstore_client import auth as auth_module
from objectstore_client.scope import Scope
from objectstore_client.testing import KeyPair, generate_keypair


@pytest.fixture(scope="module")
def keypair() -> KeyPair:
    return generate_keypair()


def decode(token: str, keypair: KeyPair) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verifies the signature (not the expiry: some tests fake the clock)."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, keypair.public_pem, algorithms=["EdDSA"], options={"verify_exp": False}
    )
    return header, claims


def test_permission_max():
    assert Permission.max() == [
        Permission.OBJECT_READ,
        Permission.OBJECT_WRITE,
        Permission.OBJECT_DELETE,
    ]
    assert Permission.OBJECT_READ.value == "object.read"


def test_token_follows_the_spec(keypair):
    generator = TokenGenerator("my-kid", keypair.private_pem)
    assert (generator.kid, generator.expiry_seconds) == ("my-kid", 60)
    assert generator.permissions == Permission.max()
    assert generator.secret_key == keypair.private_pem
    header, claims = decode(generator.sign_for_scope("attachments", Scope(org=42, a=0)), keypair)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": "my-kid"}
    assert claims["res"] == {"os:usecase": "attachments", "org": "42", "a": "0"}
    assert claims["permissions"] == ["object.read", "object.write", "object.delete"]
    assert isinstance(claims["exp"], int)
    assert set(claims) == {"res", "permissions", "exp"}


def test_permissions_and_expiry(keypair, monkeypatch):
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: 1_000_000.5)
    generator = TokenGenerator("k", keypair.private_pem, 300, [Permission.OBJECT_READ])
    _header, claims = decode(generator.sign_for_scope("u", Scope()), keypair)
    assert claims["permissions"] == ["object.read"]
    assert claims["exp"] == 1_000_300
    assert claims["res"] == {"os:usecase": "u"}


def test_permissions_may_be_given_as_strings(keypair):
    generator = TokenGenerator("k", keypair.private_pem, permissions=["object.read"])  # type: ignore[list-item]
    assert generator.permissions == [Permission.OBJECT_READ]


def test_sign_for_scope_always_signs_afresh(keypair, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: clock[0])
    generator = TokenGenerator("k", keypair.private_pem)
    first = generator.sign_for_scope("u", Scope(org=1))
    clock[0] += 1
    assert generator.sign_for_scope("u", Scope(org=1)) != first


def test_request_tokens_are_cached_and_re_signed_before_expiry(keypair, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: clock[0])
    generator = TokenGenerator("k", keypair.private_pem, expiry_seconds=60)
    first = generator.token_for_request("u", Scope(org=1))
    clock[0] += 44  # 16 s left: more than a quarter of 60 s
    assert generator.token_for_request("u", Scope(org=1)) == first
    assert generator.token_for_request("u", Scope(org=2)) != first
    assert generator.token_for_request("other", Scope(org=1)) != first
    clock[0] += 1  # 15 s left: re-sign
    second = generator.token_for_request("u", Scope(org=1))
    assert second != first
    assert decode_exp(second) - clock[0] == 60


def decode_exp(token: str) -> int:
    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


def test_short_lived_tokens_are_never_reused_close_to_expiry(keypair, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: clock[0])
    generator = TokenGenerator("k", keypair.private_pem, expiry_seconds=4)
    first = generator.token_for_request("u", Scope())
    clock[0] += 1
    assert generator.token_for_request("u", Scope()) != first


def test_changing_settings_invalidates_cached_tokens(keypair):
    generator = TokenGenerator("k", keypair.private_pem)
    first = generator.token_for_request("u", Scope())
    generator.permissions = [Permission.OBJECT_READ]
    read_only = generator.token_for_request("u", Scope())
    assert read_only != first
    assert jwt.decode(read_only, options={"verify_signature": False})["permissions"] == [
        "object.read"
    ]
    other = generate_keypair()
    generator.secret_key = other.private_pem
    decode(generator.token_for_request("u", Scope()), other)


def test_cache_is_bounded(keypair, monkeypatch):
    monkeypatch.setattr(auth_module, "_MAX_CACHED_TOKENS", 3)
    generator = TokenGenerator("k", keypair.private_pem)
    for org in range(10):
        generator.token_for_request("u", Scope(org=org))
    assert len(generator._cache) == 3


def test_token_cache_is_thread_safe(keypair):
    generator = TokenGenerator("k", keypair.private_pem)
    results: list[str] = []

    def work(org: int) -> None:
        for _ in range(50):
            results.append(generator.token_for_request("u", Scope(org=org % 4)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 400
    assert len(generator._cache) == 4


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("secret_key", "rule"),
    [
        pytest.param("<private key>", "PKCS#8 PEM", id="placeholder"),
        pytest.param("", "PKCS#8 PEM", id="empty"),
        pytest.param(
            _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
            "Ed25519",
            id="rsa",
        ),
        pytest.param(_pem(ec.generate_private_key(ec.SECP256R1())), "Ed25519", id="ecdsa"),
        pytest.param(generate_keypair().public_pem, "PKCS#8 PEM", id="public-key"),
    ],
)
def test_secret_key_is_validated_at_construction(secret_key, rule):
    with pytest.raises(InvalidArgument) as info:
        TokenGenerator("kid", secret_key)
    assert info.value.argument == "secret_key"
    assert rule in str(info.value)
    assert "BEGIN" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        pytest.param({"secret_key": 42}, InvalidArgumentType, "secret_key", id="key-type"),
        pytest.param({"kid": ""}, InvalidArgument, "kid", id="empty-kid"),
        pytest.param({"kid": 1}, InvalidArgumentType, "kid", id="kid-type"),
        pytest.param({"expiry_seconds": 0}, InvalidArgument, "expiry_seconds", id="zero-expiry"),
        pytest.param({"expiry_seconds": 1.5}, InvalidArgumentType, "expiry_seconds", id="float"),
        pytest.param({"permissions": ["admin"]}, InvalidArgument, "permissions", id="unknown"),
        pytest.param({"permissions": "object.read"}, InvalidArgumentType, "permissions", id="str"),
    ],
)
def test_other_generator_arguments(keypair, kwargs, error, argument):
    arguments = {"kid": "kid", "secret_key": keypair.private_pem, **kwargs}
    with pytest.raises(error) as info:
        TokenGenerator(**arguments)
    assert info.value.argument == argument


@pytest.mark.parametrize("auth_header", ["authorization", "x-os-auth"])
def test_requests_authenticate_with_either_header(
    objectstore_auth_server, objectstore_keypair, objectstore_usecase, auth_header
):
    token = TokenGenerator("test_kid", objectstore_keypair.private_pem)
    with Client(objectstore_auth_server.url, token=token, auth_header=auth_header) as client:
        session = client.session(Usecase(objectstore_usecase), org=1)
        key = session.put(b"secret")
        assert session.get(key).payload.read() == b"secret"
        session.delete(key)


def test_header_names_on_the_wire(scripted, objectstore_keypair):
    server = scripted.start(lambda request, index: scripted.json_reply(200, '{"key":"k"}'))
    token = TokenGenerator("test_kid", objectstore_keypair.private_pem)
    for auth_header in ("authorization", "x-os-auth"):
        with Client(server.url, token=token, auth_header=auth_header) as client:
            client.session(Usecase("u")).put(b"x", key="k")
    default, alternative = server.requests
    assert default.headers["authorization"].startswith("Bearer ey")
    assert "x-os-auth" not in default.headers
    assert alternative.headers["x-os-auth"].startswith("Bearer ey")
    assert "authorization" not in alternative.headers


def test_static_token(objectstore_auth_server, objectstore_keypair, objectstore_usecase):
    generator = TokenGenerator("test_kid", objectstore_keypair.private_pem)
    token = generator.sign_for_scope(objectstore_usecase, Scope(org=42, project=1337))
    with Client(objectstore_auth_server.url, token=token) as client:
        key = client.session(Usecase(objectstore_usecase), org=42, project=1337).put(b"x")
        # The token covers any subset of its scope (protocol §13.4), not a different one.
        assert client.session(Usecase(objectstore_usecase), org=42).get_or_none(key) is None
        with pytest.raises(PermissionDenied):
            client.session(Usecase(objectstore_usecase), org=43).put(b"x")


def test_missing_and_insufficient_tokens(
    objectstore_auth_server, objectstore_keypair, objectstore_usecase
):
    with Client(objectstore_auth_server.url) as client:
        with pytest.raises(Unauthenticated) as info:
            client.session(Usecase(objectstore_usecase)).put(b"x")
        assert info.value.status == 400
    read_only = TokenGenerator(
        "test_kid", objectstore_keypair.private_pem, permissions=[Permission.OBJECT_READ]
    )
    with Client(objectstore_auth_server.url, token=read_only) as client:
        with pytest.raises(PermissionDenied) as denied:
            client.session(Usecase(objectstore_usecase)).put(b"x")
        assert denied.value.status == 403
    unknown = TokenGenerator("unknown_kid", objectstore_keypair.private_pem)
    with Client(objectstore_auth_server.url, token=unknown) as client:
        with pytest.raises(Unauthenticated) as unknown_kid:
            client.session(Usecase(objectstore_usecase)).put(b"x")
        assert unknown_kid.value.status == 401


def test_secret_key_is_the_same_class():
    assert SecretKey is TokenGenerator
    assert auth_module.SecretKey is auth_module.TokenGenerator is TokenGenerator


def test_token_for_scope_defaults_to_the_generators_settings(keypair, monkeypatch):
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: 1_000_000.5)
    generator = SecretKey("k", keypair.private_pem, 120, [Permission.OBJECT_READ])
    token = generator.token_for_scope("u", Scope(org=1))
    _header, claims = decode(token, keypair)
    assert claims == {
        "res": {"os:usecase": "u", "org": "1"},
        "permissions": ["object.read"],
        "exp": 1_000_120,
    }
    assert generator.sign_for_scope("u", Scope(org=1)) == token


def test_token_for_scope_overrides(keypair, monkeypatch):
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: 1_000_000.0)
    generator = SecretKey("k", keypair.private_pem)
    token = generator.token_for_scope("u", Scope(), ["object.read"], 3600)  # type: ignore[list-item]
    _header, claims = decode(token, keypair)
    assert (claims["permissions"], claims["exp"]) == (["object.read"], 1_003_600)
    # The overrides apply to this token only.
    assert (generator.permissions, generator.expiry_seconds) == (Permission.max(), 60)


@pytest.mark.parametrize(
    ("kwargs", "error", "argument", "message"),
    [
        pytest.param(
            {"permissions": [Permission.OBJECT_WRITE]},
            InvalidArgument,
            "permissions",
            "object.write not granted to this key (it has object.read)",
            id="escalation",
        ),
        pytest.param(
            {"permissions": ["root"]}, InvalidArgument, "permissions", "unknown", id="unknown"
        ),
        pytest.param(
            {"permissions": "object.read"}, InvalidArgumentType, "permissions", "list", id="str"
        ),
        pytest.param(
            {"expiry_seconds": 0}, InvalidArgument, "expiry_seconds", "positive", id="zero"
        ),
        pytest.param(
            {"expiry_seconds": -5}, InvalidArgument, "expiry_seconds", "positive", id="negative"
        ),
        pytest.param(
            {"expiry_seconds": 1.5}, InvalidArgumentType, "expiry_seconds", "int", id="float"
        ),
        pytest.param(
            {"expiry_seconds": True}, InvalidArgumentType, "expiry_seconds", "int", id="bool"
        ),
    ],
)
def test_token_for_scope_refuses_bad_requests_before_signing(
    keypair, monkeypatch, kwargs, error, argument, message
):
    generator = SecretKey("k", keypair.private_pem, permissions=[Permission.OBJECT_READ])
    signed = count_signatures(monkeypatch)
    with pytest.raises(error) as info:
        generator.token_for_scope("u", Scope(), **kwargs)
    assert info.value.argument == argument
    assert message in str(info.value)
    assert signed == []


def count_signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every JWT the SDK signs from now on."""
    signed: list[str] = []
    encode = jwt.encode

    def counting(*args: Any, **kwargs: Any) -> str:
        token = encode(*args, **kwargs)
        signed.append(token)
        return token

    monkeypatch.setattr(jwt, "encode", counting)
    return signed


def test_handed_out_tokens_always_have_their_full_lifetime(keypair, monkeypatch):
    clock = [1_000_000.2]
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: clock[0])
    generator = SecretKey("k", keypair.private_pem, expiry_seconds=60)
    signed = count_signatures(monkeypatch)
    request_token = generator.token_for_request("u", Scope(org=1))
    clock[0] += 10  # the request token has 50 s left: good for requests, not to hand out
    handed_out = generator.token_for_scope("u", Scope(org=1))
    assert decode_exp(handed_out) == 1_000_070
    clock[0] += 0.5  # same second: the identical token, not signed again
    assert generator.token_for_scope("u", Scope(org=1)) == handed_out
    assert generator.sign_for_scope("u", Scope(org=1)) == handed_out
    assert generator.token_for_request("u", Scope(org=1)) in (request_token, handed_out)
    assert len(signed) == 2
    clock[0] += 1
    assert decode_exp(generator.token_for_scope("u", Scope(org=1))) == 1_000_071
    assert len(signed) == 3


def test_a_thousand_puts_sign_at_most_two_tokens(
    objectstore_auth_server, objectstore_keypair, objectstore_usecase, monkeypatch
):
    generator = SecretKey("test_kid", objectstore_keypair.private_pem, expiry_seconds=60)
    signed = count_signatures(monkeypatch)
    started = time.monotonic()
    with Client(objectstore_auth_server.url, token=generator) as client:
        session = client.session(Usecase(objectstore_usecase), org=1)
        for index in range(1000):
            session.put(b"x", key=f"k{index}", compression="none")
        assert session.get("k999").payload.read() == b"x"
    # Within one token lifetime (less the refresh margin of 15 s) one token serves all.
    assert time.monotonic() - started < 45, "too slow to stay within one token lifetime"
    assert 1 <= len(signed) <= 2


@pytest.mark.parametrize(
    "duplicate",
    [
        pytest.param(lambda g: pickle.loads(pickle.dumps(g)), id="pickle"),
        pytest.param(copy.deepcopy, id="deepcopy"),
        pytest.param(copy.copy, id="copy"),
    ],
)
def test_generators_can_be_pickled_and_copied(keypair, duplicate):
    original = TokenGenerator("kid", keypair.private_pem, 120, [Permission.OBJECT_READ])
    token = original.token_for_scope("u", Scope(org=1))
    duplicated = duplicate(original)
    assert (duplicated.kid, duplicated.secret_key, duplicated.expiry_seconds) == (
        "kid",
        keypair.private_pem,
        120,
    )
    assert duplicated.permissions == [Permission.OBJECT_READ]
    header, claims = decode(duplicated.token_for_scope("u", Scope(org=1)), keypair)
    assert header["kid"] == "kid"
    assert claims["permissions"] == ["object.read"]
    # The copy has a cache and a lock of its own: changing it leaves the original alone.
    assert duplicated._cache is not original._cache
    assert duplicated._lock is not original._lock
    duplicated.kid = "other"
    assert decode(duplicated.token_for_scope("u", Scope(org=1)), keypair)[0]["kid"] == "other"
    assert original.token_for_scope("u", Scope(org=1)) == token
    assert duplicated.permissions is not original.permissions


def test_a_replay_carries_a_token_fresh_at_its_sending(scripted, keypair, monkeypatch):
    # The token was put into the headers once per call: a replay after a 503 (or a
    # timeout) sent the first attempt's token, expired by then.
    clock = [1_000_000.0]
    monkeypatch.setattr("objectstore_client.auth.time.time", lambda: clock[0])
    sent_at: list[float] = []

    def script(request, index):
        sent_at.append(clock[0])
        clock[0] += 100  # The first attempt took longer than the token's lifetime.
        if index == 0:
            return scripted.Reply(503, {"Retry-After": "0"})
        return scripted.Reply(204)

    server = scripted.start(script)
    with Client(server.url, token=TokenGenerator("k", keypair.private_pem)) as client:
        client.session(Usecase("u"), org=1).head("k")
    assert len(server.requests) == 2
    for request, when in zip(server.requests, sent_at, strict=True):
        token = request.headers["authorization"].removeprefix("Bearer ")
        assert decode_exp(token) > when
