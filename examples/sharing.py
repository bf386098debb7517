"""Hand an object to a consumer that holds no key: token URL, presigned URL, minted token.

    python examples/sharing.py

Starts the local server of `objectstore_client.testing` in-process with auth enforced and
a freshly generated key pair, uploads an object, and reads it back the way a browser or
another service would: with nothing but `urllib.request` and what it was handed.

Compression decides what such a consumer receives. The SDK compresses uploads with zstd by
default, and the server stores and serves the bytes as they were uploaded, labelled
`Content-Encoding: zstd` (protocol §8): a plain HTTP client gets the compressed bytes. A
browser decodes them only if it supports zstd; `curl` only with `--compressed` and a build
with zstd; `urllib.request` never. So, for objects meant for such consumers, either:

* upload them with `compression="none"` (the first object below), or
* have the consumer decode zstd (the last lines below use the `zstandard` package), or
* serve them through a service that reads with the SDK: `session.get(key)` decompresses,
  `session.get(key, accept_encoding=[...])` passes zstd through to clients that accept it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta

import zstandard

from objectstore_client import Client, Permission, SecretKey, TimeToLive, Usecase
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair


def fetch_raw(url: str) -> tuple[str | None, bytes]:
    """A plain GET: the `Content-Encoding` it was answered with, and the bytes received."""
    with urllib.request.urlopen(url) as response:
        return response.headers.get("Content-Encoding"), response.read()


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> str:
    """What a consumer without the SDK does: one plain HTTP request."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return f"{response.status} {response.read()!r}"
    except urllib.error.HTTPError as error:
        return f"{error.code} refused"


def main() -> None:
    keypair = generate_keypair()
    trusted = AuthKey(
        public_keys=(keypair.public_pem,),
        max_permissions=frozenset({"object.read", "object.write", "object.delete"}),
    )
    server = LocalServer(storage="memory", auth_keys={"example": trusted}, extend_expiry=True)
    with server, Client(server.url, token=SecretKey("example", keypair.private_pem)) as client:
        usecase = Usecase("attachments", expiration_policy=TimeToLive(timedelta(days=1)))
        session = client.session(usecase, org=42, project=1337)
        # Stored uncompressed, so that any HTTP client can read it as it is (see above).
        key = session.put(b"crash report", compression="none", filename="report.txt")

        token_url = session.object_url(key, token_validity=timedelta(minutes=5))
        print(f"token URL      GET {fetch(token_url)}")
        print(f"token URL      DELETE {fetch(token_url, method='DELETE')}")

        presigned = session.presigned_object_url("GET", key, timedelta(hours=1))
        print(f"presigned URL  GET {fetch(presigned)}")

        token = session.mint_token([Permission.OBJECT_READ], expiry_seconds=60)
        bearer = {"X-Os-Auth": f"Bearer {token}"}
        print(f"minted token   GET {fetch(session.object_url(key), bearer)}")

        session.extend_expiry(key, from_creation=timedelta(days=30))
        print(f"extended       expires {session.head(key).time_expires:%Y-%m-%d}")

        # Uploaded with the default compression: a plain client receives zstd bytes.
        log = b"frame 1: crash in main()\n" * 200
        compressed = session.put(log, filename="log.txt")
        encoding, body = fetch_raw(session.presigned_object_url("GET", compressed))
        print(f"zstd object    GET 200 Content-Encoding: {encoding}, {len(body)} bytes received")
        decoded = zstandard.ZstdDecompressor().decompressobj().decompress(body)
        print(f"decoded        {len(decoded)} bytes, as uploaded: {decoded == log}")


if __name__ == "__main__":
    main()
