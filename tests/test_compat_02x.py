"""Code written for objectstore-client 0.2.x runs unchanged: its call patterns and README.

Part one runs, against the local server, each 0.2.x call pattern issue 9 lists, the way
such code is written (Sentry's archive upload, `is None` checks, exception handlers and
retry filters, re-exports, urllib3 settings, direct construction of result types).

Part two runs every example of the objectstore-client 0.2.10 README (from the wheel's
metadata), copied verbatim and executed in order as a reader would. Substitutions, all
of placeholders or of names the README leaves undefined:

* `http://localhost:8888` becomes the local server's URL, `"<private key>"` a fresh
  Ed25519 key the server trusts as `my-service`, `dsn="..."` a DSN whose events stay in
  memory;
* `video_data`, `zstd_data`, `new_parts` and (for `extend_expiry`) `key` are bound first,
  and the resume example runs in two halves around its "# Upload missing parts...";
* the multipart example shares one `ZstdCompressor` between threads, which
  python-zstandard documents as unsafe; each call gets its own compressor here.
"""

from __future__ import annotations

import io
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sentry_sdk
import urllib3
import zstandard

from objectstore_client import Client, GetResponse, Metadata, RequestError, Usecase
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair
from tests._spans import recorded, root_span

CHUNKS = [b"PK\x03\x04 zip archive " * 500, b"central directory " * 300, b"end"]


@pytest.fixture
def session(objectstore_url, objectstore_usecase):
    with Client(objectstore_url) as client:
        yield client.session(Usecase(objectstore_usecase), org=42, project=1337)


@pytest.fixture
def none_session(objectstore_url, objectstore_usecase):
    with Client(objectstore_url, missing="none") as client:
        yield client.session(Usecase(objectstore_usecase), org=42, project=1337)


# ---------------------------------------------------------------- part one: call patterns


def upload_archive(session, key, chunks):
    """Sentry's large-archive upload, as written for 0.2.x."""
    from objectstore_client.multipart import CompletePart, MultipartUpload

    upload: MultipartUpload = session.initiate_multipart_upload(
        key=key, compression="none", content_type="application/zip"
    )
    try:
        parts: list[CompletePart] = []
        for n, chunk in enumerate(chunks, start=1):
            parts.append(upload.put_part(chunk, part_number=n, content_length=len(chunk)))
        return upload.complete(parts)
    except Exception:
        upload.abort()
        raise


def test_multipart_archive_upload(session):
    assert upload_archive(session, "archive.zip", CHUNKS) == "archive.zip"
    response = session.get("archive.zip")
    assert response.metadata.content_type == "application/zip"
    assert response.payload.read() == b"".join(CHUNKS)


def test_multipart_archive_upload_aborts_on_error(session):
    def chunks():
        yield CHUNKS[0]
        raise OSError("the archive could not be read")

    aborted = []
    original = session.initiate_multipart_upload

    def initiate(**kwargs):
        upload = original(**kwargs)
        aborted.append(upload)
        return upload

    session.initiate_multipart_upload = initiate
    with pytest.raises(OSError, match="could not be read"):
        upload_archive(session, "broken.zip", chunks())
    # The abort went through: the server no longer knows the upload.
    with pytest.raises(RequestError):
        aborted[0].list_parts()
    with pytest.raises(RequestError):
        session.head("broken.zip")


def serve_image(session, key):
    """An endpoint as written for 0.2.x: a missing image is a 404, not a 500."""
    result = session.get(key)
    if result is None:
        return 404, b""
    return 200, result.payload.read()


def test_is_none_checks_on_get_and_head(none_session):
    assert serve_image(none_session, "missing.png") == (404, b"")
    assert none_session.head("missing.png") is None
    none_session.put(b"\x89PNG", key="image.png")
    assert serve_image(none_session, "image.png") == (200, b"\x89PNG")
    metadata = none_session.head("image.png")
    assert metadata is not None
    assert metadata.content_type == "application/octet-stream"


def test_exception_handler_catches_network_failures(dead_url):
    session = Client(dead_url, retries=0).session(Usecase("u"), org=1)
    caught = None
    try:
        session.get("k")
    except (RequestError, urllib3.exceptions.HTTPError) as exc:
        caught = exc
    assert isinstance(caught, urllib3.exceptions.MaxRetryError)
    assert isinstance(caught.reason, urllib3.exceptions.NewConnectionError)


def test_retry_filter_on_read_timeouts(scripted):
    server = scripted.start(lambda request, index: scripted.Reply(204, read_delay=0.5))
    session = Client(server.url, timeout_ms=100, retries=0).session(Usecase("u"))
    attempts = 0
    for _ in range(2):  # the caller's retry loop
        attempts += 1
        try:
            session.head("k")
        except urllib3.exceptions.MaxRetryError as exc:
            if not isinstance(exc.reason, urllib3.exceptions.ReadTimeoutError):
                raise
    assert attempts == 2


def test_exception_handlers_of_extend_expiry(session):
    from objectstore_client import ExpiryExtensionRejected, ObjectNotFound

    outcomes = []
    for key in ("missing", session.put(b"forever", key="forever")):
        try:
            session.extend_expiry(key, from_now=timedelta(days=30))
        except ObjectNotFound:
            outcomes.append("missing")
        except ExpiryExtensionRejected:
            outcomes.append("rejected")
    assert outcomes == ["missing", "rejected"]


def test_reexports():
    from objectstore_client import client, multipart, tracing, utils
    from objectstore_client.client import (
        HEADER_FILENAME,
        ExpiryExtensionRejected,
        MultipartUpload,
        ObjectNotFound,
        Permission,
        SecretKey,
        format_timedelta,
        raise_for_status,
        storage_span,
    )

    assert MultipartUpload is multipart.MultipartUpload
    assert issubclass(ObjectNotFound, RequestError)
    assert issubclass(ExpiryExtensionRejected, RequestError)
    assert Permission.OBJECT_READ.value == "object.read"
    assert SecretKey is client.SecretKey
    assert HEADER_FILENAME == "x-sn-filename"
    assert format_timedelta(timedelta(days=1, seconds=5)) == "1d 5s"
    assert storage_span is tracing.storage_span
    assert utils.encode_path("/a b") == "/a%20b"
    assert utils.encode_query("a=b c") == "a=b%20c"
    assert raise_for_status.__name__ == "raise_for_status"


def test_connection_kwargs_with_urllib3_retry_and_timeout(objectstore_url, dead_url):
    kwargs = {"retries": urllib3.Retry(total=0), "timeout": urllib3.Timeout(connect=1.0, read=5.0)}
    with Client(objectstore_url, connection_kwargs=kwargs) as client:
        session = client.session(Usecase("u"), org=1)
        assert session.get(session.put(b"configured")).payload.read() == b"configured"
    with (
        Client(dead_url, connection_kwargs=kwargs) as client,
        pytest.raises(urllib3.exceptions.MaxRetryError),
    ):
        client.session(Usecase("u"), org=1).get("k")


def test_metadata_from_keywords_and_get_response_from_a_buffer():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    metadata = Metadata(
        content_type="text/plain",
        compression=None,
        expiration_policy=None,
        time_created=created,
        time_expires=None,
        origin="203.0.113.42",
        filename="notes.txt",
        size=5,
        custom={"source": "test"},
    )
    response = GetResponse(metadata, io.BytesIO(b"hello"))
    assert response.metadata.filename == "notes.txt"
    assert response.payload.read() == b"hello"
    metadata_, payload = response
    assert payload is response.payload
    assert metadata_.size == 5
    assert pickle.loads(pickle.dumps(metadata)) == metadata


# -------------------------------------------------------------- part two: the README

README_QUICK_START = """\
from objectstore_client import Client, Usecase

client = Client("http://localhost:8888")
session = client.session(Usecase("attachments"), org=42, project=1337)

# Upload
key = session.put(b"Hello, world!")

# Download
result = session.get(key)
content = result.payload.read()

# Delete
session.delete(key)
"""

README_SCOPES = """\
# Scope with org and project (recommended first components)
session = client.session(Usecase("attachments"), org=42, project=1337)

# Additional components are appended after org/project
session = client.session(Usecase("attachments"), org=42, project=1337, app_slug="email_app")
"""

README_EXPIRATION = """\
from datetime import timedelta
from objectstore_client import Usecase, TimeToIdle, TimeToLive

# Set default expiration on the Usecase
usecase = Usecase("attachments", expiration_policy=TimeToIdle(timedelta(days=30)))

# Override per-upload
session.put(b"payload", expiration_policy=TimeToLive(timedelta(hours=1)))
"""

README_EXTEND_EXPIRY = """\
from objectstore_client import ExpiryExtensionRejected

try:
    session.extend_expiry(key, from_now=timedelta(days=30))
except ExpiryExtensionRejected:
    print("Object could not be extended")
"""

README_ORIGIN = """\
session.put(b"payload", origin="203.0.113.42")
"""

README_COMPRESSION = """\
# upload as-is and record no encoding:
session.put(video_data, compress="none")

# upload as-is, but record the encoding so that downloads still decompress:
session.put(zstd_data, precompressed="zstd")
"""

README_CUSTOM_METADATA = """\
session.put(b"payload", metadata={"source": "upload-service"})
"""

README_MULTIPART = """\
from concurrent.futures import ThreadPoolExecutor

import zstandard

from objectstore_client.multipart import MultipartCompleteError

upload = session.initiate_multipart_upload(
    key="my-large-object",
    compression="zstd",
    metadata={"source": "upload-service"},
)

compressor = zstandard.ZstdCompressor()
chunks = [b"part1", b"part2", b"part3", b"part4"]

def upload_part(part_number: int, data: bytes):
    compressed = compressor.compress(data)
    return upload.put_part(
        compressed, part_number=part_number, content_length=len(compressed)
    )

with ThreadPoolExecutor(max_workers=4) as executor:
    futures = [
        executor.submit(upload_part, i + 1, chunk)
        for i, chunk in enumerate(chunks)
    ]
    parts = [f.result() for f in futures]

try:
    key = upload.complete(parts)
except MultipartCompleteError:
    upload.abort()
    raise
"""

README_MULTIPART_RESUME = """\
saved_key = upload.key
saved_upload_id = upload.upload_id

resumed = session.resume_multipart_upload(saved_key, saved_upload_id)
existing_parts = resumed.list_parts()

# Upload missing parts...

key = resumed.complete(new_parts + existing_parts)
"""

README_AUTHENTICATION = """\
from objectstore_client import Client, Usecase
from objectstore_client.auth import SecretKey

# Option 1: Internal service with a keypair
client = Client(
    "http://localhost:8888",
    token=SecretKey(kid="my-service", secret_key="<private key>"),
)

# Option 2: External service with a pre-signed JWT
# Use SecretKey.token_for_scope() to obtain a static token from an
# internal service, then pass it to the external consumer:
from objectstore_client.scope import Scope

token = SecretKey(
    kid="my-service", secret_key="<private key>",
).token_for_scope("my_app", Scope(org=42, project=1337))

client = Client("http://localhost:8888", token=token)
"""

README_OBJECT_URLS = """\
from datetime import timedelta

url = session.object_url("my-key", token_validity=timedelta(hours=1))
"""

README_PRESIGNED = """\
from datetime import timedelta

# The recipient can fetch this with any HTTP client, no auth header needed.
url = session.presigned_object_url("GET", "my-key", duration=timedelta(hours=1))

import urllib.request
with urllib.request.urlopen(url) as resp:
    content = resp.read()
"""

README_CONFIGURATION = """\
from objectstore_client import Client, Usecase

client = Client(
    "http://localhost:8888",
    propagate_traces=False,  # default
    retries=3,               # default: 3 connect retries, no read retries
    timeout_ms=None,         # default: no read timeout (connect: 100ms)
    connection_kwargs={},    # default: empty (override urllib3.HTTPConnectionPool kwargs)
    # metrics_backend=...,   # default: no-op
    # token=...,             # see Authentication section
)

attachments = Usecase("attachments")
"""

README_TRACING = """\
import sentry_sdk

sentry_sdk.init(
    dsn="...",
    traces_sample_rate=1.0,
    # Optional: controls which hosts get `sentry-trace`/`baggage` headers.
    # trace_propagation_targets=["http://objectstore"],
)
"""


def run(block: str, namespace: dict[str, Any], url: str, private_pem: str = "") -> None:
    source = block.replace("http://localhost:8888", url).replace(
        '"<private key>"', repr(private_pem)
    )
    source = source.replace(
        "compressed = compressor.compress(data)",
        "compressed = zstandard.ZstdCompressor().compress(data)",
    )
    exec(compile(source, "<README 0.2.10>", "exec"), namespace)


def test_readme_examples_run_in_order(objectstore_url):
    namespace: dict[str, Any] = {
        "video_data": b"\x00\x00\x00\x18ftypmp42 video",
        "zstd_data": zstandard.ZstdCompressor().compress(b"precompressed " * 100),
    }
    run(README_QUICK_START, namespace, objectstore_url)
    assert namespace["content"] == b"Hello, world!"
    run(README_SCOPES, namespace, objectstore_url)
    assert str(namespace["session"].scope) == "org=42;project=1337;app_slug=email_app"
    run(README_EXPIRATION, namespace, objectstore_url)
    session = namespace["session"]
    namespace["key"] = session.put(
        b"expiring", expiration_policy=namespace["TimeToLive"](timedelta(hours=1))
    )
    before = session.head(namespace["key"]).time_expires
    run(README_EXTEND_EXPIRY, namespace, objectstore_url)
    assert session.head(namespace["key"]).time_expires > before + timedelta(days=29)
    for block in (README_ORIGIN, README_COMPRESSION, README_CUSTOM_METADATA):
        run(block, namespace, objectstore_url)
    precompressed = session.put(namespace["zstd_data"], precompressed="zstd")
    assert session.get(precompressed).payload.read() == b"precompressed " * 100

    run(README_MULTIPART, namespace, objectstore_url)
    assert namespace["key"] == "my-large-object"
    stored = session.get("my-large-object")
    assert stored.payload.read() == b"part1part2part3part4"
    assert stored.metadata.custom == {"source": "upload-service"}

    # The resume example continues an upload still in progress; the missing parts are
    # uploaded where the README elides it ("# Upload missing parts...").
    upload = session.initiate_multipart_upload(key="resumed-object", compression="none")
    upload.put_part(b"first ", part_number=1, content_length=6)
    namespace["upload"] = upload
    before, after = README_MULTIPART_RESUME.split("# Upload missing parts...")
    run(before, namespace, objectstore_url)
    assert [p.part_number for p in namespace["existing_parts"]] == [1]
    namespace["new_parts"] = [upload.put_part(b"second", part_number=2, content_length=6)]
    run(after, namespace, objectstore_url)
    assert namespace["key"] == "resumed-object"
    assert session.get("resumed-object").payload.read() == b"first second"

    run(README_CONFIGURATION, namespace, objectstore_url)
    configured = namespace["client"].session(namespace["attachments"], org=1)
    assert configured.get(configured.put(b"configured")).payload.read() == b"configured"


def test_readme_authentication_and_url_examples():
    keypair = generate_keypair()
    key = AuthKey(
        public_keys=(keypair.public_pem,),
        max_permissions=frozenset({"object.read", "object.write", "object.delete"}),
    )
    with LocalServer(storage="memory", auth_keys={"my-service": key}) as server:
        option_1, _ = README_AUTHENTICATION.split("\n# Option 2")
        internal: dict[str, Any] = {}
        run(option_1, internal, server.url, keypair.private_pem)
        session = internal["client"].session(Usecase("attachments"), org=42)
        session.put(b"shared", key="my-key", compress="none")
        internal["session"] = session
        run(README_OBJECT_URLS, internal, server.url)
        with urllib3.PoolManager() as http:
            assert http.request("GET", internal["url"]).data == b"shared"
        run(README_PRESIGNED, internal, server.url)
        assert internal["content"] == b"shared"

        external: dict[str, Any] = {}
        run(README_AUTHENTICATION, external, server.url, keypair.private_pem)
        scoped = external["client"].session(Usecase("my_app"), org=42, project=1337)
        assert scoped.get(scoped.put(b"external")).payload.read() == b"external"
        for client in (internal["client"], external["client"]):
            client.close()


class Capturing(sentry_sdk.transport.Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.items: list[Any] = []

    def capture_envelope(self, envelope: Any) -> None:
        self.items += envelope.items


def test_readme_tracing_example(objectstore_url):
    transport = Capturing()
    previous = sentry_sdk.get_client()
    block = README_TRACING.replace(
        'dsn="...",', 'dsn="https://public@example.invalid/1", transport=transport,'
    )
    try:
        run(block, {"transport": transport}, objectstore_url)
        with root_span("t"), Client(objectstore_url) as client:
            client.session(Usecase("attachments"), org=1).put(b"traced")
        sentry_sdk.get_client().flush()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(previous)
    assert "objectstore.put" in [span.op for span in recorded(transport.items)]
