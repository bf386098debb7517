"""Every example of the objectstore-client 0.0.19 README, run verbatim against the local server.

The blocks below are copied character for character from that README and executed in
order in one namespace, as a reader would run them. Only placeholders are substituted:

* `http://localhost:8888` becomes the URL of the local server;
* `"<private key>"` becomes a freshly generated Ed25519 PKCS#8 PEM (the README's
  placeholder is not a key, and keys are validated when the generator is built), and the
  server trusts its public half under the README's key id `my-service`;
* `already_compressed_data`, which the README never defines, is bound to some bytes.
"""

from __future__ import annotations

from typing import Any

import pytest

from objectstore_client import Client, ObjectNotFound, RequestError, Usecase
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair

QUICK_START = """\
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

USECASES_AND_SCOPES = """\
# Scope with org and project (recommended first components)
session = client.session(Usecase("attachments"), org=42, project=1337)

# Additional components are appended after org/project
session = client.session(Usecase("attachments"), org=42, project=1337, app_slug="email_app")
"""

EXPIRATION = """\
from datetime import timedelta
from objectstore_client import Usecase, TimeToIdle, TimeToLive

# Set default expiration on the Usecase
usecase = Usecase("attachments", expiration_policy=TimeToIdle(timedelta(days=30)))

# Override per-upload
session.put(b"payload", expiration_policy=TimeToLive(timedelta(hours=1)))
"""

ORIGIN = """\
session.put(b"payload", origin="203.0.113.42")
"""

COMPRESSION = """\
session.put(already_compressed_data, compression="none")
"""

CUSTOM_METADATA = """\
session.put(b"payload", metadata={"source": "upload-service"})
"""

AUTHENTICATION = """\
from objectstore_client import Client, Usecase
from objectstore_client.auth import TokenGenerator

# Option 1: Internal service with a keypair
client = Client(
    "http://localhost:8888",
    token=TokenGenerator(kid="my-service", secret_key="<private key>"),
)

# Option 2: External service with a pre-signed JWT
# Use TokenGenerator.sign_for_scope() to obtain a static token from an
# internal service, then pass it to the external consumer:
from objectstore_client.scope import Scope

token = TokenGenerator(
    kid="my-service", secret_key="<private key>",
).sign_for_scope("my_app", Scope(org=42, project=1337))

client = Client("http://localhost:8888", token=token)
"""

CONFIGURATION = """\
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


def run(block: str, namespace: dict[str, Any], url: str, private_pem: str = "") -> None:
    source = block.replace("http://localhost:8888", url).replace(
        '"<private key>"', repr(private_pem)
    )
    exec(compile(source, "<README>", "exec"), namespace)


def test_readme_examples_run_in_order(objectstore_url):
    namespace: dict[str, Any] = {"already_compressed_data": b"\x28\xb5\x2f\xfd already compressed"}

    run(QUICK_START, namespace, objectstore_url)
    assert namespace["content"] == b"Hello, world!"
    with pytest.raises(ObjectNotFound):
        namespace["session"].get(namespace["key"])

    run(USECASES_AND_SCOPES, namespace, objectstore_url)
    assert str(namespace["session"].scope) == "org=42;project=1337;app_slug=email_app"

    for block in (EXPIRATION, ORIGIN, COMPRESSION, CUSTOM_METADATA):
        run(block, namespace, objectstore_url)
    session = namespace["session"]
    key = session.put(b"payload", metadata={"source": "upload-service"}, origin="203.0.113.42")
    metadata = session.head(key)
    assert (metadata.custom, metadata.origin) == ({"source": "upload-service"}, "203.0.113.42")
    raw = session.put(namespace["already_compressed_data"], compression="none")
    assert session.get(raw).payload.read() == namespace["already_compressed_data"]

    run(CONFIGURATION, namespace, objectstore_url)
    configured = namespace["client"].session(namespace["attachments"], org=1)
    assert configured.get(configured.put(b"configured")).payload.read() == b"configured"


def test_readme_authentication_example():
    keypair = generate_keypair()
    key = AuthKey(
        public_keys=(keypair.public_pem,),
        max_permissions=frozenset({"object.read", "object.write", "object.delete"}),
    )
    with LocalServer(storage="memory", auth_keys={"my-service": key}) as server:
        option_1, _option_2 = AUTHENTICATION.split("\n# Option 2")
        internal: dict[str, Any] = {}
        run(option_1, internal, server.url, keypair.private_pem)
        session = internal["client"].session(Usecase("attachments"), org=42)
        assert session.get(session.put(b"internal")).payload.read() == b"internal"

        external: dict[str, Any] = {}
        run(AUTHENTICATION, external, server.url, keypair.private_pem)
        assert isinstance(external["client"], Client)
        scoped = external["client"].session(Usecase("my_app"), org=42, project=1337)
        assert scoped.get(scoped.put(b"external")).payload.read() == b"external"
        # The static token covers only its usecase and scope.
        with pytest.raises(RequestError) as info:
            external["client"].session(Usecase("my_app"), org=43).put(b"x")
        assert info.value.status == 403
        for client in (internal["client"], external["client"]):
            client.close()
