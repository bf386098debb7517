"""Which requests go over the wire: part digests, and the protocol each transfer picks.

A recording proxy (`tests.faults.proxy.FaultProxy` without a fault) sits between the
client and a real local server, so these tests see the requests as sent, and the server
still answers them all.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
import zstandard

from objectstore_client import Client, Session, Usecase
from objectstore_client.testing import LocalServer
from objectstore_client.transfers import MIN_PART_SIZE, TransferConfig
from tests.faults.proxy import Exchange, FaultProxy

MIB = 1024 * 1024


@dataclass(frozen=True)
class Request:
    """A recorded request, split into what the tests compare."""

    method: str
    endpoint: str
    """The path segment after `/v1/`: `objects`, `objects:multipart`, ..."""
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int | None

    @classmethod
    def of(cls, exchange: Exchange) -> Request:
        target = urlsplit(exchange.target)
        endpoint = target.path.split("/")[2]
        query = dict(parse_qsl(target.query))
        return cls(
            exchange.method, endpoint, query, exchange.headers, exchange.body, exchange.status
        )

    @property
    def kind(self) -> tuple[str, str]:
        return (self.method, self.endpoint)


@dataclass
class Wire:
    """A session whose requests pass through a recording proxy to the local server."""

    session: Session
    proxy: FaultProxy

    def requests(self) -> list[Request]:
        """The requests recorded so far, then forgets them."""
        recorded = [Request.of(exchange) for exchange in self.proxy.exchanges]
        self.proxy.exchanges.clear()
        return recorded


@pytest.fixture
def wire(objectstore_server: LocalServer, objectstore_usecase: str) -> Iterator[Wire]:
    with (
        FaultProxy(("127.0.0.1", objectstore_server.port), None) as proxy,
        Client(proxy.url, retries=0) as client,
    ):
        yield Wire(client.session(Usecase(objectstore_usecase), org=5), proxy)


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


# --- content-md5 of multipart parts (protocol §11.2) ----------------------------------------


@pytest.mark.parametrize(
    ("compression", "part"),
    [
        pytest.param("zstd", b"compressed here " * 5000, id="compressed-by-the-client"),
        pytest.param("none", b"sent as it is " * 5000, id="uncompressed"),
        pytest.param(
            "zstd",
            zstandard.ZstdCompressor().compress(b"compressed by the caller " * 5000),
            id="whole-frames-from-the-caller",
        ),
    ],
)
def test_a_parts_content_md5_is_the_digest_of_the_bytes_sent(wire, compression, part):
    # The caller gives the digest of the part it passed; when the client compresses the
    # part, the digest sent must be that of the compressed bytes, which the backend (GCS)
    # checks against what it receives. The local server ignores the header, like the real
    # server's filesystem backend ([FS], protocol §11.2), and the real server's answer to
    # a wrong digest is not specified, so the check is on the wire.
    upload = wire.session.initiate_multipart_upload(key="md5", compression=compression)
    done = upload.put_part(
        part, part_number=1, content_length=len(part), content_md5=hashlib.md5(part).digest()
    )
    upload.complete([done])
    (_, sent, _) = wire.requests()
    assert sent.kind == ("PUT", "objects:multipart:parts")
    assert sent.status == 200
    assert sent.headers["content-md5"] == _md5(sent.body)
    if compression == "zstd" and not part.startswith(b"\x28\xb5\x2f\xfd"):
        assert sent.body != part  # compressed here: the digest given was not sent as it is
    else:
        assert sent.body == part
    with wire.session.get("md5") as got:
        assert got.payload.read() == (
            zstandard.ZstdDecompressor().decompressobj().decompress(part)
            if part.startswith(b"\x28\xb5\x2f\xfd")
            else part
        )


def test_parts_without_a_digest_send_no_content_md5(wire, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(MIN_PART_SIZE + 10))
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE)
    wire.session.upload_file(source, "no-md5", config=config)
    parts = [r for r in wire.requests() if r.endpoint == "objects:multipart:parts"]
    assert len(parts) == 2
    assert all("content-md5" not in part.headers for part in parts)
