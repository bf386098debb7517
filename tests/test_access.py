"""Access for external consumers: tokens, token URLs and presigned URLs.

The consumer runs in a separate Python process that imports nothing but the standard
library: it holds only what a service or browser would be handed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from objectstore_client import (
    Client,
    InvalidArgument,
    Permission,
    SecretKey,
    Session,
    TokenGenerator,
    Usecase,
    presign,
)
from objectstore_client import auth as auth_module
from objectstore_client._validation import check_key
from objectstore_client.scope import Scope
from objectstore_client.testing import AuthKey, KeyPair, LocalServer

from .conftest import TEST_KID

PAYLOAD = b"shared with a consumer"

# The consumer: standard library only. It reads the requests to make as JSON on stdin and
# prints [status, body] for each.
CONSUMER = r"""
import json, sys, urllib.error, urllib.request

def call(method, url, headers, body):
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return [response.status, response.read().decode("latin-1")]
    except urllib.error.HTTPError as error:
        return [error.code, error.read().decode("latin-1")]

results = [call(*step) for step in json.load(sys.stdin)]
assert not [name for name in sys.modules if name.startswith("objectstore")], "SDK imported"
json.dump(results, sys.stdout)
"""

Step = tuple[str, str, dict[str, str], str | None]


def consume(steps: list[Step]) -> list[tuple[int, str]]:
    """Runs `steps` in a fresh interpreter (isolated mode: no site of the caller's cwd)."""
    completed = subprocess.run(
        [sys.executable, "-I", "-c", CONSUMER],
        input=json.dumps(steps),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [(status, body) for status, body in json.loads(completed.stdout)]


def read_write_delete(
    label: str, url: str, headers: dict[str, str] | None = None
) -> dict[str, tuple[Step, int]]:
    """Reads are allowed (HEAD 200 on a current server); writes and deletes get 403."""
    headers = headers or {}
    return {
        f"{label} GET": (("GET", url, headers, None), 200),
        f"{label} HEAD": (("HEAD", url, headers, None), 200),
        f"{label} PUT": (("PUT", url, headers, "overwritten"), 403),
        f"{label} DELETE": (("DELETE", url, headers, None), 403),
    }


@pytest.fixture
def session(
    objectstore_auth_server: LocalServer, objectstore_keypair: KeyPair, objectstore_usecase: str
) -> Iterator[Session]:
    generator = SecretKey(TEST_KID, objectstore_keypair.private_pem)
    with Client(objectstore_auth_server.url, token=generator) as client:
        yield client.session(Usecase(objectstore_usecase), org=42, project=1337)


@contextmanager
def signed_in_the_past(seconds_ago: float) -> Iterator[None]:
    """Runs the token generator's clock `seconds_ago` behind (only its clock)."""
    with pytest.MonkeyPatch.context() as patch:
        fake = types.SimpleNamespace(time=lambda: time.time() - seconds_ago)
        patch.setattr(auth_module, "time", fake)
        yield


def test_external_consumer_reads_only_until_expiry(session):
    key = session.put(PAYLOAD, key="report 1.txt", compression="none")
    other = session.put(b"another object", key="other", compression="none")
    origin = session.object_url(key).split("/v1/")[0]

    token = session.mint_token([Permission.OBJECT_READ], expiry_seconds=60)
    token_url = session.object_url(key, token_validity=timedelta(minutes=1))
    presigned = session.presigned_object_url("GET", key)
    presigned_head = session.presigned_object_url("HEAD", key, timedelta(seconds=30))
    with signed_in_the_past(300):
        # Signed five minutes ago with a one-second lifetime: past the server's 60 s leeway.
        expired_token = session.mint_token([Permission.OBJECT_READ], expiry_seconds=1)
        expired_token_url = session.object_url(key, token_validity=timedelta(seconds=1))
    generator = session._context.token
    assert isinstance(generator, TokenGenerator)
    path = urlsplit(presigned).path
    expired_presigned = origin + presign.presigned_path(
        generator, "GET", path, 60, datetime.now(UTC) - timedelta(minutes=5)
    )
    # The control: signed as long ago, but still valid; so the two above fail on time alone.
    signed_earlier = origin + presign.presigned_path(
        generator, "GET", path, 3600, datetime.now(UTC) - timedelta(minutes=5)
    )
    not_yet_valid = origin + presign.presigned_path(
        generator, "GET", path, 60, datetime.now(UTC) + timedelta(minutes=5)
    )
    other_path = urlsplit(session.object_url(other)).path
    query = urlsplit(presigned).query
    signature = query.rsplit("=", 1)[1]
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    tampered = {
        "other-object": f"{origin}{other_path}?{query}",
        "longer-duration": presigned.replace("os_duration=3600", "os_duration=7200"),
        "signature": presigned.replace(signature, flipped),
        "token": token_url[:-3] + ("AAA" if not token_url.endswith("AAA") else "BBB"),
    }

    bearer = {"Authorization": f"Bearer {token}"}
    x_os_auth = {"X-Os-Auth": f"Bearer {token}"}
    expired_bearer = {"Authorization": f"Bearer {expired_token}"}
    other_via_token_url = token_url.replace(urlsplit(token_url).path, other_path)
    # label -> (request, expected status)
    plan: dict[str, tuple[Step, int]] = {
        **read_write_delete("token", session.object_url(key), bearer),
        **read_write_delete("token in x-os-auth", session.object_url(key), x_os_auth),
        **read_write_delete("token URL", token_url),
        **read_write_delete("presigned", presigned),
        "HEAD-signed used for HEAD": (("HEAD", presigned_head, {}, None), 200),
        "HEAD-signed used for GET": (("GET", presigned_head, {}, None), 200),
        # A token URL grants its whole scope; a presigned URL only its object.
        "token URL, other object": (("GET", other_via_token_url, {}, None), 200),
        "presigned long ago, still valid": (("GET", signed_earlier, {}, None), 200),
        "expired token": (("GET", session.object_url(key), expired_bearer, None), 401),
        "expired token URL": (("GET", expired_token_url, {}, None), 401),
        "expired presigned": (("GET", expired_presigned, {}, None), 401),
        "presigned not yet valid": (("GET", not_yet_valid, {}, None), 401),
        **{f"tampered {name}": (("GET", url, {}, None), 401) for name, url in tampered.items()},
    }
    results = dict(zip(plan, consume([step for step, _ in plan.values()]), strict=True))
    assert {label: status for label, (status, _) in results.items()} == {
        label: expected for label, (_, expected) in plan.items()
    }
    for label in ("token GET", "token URL GET", "presigned GET", "HEAD-signed used for GET"):
        assert results[label][1] == PAYLOAD.decode()
    assert results["token URL, other object"][1] == "another object"
    assert session.get(key).payload.read() == PAYLOAD  # nothing was overwritten or deleted


def test_presigned_url_is_refused_once_its_duration_has_passed(session):
    key = session.put(PAYLOAD, compression="none")
    url = session.presigned_object_url("GET", key, timedelta(seconds=1))
    assert urllib3.request("GET", url).status == 200
    timestamp = datetime.fromisoformat(
        dict(p.split("=") for p in url.split("?")[1].split("&"))["os_timestamp"]
    )
    # Valid until os_timestamp + 1 s (no leeway on this side); wait until just past it.
    time.sleep(max(0.0, (timestamp + timedelta(seconds=1.2) - datetime.now(UTC)).total_seconds()))
    response = urllib3.request("GET", url)
    assert response.status == 401, response.data


def test_escalation_is_refused_at_signing_time(objectstore_auth_server, objectstore_keypair):
    read_only = SecretKey(
        TEST_KID, objectstore_keypair.private_pem, permissions=[Permission.OBJECT_READ]
    )
    with pytest.raises(InvalidArgument, match=r"object\.write not granted") as info:
        read_only.token_for_scope(
            "u", Scope(org=1), [Permission.OBJECT_READ, Permission.OBJECT_WRITE]
        )
    assert isinstance(info.value, ValueError)
    assert info.value.argument == "permissions"
    write_only = SecretKey(
        TEST_KID, objectstore_keypair.private_pem, permissions=[Permission.OBJECT_WRITE]
    )
    with Client(objectstore_auth_server.url, token=read_only) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument, match=r"object\.delete not granted"):
            session.mint_token([Permission.OBJECT_DELETE])
        assert jwt.decode(session.mint_token(), options={"verify_signature": False})[
            "permissions"
        ] == ["object.read"]
    with Client(objectstore_auth_server.url, token=write_only) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument, match=r"object\.read not granted"):
            session.object_url("k", token_validity=timedelta(minutes=1))
        with pytest.raises(InvalidArgument, match="may not read"):
            session.presigned_object_url("GET", "k")


def test_presigning_needs_read_permission_on_the_server(objectstore_keypair, objectstore_usecase):
    """The server also refuses a presigned URL whose key may not read (protocol §13.6 step 7)."""
    keys = {
        TEST_KID: AuthKey(
            public_keys=(objectstore_keypair.public_pem,),
            max_permissions=frozenset({"object.write"}),
        )
    }
    with (
        LocalServer(storage="memory", auth_keys=keys) as server,
        Client(server.url, token=SecretKey(TEST_KID, objectstore_keypair.private_pem)) as client,
    ):
        session = client.session(Usecase(objectstore_usecase))
        key = session.put(b"x")
        assert urllib3.request("GET", session.presigned_object_url("GET", key)).status == 403


def test_token_url_of_0_0_19_form_is_unchanged(session):
    url = session.object_url("a b")
    assert "?" not in url
    assert url.endswith("/v1/objects/" + session.usecase.name + "/org=42;project=1337/a%20b")


def test_token_url_carries_a_read_only_token_for_the_scope(session):
    before = int(time.time())
    url = session.object_url("k", token_validity=timedelta(seconds=90, microseconds=1))
    base, _, query = url.partition("?")
    assert base == session.object_url("k")
    name, _, token = query.partition("=")
    assert name == "os_auth"
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] == TEST_KID
    assert claims["res"] == {"os:usecase": session.usecase.name, "org": "42", "project": "1337"}
    assert claims["permissions"] == ["object.read"]
    assert before + 91 <= claims["exp"] <= int(time.time()) + 91  # rounded up


def test_presigned_url_shape(session):
    url = session.presigned_object_url("head", "dir/a b", timedelta(days=7))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == session.object_url("dir/a b")
    query = dict(piece.split("=", 1) for piece in parts.query.split("&"))
    assert list(query) == ["os_kid", "os_timestamp", "os_duration", "os_sig"]
    assert query["os_duration"] == "604800"
    assert query["os_kid"] == TEST_KID
    assert datetime.strptime(query["os_timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert urllib3.request("HEAD", url).status == 404  # valid signature, no such object


def test_presigned_url_includes_the_base_path(objectstore_keypair):
    generator = TokenGenerator(TEST_KID, objectstore_keypair.private_pem)
    with Client("http://objectstore.example:8888/store%7e/a b", token=generator) as client:
        url = client.session(Usecase("u")).presigned_object_url("GET", "k", timedelta(seconds=1.5))
    assert url.startswith("http://objectstore.example:8888/store%7E/a%20b/v1/objects/u/_/k?")
    assert "os_duration=2&" in url
    path, _, query = urlsplit(url).path, None, urlsplit(url).query
    canonical = presign.build_canonical_form("GET", path, query)
    signature = query.rsplit("os_sig=", 1)[1]
    assert generator.signature_for_canonical_form(canonical) == signature


def test_mint_token(session, objectstore_keypair, objectstore_auth_server):
    token = session.mint_token()
    claims = jwt.decode(token, objectstore_keypair.public_pem, algorithms=["EdDSA"])
    assert claims["permissions"] == ["object.read", "object.write", "object.delete"]
    assert claims["res"]["org"] == "42"
    short = jwt.decode(session.mint_token(expiry_seconds=5), options={"verify_signature": False})
    assert short["exp"] <= int(time.time()) + 5
    # A minted token works as a static token on a client of its own.
    with Client(objectstore_auth_server.url, token=token) as client:
        borrowed = client.session(session.usecase, org=42, project=1337)
        key = borrowed.put(b"via a minted token")
        assert session.get(key).payload.read() == b"via a minted token"
        assert borrowed.mint_token() == token  # a static token is handed on unchanged
        with pytest.raises(InvalidArgument, match="static token string"):
            borrowed.mint_token([Permission.OBJECT_READ])
        with pytest.raises(InvalidArgument, match="static token string"):
            borrowed.presigned_object_url("GET", key)


def test_signing_needs_a_secret_key(objectstore_url):
    with Client(objectstore_url) as client:
        session = client.session(Usecase("u"))
        for operation in (
            session.mint_token,
            lambda: session.object_url("k", timedelta(minutes=1)),
            lambda: session.presigned_object_url("GET", "k"),
        ):
            with pytest.raises(InvalidArgument, match="needs Client\\(token=SecretKey") as info:
                operation()
            assert "no token" in str(info.value)


presign_keys = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=30
).filter(lambda key: all(segment not in ("", ".", "..") for segment in key.split("/")))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=presign_keys)
def test_presigned_urls_work_for_any_key(session, key):
    check_key(key)
    session.put(key.encode(), key=key, compression="none")
    for method in ("GET", "HEAD"):
        url = session.presigned_object_url(method, key)
        response = urllib3.request("GET", url)
        assert response.status == 200, (key, url, response.data)
        assert response.data == key.encode()


def test_sharing_example_runs():
    example = Path(__file__).parent.parent / "examples" / "sharing.py"
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines()[:4] == [
        "token URL      GET 200 b'crash report'",
        "token URL      DELETE 403 refused",
        "presigned URL  GET 200 b'crash report'",
        "minted token   GET 200 b'crash report'",
    ]
    assert result.stdout.splitlines()[4].startswith("extended       expires ")
    zstd, decoded = result.stdout.splitlines()[5:7]
    assert zstd.startswith("zstd object    GET 200 Content-Encoding: zstd, ")
    assert int(zstd.split(", ")[1].split()[0]) < 5000  # compressed, not the 5000 stored
    assert decoded == "decoded        5000 bytes, as uploaded: True"
