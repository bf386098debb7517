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

from objectstore_client import Client, ObjectNotFound, Session, Usecase
from objectstore_client.batch import Head, Put
from objectstore_client.testing import LocalServer
from objectstore_client.transfers import MIN_PART_SIZE, TransferConfig
from tests._batch_helpers import wait_for_batch_workers
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
    source.write_bytes(os.urandom(2 * MIN_PART_SIZE + 10))
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE)
    wire.session.upload_file(source, "no-md5", config=config)
    parts = [r for r in wire.requests() if r.endpoint == "objects:multipart:parts"]
    # Random bytes store a little more than themselves: two parts of 5 MiB of the file
    # (each just over MIN_PART_SIZE stored), then the last 10 bytes.
    assert len(parts) == 3
    assert all("content-md5" not in part.headers for part in parts)


# --- which protocol upload_file and download_file run --------------------------------------

SMALL_PARTS = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=3)


@pytest.fixture(scope="module")
def random_12m() -> bytes:
    return os.urandom(12 * MIB + 12345)


def test_upload_file_below_the_threshold_is_one_put(wire, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"small file " * 1000)
    wire.session.upload_file(source, "up/small", config=TransferConfig(threshold=MIB))
    (put,) = wire.requests()
    assert put.kind == ("PUT", "objects")
    assert put.query == {}
    assert put.status == 200
    assert zstandard.ZstdDecompressor().decompressobj().decompress(put.body) == source.read_bytes()


def test_upload_file_above_the_threshold_is_multipart(wire, tmp_path, random_12m):
    source = tmp_path / "in.bin"
    source.write_bytes(random_12m)
    wire.session.upload_file(source, "up/multi", config=SMALL_PARTS, compression="none")
    requests = wire.requests()
    initiate, *parts, complete = requests
    assert initiate.kind == ("PUT", "objects:multipart")
    assert [part.kind for part in parts] == [("PUT", "objects:multipart:parts")] * 3
    upload_id = parts[0].query["upload_id"]
    assert {part.query["upload_id"] for part in parts} == {upload_id}
    # Parallel parts may arrive in any order; each part is sent once, at its offset.
    by_number = {int(part.query["part_number"]): part.body for part in parts}
    assert sorted(by_number) == [1, 2, 3]
    assert b"".join(by_number[n] for n in (1, 2, 3)) == random_12m
    assert complete.kind == ("POST", "objects:multipart:complete")
    assert complete.query == {"upload_id": upload_id}
    assert all(request.status == 200 for request in requests)


def test_upload_file_resumable_is_one_session(wire, tmp_path, random_12m):
    source = tmp_path / "in.bin"
    source.write_bytes(random_12m[: 3 * MIB])
    config = TransferConfig(threshold=0, protocol="resumable")
    wire.session.upload_file(source, "up/resumable", config=config, compression="none")
    create, *writes = wire.requests()
    assert create.kind == ("PUT", "objects")
    assert create.query.get("upload_type") == "resumable"
    assert writes
    assert {write.kind for write in writes} == {("PUT", "objects")}
    assert {write.query.get("session") for write in writes} != {None}
    assert len({write.query["session"] for write in writes}) == 1
    assert all("upload-offset" in write.headers for write in writes)
    assert b"".join(write.body for write in writes) == source.read_bytes()
    assert writes[-1].status == 201
    assert not any(r.endpoint.startswith("objects:multipart") for r in writes)


def _ranges(requests: list[Request]) -> list[str]:
    assert {request.kind for request in requests} == {("GET", "objects")}
    return [request.headers.get("range", "") for request in requests]


def _first_byte(range_header: str) -> int:
    return int(range_header.removeprefix("bytes=").split("-")[0])


def test_download_file_of_a_small_object_is_one_ranged_get(wire, tmp_path):
    wire.session.put(b"tiny", key="dl/tiny", compression="none")
    wire.requests()
    wire.session.download_file("dl/tiny", tmp_path / "out")
    requests = wire.requests()
    # The first request asks for the first part; the object fits in it.
    assert _ranges(requests) == [f"bytes=0-{TransferConfig().part_size - 1}"]
    assert requests[0].status == 206
    assert (tmp_path / "out").read_bytes() == b"tiny"


def test_download_file_of_an_empty_object_falls_back_to_a_plain_get(wire, tmp_path):
    wire.session.put(b"", key="dl/empty", compression="none")
    wire.requests()
    wire.session.download_file("dl/empty", tmp_path / "out")
    ranged, plain = wire.requests()
    assert ranged.headers["range"].startswith("bytes=0-")
    assert ranged.status == 416  # an empty object has no byte 0 (protocol §7)
    assert plain.kind == ("GET", "objects")
    assert "range" not in plain.headers
    assert plain.status == 200


def test_download_file_above_the_threshold_is_parallel_ranges(wire, tmp_path, random_12m):
    wire.session.put(random_12m, key="dl/big", compression="none")
    wire.requests()
    wire.session.download_file("dl/big", tmp_path / "out", config=SMALL_PARTS)
    requests = wire.requests()
    part, total = MIN_PART_SIZE, len(random_12m)
    # The first part, then the others in parallel (in any order).
    assert _ranges(requests)[0] == f"bytes=0-{part - 1}"
    assert sorted(_ranges(requests)[1:], key=_first_byte) == [
        f"bytes={part}-{2 * part - 1}",
        f"bytes={2 * part}-{total - 1}",
    ]
    assert {request.status for request in requests} == {206}
    assert (tmp_path / "out").read_bytes() == random_12m


def test_download_file_below_the_threshold_fetches_the_rest_in_one_range(
    wire, tmp_path, random_12m
):
    wire.session.put(random_12m, key="dl/one", compression="none")
    wire.requests()
    config = TransferConfig(threshold=1 << 40, part_size=MIN_PART_SIZE)
    wire.session.download_file("dl/one", tmp_path / "out", config=config)
    part, total = MIN_PART_SIZE, len(random_12m)
    assert _ranges(wire.requests()) == [f"bytes=0-{part - 1}", f"bytes={part}-{total - 1}"]
    assert (tmp_path / "out").read_bytes() == random_12m


def test_download_file_of_a_compressed_object_is_one_stream(wire, tmp_path, random_12m):
    data = random_12m[: 6 * MIB] + b"repetitive " * MIB
    wire.session.put(data, key="dl/z", compression="zstd")
    wire.requests()
    wire.session.download_file("dl/z", tmp_path / "out", config=SMALL_PARTS)
    stored = len(wire.session.get("dl/z", decompress=False).payload.read())
    part = MIN_PART_SIZE
    # Decoded in one pass: the first part, then everything after it, never in parallel.
    assert _ranges(wire.requests()[:-1]) == [f"bytes=0-{part - 1}", f"bytes={part}-"]
    assert stored > part
    assert (tmp_path / "out").read_bytes() == data


# --- iter_many closed early --------------------------------------------------------------


def test_closing_iter_many_early_sends_no_further_batch(wire):
    # 2,500 inserts make several batch requests (at most 1,000 operations each, fewer for
    # the bound on their answers), one at a time. The first is in flight when the iterator
    # closes; the others must not go.
    operations = [Put(b"x", key=f"early/{i}") for i in range(2500)]
    results = wire.session.iter_many(operations, max_batches=1)
    first = next(results)
    assert first.ok
    results.close()
    wait_for_batch_workers(10)
    batches = [r for r in wire.requests() if r.endpoint == "objects:batch"]
    assert len(batches) == 1
    sent = batches[0].body.count(b"x-sn-batch-operation-key: early%2F")
    assert 0 < sent < 2500
    # The server stored the first batch only.
    unsent = wire.session.many([Head(f"early/{i}") for i in range(sent, 2500)])
    assert all(isinstance(result.error, ObjectNotFound) for result in unsent)


def test_closing_iter_many_early_sends_no_further_upload(wire):
    # Puts too big for a batch go alone, one at a time here: at most the one in flight
    # when the iterator closed follows the first.
    operations = [Put(os.urandom(2 * MIB), key=f"alone/{i}") for i in range(6)]
    results = wire.session.iter_many(operations, max_requests=1)
    assert next(results).ok
    results.close()
    wait_for_batch_workers(10)
    puts = [r for r in wire.requests() if r.kind == ("PUT", "objects")]
    assert 1 <= len(puts) <= 2


def test_an_iter_many_never_iterated_sends_nothing(wire):
    results = wire.session.iter_many([Put(b"x", key="never")])
    results.close()
    wait_for_batch_workers(10)
    assert wire.requests() == []
