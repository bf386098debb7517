"""get(range=...), and put from paths and chunk iterators, with progress."""

from __future__ import annotations

import io
import threading

import pytest
import zstandard

from objectstore_client import (
    Client,
    ConnectError,
    InvalidArgument,
    InvalidArgumentType,
    Progress,
    RangeNotSatisfiable,
    Usecase,
)
from objectstore_client.ranges import ByteRange

DATA = bytes(range(256)) * 40  # 10 240 bytes


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        pytest.param((0, 10), DATA[:10], id="start-end"),
        pytest.param((100, 356), DATA[100:356], id="middle"),
        pytest.param((10_000, None), DATA[10_000:], id="open-ended"),
        pytest.param((-17, None), DATA[-17:], id="suffix"),
        pytest.param(ByteRange(5, 6), DATA[5:6], id="byte-range"),
        pytest.param((10_000, 99_999), DATA[10_000:], id="end-past-the-end-is-cut"),
        pytest.param((-99_999, None), DATA, id="suffix-longer-than-object"),
    ],
)
def test_ranges_of_uncompressed_objects(session, byte_range, expected):
    session.put(DATA, key="rng/raw", compression="none")
    with session.get("rng/raw", range=byte_range) as got:
        assert got.payload.read() == expected
        assert got.metadata.compression is None


def test_ranges_of_compressed_objects_are_stored_bytes(session):
    session.put(DATA, key="rng/z", compression="zstd")
    stored = session.get("rng/z", decompress=False).payload.read()
    with session.get("rng/z", range=(0, 8)) as got:
        # Part of a zstd object is returned as stored: it cannot be decoded alone.
        assert got.payload.read() == stored[:8]
        assert got.metadata.compression == "zstd"
    with session.get("rng/z", range=(0, None)) as whole:
        # A range covering every stored byte is the whole object: decoded as usual.
        assert whole.payload.read() == DATA
        assert whole.metadata.compression is None
    with session.get("rng/z", range=(-len(stored), None)) as suffix:
        assert suffix.payload.read() == DATA
    assert (
        zstandard.ZstdDecompressor().decompress(
            b"".join(session.get_ranges("rng/z", [(0, 8), (8, None)]))
        )
        == DATA
    )


def test_range_past_the_end_names_the_range(session):
    session.put(DATA, key="rng/short", compression="none")
    with pytest.raises(RangeNotSatisfiable, match=r"\[20000:30000\].*bytes=20000-29999") as caught:
        session.get("rng/short", range=(20_000, 30_000))
    assert caught.value.status == 416


@pytest.mark.parametrize(
    ("byte_range", "error"),
    [
        pytest.param((5, 2), InvalidArgument, id="reversed"),
        pytest.param((5, 5), InvalidArgument, id="empty"),
        pytest.param((-5, 10), InvalidArgument, id="negative-with-end"),
        pytest.param((0, -1), InvalidArgument, id="negative-end"),
        pytest.param((0, 1, 2), InvalidArgumentType, id="three"),
        pytest.param(("0", 1), InvalidArgumentType, id="str"),
        pytest.param((True, 1), InvalidArgumentType, id="bool"),
        pytest.param("bytes=0-1", InvalidArgumentType, id="header-text"),
        # The server reads bounds as unsigned 64-bit numbers: larger ones are a 400.
        pytest.param((0, 2**64 + 1), InvalidArgument, id="end-past-64-bits"),
        pytest.param((2**64, None), InvalidArgument, id="start-of-64-bits"),
        pytest.param((-(2**64), None), InvalidArgument, id="suffix-of-64-bits"),
    ],
)
def test_bad_ranges_raise_before_any_request(dead_url, byte_range, error):
    with Client(dead_url) as client, pytest.raises(error):
        client.session(Usecase("u"), org=1).get("k", range=byte_range)


@pytest.mark.parametrize("byte_range", [(0, 2**64), (2**64 - 1, None), (-(2**64 - 1), None)])
def test_the_largest_ranges_the_server_reads_are_sent(dead_url, byte_range):
    # The connection error shows the request got past validation.
    with Client(dead_url) as client, pytest.raises(ConnectError):
        client.session(Usecase("u"), org=1).get("k", range=byte_range)


def test_put_from_a_path_and_chunks_with_progress(session, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(DATA * 20)
    reports: list[tuple[Progress, int]] = []

    def progress(report: Progress) -> None:
        reports.append((report, threading.get_ident()))

    session.put(source, key="src/path", progress=progress)
    assert session.get("src/path").payload.read() == DATA * 20
    assert reports[-1][0] == Progress(len(DATA) * 20, len(DATA) * 20)
    assert {ident for _, ident in reports} == {threading.get_ident()}

    reports.clear()
    session.put((DATA[i : i + 1000] for i in range(0, len(DATA), 1000)), key="src/chunks")
    session.put(iter([b"a", bytearray(b"b"), memoryview(b"c")]), key="src/list", progress=progress)
    assert session.get("src/chunks").payload.read() == DATA
    assert session.get("src/list").payload.read() == b"abc"
    assert reports[-1][0] == Progress(3, None)

    reports.clear()
    session.put(DATA, key="src/bytes", progress=progress)
    assert [r for r, _ in reports] == [Progress(len(DATA), len(DATA))]


def test_put_chunks_of_the_wrong_type(session):
    with pytest.raises(InvalidArgumentType, match="chunks must be bytes"):
        session.put(iter(["text"]), key="src/bad")


def test_put_from_a_missing_path(session, tmp_path):
    with pytest.raises(FileNotFoundError):
        session.put(tmp_path / "missing", key="src/missing")


def test_get_progress_reports_while_reading(session):
    session.put(DATA * 10, key="prog/raw", compression="none")
    session.put(DATA * 10, key="prog/z", compression="zstd")
    reports: list[Progress] = []
    with session.get("prog/raw", progress=reports.append) as got:
        assert got.payload.read(1000) == DATA[:1000]
        # Whole objects are streamed without a length: the total is the stored size
        # where the server sends it (x-sn-size), unknown otherwise.
        total = got.metadata.size
        assert reports == [Progress(1000, total)]
        assert got.payload.read() == (DATA * 10)[1000:]
    assert reports[-1] == Progress(len(DATA) * 10, total)
    reports.clear()
    with session.get("prog/raw", range=(0, 5000), progress=reports.append) as got:
        got.payload.read()
    assert reports[-1] == Progress(5000, 5000)
    reports.clear()
    with session.get("prog/z", progress=reports.append) as got:
        assert b"".join(iter(lambda: got.payload.read(4096), b"")) == DATA * 10
    assert reports[-1] == Progress(len(DATA) * 10, None)


def test_get_progress_payload_reads_lines_and_peeks(session):
    session.put(b"one\ntwo\nthree\n" * 1000, key="prog/lines", compression="zstd")
    reports: list[Progress] = []
    with session.get("prog/lines", progress=reports.append) as got:
        assert got.payload.peek(3)[:3] == b"one"
        assert reports == []
        assert got.payload.readline() == b"one\n"
        assert [line for _, line in zip(range(2), got.payload, strict=False)] == [
            b"two\n",
            b"three\n",
        ]
        # A report per line, not per byte.
        assert [report.bytes_done for report in reports] == [4, 8, 14]


def test_put_progress_counts_back_on_retry(scripted):
    answers = iter([scripted.Reply(503), scripted.json_reply(200, '{"key": "k"}')])
    server = scripted.start(lambda request, index: next(answers))
    reports: list[Progress] = []
    with Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        session.put(io.BytesIO(b"x" * 1000), key="k", compression="none", progress=reports.append)
    assert reports[-1] == Progress(1000, 1000)
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("byte_range", "header"),
    [
        pytest.param(ByteRange(0, 10), "bytes=0-9", id="start-end"),
        pytest.param(ByteRange(5), "bytes=5-", id="open"),
        pytest.param(ByteRange(-7), "bytes=-7", id="suffix"),
    ],
)
def test_range_headers(byte_range, header):
    assert byte_range.header == header


def test_range_not_satisfiable_pickles():
    import pickle

    error = RangeNotSatisfiable("GET /x: range [5:] is not satisfiable", 416, "")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.status) == (str(error), 416)
