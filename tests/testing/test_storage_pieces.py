"""Objects stored in pieces: request bodies kept as received, multipart parts assembled as views.

The memory storage keeps an object as the buffers its request bodies arrived in (1 MiB
pieces, received straight into them) and assembles a multipart object from views of its
parts, copying nothing. Every read must still see exactly the bytes sent: whole, in ranges
that cross piece and part boundaries, after a metadata rewrite, and for resumable uploads
(whose chunks are staged as pieces). The filesystem storage is the reference.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from objectstore_client import Client, Session, TimeToLive, Usecase
from objectstore_client.testing import LocalServer
from objectstore_client.transfers import TransferConfig

MIB = 1024 * 1024
# Parts whose sizes are not multiples of the 1 MiB pieces, each with its own random bytes.
PARTS = [os.urandom(MIB + MIB // 2), os.urandom(MIB + 3), os.urandom(7)]
DATA = b"".join(PARTS)


@pytest.fixture(params=["memory", "filesystem"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    data_dir = tmp_path / "data" if request.param == "filesystem" else None
    with (
        LocalServer(storage=request.param, server_version="current", data_dir=data_dir) as server,
        Client(server.url) as client,
    ):
        yield client.session(Usecase("test"), org=1)


def _ranges() -> list[tuple[int, int | None]]:
    first, second = len(PARTS[0]), len(PARTS[0]) + len(PARTS[1])
    return [
        (0, 1),
        (MIB - 1, MIB + 1),  # across the first piece boundary inside part 1
        (first - 5, first + 5),  # across parts 1 and 2
        (first, first + 1),  # the first byte of part 2
        (first + MIB - 2, second + 2),  # a piece boundary of part 2, then into part 3
        (second, None),  # all of part 3
        (-10, None),  # a suffix across parts 2 and 3
        (1, len(DATA) - 1),  # nearly everything
    ]


def _check_reads(session: Session, key: str) -> None:
    with session.get(key) as got:
        assert got.payload.read() == DATA
    for start, end in _ranges():
        with session.get(key, range=(start, end)) as got:
            expected = DATA[start:] if end is None else DATA[start:end]
            assert got.payload.read() == expected, (start, end)


def test_multipart_object_reads_back_whole_and_in_ranges(session):
    upload = session.initiate_multipart_upload(key="parts", compression="none")
    done = [
        upload.put_part(part, part_number=number, content_length=len(part))
        for number, part in enumerate(PARTS, start=1)
    ]
    assert upload.complete(done) == "parts"
    _check_reads(session, "parts")


def test_put_in_pieces_reads_back_and_survives_a_metadata_rewrite(session):
    policy = TimeToLive(timedelta(hours=1))
    session.put(DATA, key="plain", compression="none", expiration_policy=policy)
    _check_reads(session, "plain")
    # Extending the expiry stores the object again, from its own pieces.
    session.extend_expiry("plain", from_now=timedelta(hours=2))
    assert session.head("plain").expiration_policy == TimeToLive(timedelta(hours=2))
    _check_reads(session, "plain")


def test_resumable_upload_in_chunks_reads_back(session, tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(DATA)
    config = TransferConfig(threshold=0, protocol="resumable")
    assert session.upload_file(source, "resumed", config=config, compression="none") == "resumed"
    _check_reads(session, "resumed")


def test_replacing_an_assembled_object_leaves_the_new_one_whole(session):
    # The new object must not share a byte with the pieces of the old one it replaces.
    upload = session.initiate_multipart_upload(key="replaced", compression="none")
    done = [
        upload.put_part(part, part_number=number, content_length=len(part))
        for number, part in enumerate(PARTS, start=1)
    ]
    upload.complete(done)
    session.put(DATA[::-1], key="replaced", compression="none")
    with session.get("replaced") as got:
        assert got.payload.read() == DATA[::-1]


def test_chunked_put_of_small_chunks_reads_back_whole_and_in_ranges(session):
    # 3,000-byte chunks: the pieces the storage keeps cross chunk boundaries everywhere.
    chunks = (DATA[i : i + 3000] for i in range(0, len(DATA), 3000))
    session.put(chunks, key="chunked", compression="none")
    _check_reads(session, "chunked")


def test_a_chunked_body_is_received_in_pieces_that_do_not_follow_its_chunks():
    import socket
    import threading

    from objectstore_client.testing._body import BodyReader, SocketReader

    data = os.urandom(300 * 1000 + 17)
    framed = b"".join(
        b"%x\r\n%s\r\n" % (len(data[i : i + 1000]), data[i : i + 1000])
        for i in range(0, len(data), 1000)
    )
    ours, theirs = socket.socketpair()
    sender = threading.Thread(target=theirs.sendall, args=(framed + b"0\r\n\r\n",))
    sender.start()
    with ours, theirs:
        body = BodyReader(SocketReader(ours, timeout=5), None, True, None)
        pieces = list(body)
        sender.join()
    assert b"".join(pieces) == data
    # 64 KiB, then doubling while full: 3 pieces for 301 chunks.
    assert [len(piece) for piece in pieces] == [64 * 1024, 128 * 1024, len(data) - 192 * 1024]
    assert body.done
    assert body.bytes_read == len(data)


@pytest.mark.parametrize("size_line", [b"-5", b"+5", b"0x5", b"1_0", b"", b"5z", b"1" * 17])
@pytest.mark.parametrize("how", ["iterated", "read"])
def test_a_chunk_size_that_is_not_hex_digits_is_refused_at_once(size_line, how):
    import socket

    from objectstore_client.testing._body import BodyError, BodyReader, SocketReader

    ours, theirs = socket.socketpair()
    with ours, theirs:
        # The connection stays open: a lenient parser would wait for bytes that never come.
        theirs.sendall(size_line + b"\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
        body = BodyReader(SocketReader(ours, timeout=5), None, True, None)
        with pytest.raises(BodyError, match="bad chunk size"):
            list(body) if how == "iterated" else body.read(100)


def test_an_objects_file_name_is_the_one_earlier_versions_gave_it(tmp_path: Path) -> None:
    # A data directory outlives the server that wrote it: the file of an object is named by
    # the SHA-256 of `json.dumps([usecase, scopes, key], ensure_ascii=False)`, and must stay
    # so, or objects stored by an earlier version could no longer be found.
    data_dir = tmp_path / "data"
    with (
        LocalServer(storage="filesystem", data_dir=data_dir) as server,
        Client(server.url) as client,
    ):
        client.session(Usecase("attachments"), org=42, project=7).put(b"x", key="a/b c é")
    name = "6f30e2b094f131dde8352d13aea99bb329a9bd607c89cb4fb1ac32a88de53131"
    assert [path.name for path in (data_dir / "objects").iterdir()] == [name]
