"""download_file, get_ranges, TransferConfig, and resuming interrupted downloads."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from dataclasses import dataclass, field

import pytest
import zstandard

from objectstore_client import (
    Client,
    DecodeError,
    InvalidArgument,
    InvalidArgumentType,
    ObjectNotFound,
    Progress,
    RangeNotSatisfiable,
    ServerError,
    Usecase,
    _file_parts,
)
from objectstore_client._file_parts import FRAME_SIZE
from objectstore_client._plans import objects
from objectstore_client.transfers import MIN_PART_SIZE, TransferConfig
from tests._proxy import QuietHandler, fetch, send_head

MIB = 1024 * 1024
SMALL_PARTS = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=3)


@pytest.fixture(scope="module")
def random_12m() -> bytes:
    return os.urandom(12 * MIB + 12345)


def test_download_uncompressed_in_parallel_ranges(session, tmp_path, random_12m):
    session.put(random_12m, key="dl/raw", compression="none")
    reports: list[tuple[Progress, int]] = []
    target = tmp_path / "raw.bin"
    target.write_bytes(b"old contents")
    metadata = session.download_file(
        "dl/raw",
        target,
        config=SMALL_PARTS,
        progress=lambda p: reports.append((p, threading.get_ident())),
    )
    assert target.read_bytes() == random_12m
    assert metadata.compression is None
    assert {ident for _, ident in reports} == {threading.get_ident()}
    assert reports[-1][0] == Progress(len(random_12m), len(random_12m))
    assert [p.name for p in tmp_path.iterdir()] == ["raw.bin"]


def test_download_compressed_streams_and_decodes(session, tmp_path, random_12m):
    data = random_12m[: 3 * MIB] + b"repetitive " * MIB
    session.put(data, key="dl/z", compression="zstd")
    target = tmp_path / "z.bin"
    metadata = session.download_file("dl/z", str(target), config=SMALL_PARTS)
    assert target.read_bytes() == data
    assert metadata.compression is None
    raw = session.download_file("dl/z", tmp_path / "raw.zst", decompress=False)
    assert raw.compression == "zstd"
    # Uploads of 8 MiB or more are stored as several frames: decode across them (protocol §8).
    stored = (tmp_path / "raw.zst").read_bytes()
    reader = zstandard.ZstdDecompressor().stream_reader(stored, read_across_frames=True)
    assert reader.read() == data


def test_download_compressed_reports_written_bytes_on_the_callers_thread(session, tmp_path):
    # Decoded on this thread, written by a writer thread (`_write_behind`): the reports
    # still come from this thread, grow, and end at every byte written.
    data = os.urandom(2 * MIB) + b"repetitive " * MIB
    session.put(data, key="dl/zp", compression="zstd")
    reports: list[tuple[Progress, int]] = []
    session.download_file(
        "dl/zp",
        tmp_path / "zp.bin",
        progress=lambda p: reports.append((p, threading.get_ident())),
    )
    assert (tmp_path / "zp.bin").read_bytes() == data
    assert {ident for _, ident in reports} == {threading.get_ident()}
    done = [p.bytes_done for p, _ in reports]
    assert done == sorted(done)
    assert reports[-1][0] == Progress(len(data), None)
    assert not [t for t in threading.enumerate() if t.name == "objectstore-write"]


def test_corrupt_compressed_download_stops_the_writer_and_leaves_nothing(session, tmp_path):
    frame = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(os.urandom(3 * MIB)))
    frame[-1] ^= 0xFF  # the checksum no longer matches
    session.put(bytes(frame), key="dl/bad", precompressed="zstd")
    with pytest.raises(DecodeError):
        session.download_file("dl/bad", tmp_path / "bad.bin")
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "objectstore-write"]


def test_download_small_and_empty_objects(session, tmp_path):
    session.put(b"", key="dl/empty", compression="none")
    session.put(b"tiny", key="dl/tiny")
    session.download_file("dl/empty", tmp_path / "e")
    session.download_file("dl/tiny", tmp_path / "t")
    assert (tmp_path / "e").read_bytes() == b""
    assert (tmp_path / "t").read_bytes() == b"tiny"


def test_failed_download_leaves_nothing(session, tmp_path):
    target = tmp_path / "kept"
    target.write_bytes(b"keep me")
    with pytest.raises(ObjectNotFound):
        session.download_file("dl/missing", target)
    assert target.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


def test_download_bad_input_before_any_request(dead_url, tmp_path):
    with Client(dead_url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument, match="directory does not exist"):
            session.download_file("k", tmp_path / "missing" / "file")
        with pytest.raises(InvalidArgument, match="is a directory"):
            session.download_file("k", tmp_path)
        with pytest.raises(InvalidArgumentType):
            session.download_file("k", 42)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="key"):
            session.download_file("", tmp_path / "f")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        pytest.param({"part_size": 0}, "part_size", id="zero-part"),
        pytest.param({"part_size": -5}, "part_size", id="negative-part"),
        pytest.param({"part_size": MIN_PART_SIZE - 1}, "part_size", id="below-minimum"),
        pytest.param({"max_concurrency": 0}, "max_concurrency", id="zero-concurrency"),
        pytest.param({"max_concurrency": -1}, "max_concurrency", id="negative-concurrency"),
        pytest.param({"threshold": -1}, "threshold", id="negative-threshold"),
        pytest.param({"protocol": "ftp"}, "protocol", id="protocol"),
    ],
)
def test_transfer_config_rejects(kwargs, argument):
    with pytest.raises(InvalidArgument) as caught:
        TransferConfig(**kwargs)
    assert caught.value.argument == argument


def test_get_ranges(session, random_12m):
    session.put(random_12m[:100_000], key="r/raw", compression="none")
    got = session.get_ranges("r/raw", [(10, 20), (-5, None), (50_000, None), (0, 3)])
    assert got == [
        random_12m[10:20],
        random_12m[99_995:100_000],
        random_12m[50_000:100_000],
        random_12m[:3],
    ]
    with pytest.raises(RangeNotSatisfiable, match=r"\[200000:\]"):
        session.get_ranges("r/raw", [(0, 1), (200_000, None)])


def test_get_ranges_sends_no_more_requests_after_a_failure(scripted):
    # The results were collected in the order of the ranges, so a failed range was only
    # seen once every range before it had finished: meanwhile the workers went on sending
    # the ranges after it (here all 20, while the first range was slow).
    def script(request, index):
        if request.headers["range"] == "bytes=0-0":
            return scripted.Reply(206, {"content-range": "bytes 0-0/100"}, b"x", read_delay=1.0)
        if request.headers["range"] == "bytes=200-":
            return scripted.Reply(416, {"content-range": "bytes */100"})
        first = request.headers["range"].removeprefix("bytes=").split("-")[0]
        headers = {"content-range": f"bytes {first}-{first}/100"}
        return scripted.Reply(206, headers, b"y", read_delay=0.1)

    server = scripted.start(script)
    ranges = [(0, 1), (200, None)] + [(10 + n, 11 + n) for n in range(20)]
    with Client(server.url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(RangeNotSatisfiable, match=r"\[200:\]"):
            session.get_ranges("k", ranges, max_concurrency=2)
    assert len(server.requests) <= 4


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        pytest.param([], "must not be empty", id="empty"),
        pytest.param([(0, 10), (5, 20)], "overlap", id="overlap"),
        pytest.param([(10, None), (20, 30)], "overlap", id="open-overlap"),
        pytest.param([(-5, None), (-10, None)], "overlap", id="two-suffixes"),
        pytest.param([(10, 5)], "reversed", id="reversed"),
        pytest.param([(10, 10)], "reversed or empty", id="empty-range"),
        pytest.param([(-5, 10)], "suffix", id="suffix-with-end"),
    ],
)
def test_get_ranges_bad_input_before_any_request(dead_url, ranges, message):
    with Client(dead_url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument, match=message):
            session.get_ranges("k", ranges)


# --- interrupted downloads ---------------------------------------------------------------------


@dataclass
class Cut:
    """A GET the proxy forwarded: the Range asked for, and the body bytes it passed on."""

    range: str | None
    status: int
    forwarded: int = 0


@dataclass
class InterruptingProxy:
    """A loopback HTTP proxy that cuts the first `cuts` GET bodies after `after` bytes."""

    upstream: str
    cuts: int
    after: int
    seen: list[Cut] = field(default_factory=list)

    def start(self) -> str:
        proxy = self
        host, port = self.upstream.removeprefix("http://").split(":")

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                headers = self.forwarded_headers()
                status, answer, body = fetch(host, int(port), self.path, headers)
                cut = Cut(self.headers.get("Range"), status)
                cutting = status in (200, 206) and len(proxy.seen) < proxy.cuts
                proxy.seen.append(cut)
                send_head(self, status, answer, len(body))
                sent = body[: proxy.after] if cutting else body
                self.wfile.write(sent)
                cut.forwarded = len(sent)
                if cutting:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize("compression", ["none", "zstd"])
def test_download_resumes_twice_without_fetching_a_byte_twice(
    objectstore_server, objectstore_usecase, tmp_path, compression
):
    data = os.urandom(2 * MIB) + b"compressible " * 200_000
    with Client(objectstore_server.url) as plain:
        direct = plain.session(Usecase(objectstore_usecase), org=7)
        direct.put(data, key="cut", compression=compression)
        stored = len(direct.get("cut", decompress=False).payload.read())
    proxy = InterruptingProxy(objectstore_server.url, cuts=2, after=300_000)
    url = proxy.start()
    try:
        with Client(url, retries=0) as client:
            session = client.session(Usecase(objectstore_usecase), org=7)
            # One stream: no parallel ranges, so every request follows the previous one.
            config = TransferConfig(threshold=1 << 40, part_size=8 * MIB)
            session.download_file("cut", tmp_path / "out", config=config)
    finally:
        proxy.close()
    assert hashlib.sha256((tmp_path / "out").read_bytes()).digest() == hashlib.sha256(data).digest()
    assert [cut.status for cut in proxy.seen] == [206] * len(proxy.seen)
    # Each request starts exactly where the bytes received so far end.
    position = 0
    for cut in proxy.seen:
        assert cut.range is not None
        assert cut.range.startswith(f"bytes={position}-")
        position += cut.forwarded
    assert position == stored
    assert sum(cut.forwarded for cut in proxy.seen) == stored
    assert len([cut for cut in proxy.seen if cut.forwarded == 300_000]) >= 2


# --- upload_file -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "compression"),
    [
        pytest.param(SMALL_PARTS, None, id="multipart-zstd"),
        pytest.param(SMALL_PARTS, "none", id="multipart-none"),
        pytest.param(TransferConfig(threshold=0, protocol="resumable"), None, id="resumable"),
        pytest.param(TransferConfig(), None, id="below-threshold"),
    ],
)
def test_upload_file_round_trip(session, tmp_path, random_12m, config, compression):
    data = random_12m[: 6 * MIB] + b"repetitive " * MIB
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    reports: list[tuple[Progress, int]] = []
    key = session.upload_file(
        source,
        "up/file",
        config=config,
        compression=compression,
        content_type="application/x-test",
        metadata={"m": "v"},
        progress=lambda p: reports.append((p, threading.get_ident())),
    )
    assert key == "up/file"
    with session.get(key) as got:
        assert got.payload.read() == data
    metadata = session.head(key)
    assert metadata.content_type == "application/x-test"
    assert metadata.custom == {"m": "v"}
    assert metadata.compression == (None if compression == "none" else "zstd")
    assert reports[-1][0] == Progress(len(data), len(data))
    assert {ident for _, ident in reports} == {threading.get_ident()}
    session.download_file(key, tmp_path / "out.bin", config=SMALL_PARTS)
    assert (tmp_path / "out.bin").read_bytes() == data


@pytest.mark.parametrize("compression", [None, "none"])
def test_upload_file_reuses_a_worker_buffer_without_mixing_parts(session, tmp_path, compression):
    # One worker sends every part from the same buffer: each part has its own bytes, and
    # the last, shorter one must not carry the tail of the part before it.
    parts = [os.urandom(MIN_PART_SIZE), b"log line\n" * (MIN_PART_SIZE // 9 + 1), b"end"]
    parts[1] = parts[1][:MIN_PART_SIZE]
    data = b"".join([*parts, os.urandom(MIN_PART_SIZE - 5)])
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=1)
    session.upload_file(source, "reused", config=config, compression=compression)
    with session.get("reused") as got:
        assert hashlib.sha256(got.payload.read()).digest() == hashlib.sha256(data).digest()
    stored = session.get("reused", decompress=False).payload.read()
    if compression is None:
        # One frame per FRAME_SIZE of the file, in the file's order.
        decoded = [size for size, _ in _frame_sizes(stored)]
        whole, rest = divmod(len(data), FRAME_SIZE)
        assert decoded == [FRAME_SIZE] * whole + [rest]
    else:
        assert stored == data


def _frame_sizes(stored: bytes) -> list[tuple[int, int]]:
    """(decoded, stored) bytes of each zstd frame of `stored`."""
    sizes = []
    while stored:
        decoder = zstandard.ZstdDecompressor().decompressobj()
        decoded = len(decoder.decompress(stored))
        sizes.append((decoded, len(stored) - len(decoder.unused_data)))
        stored = decoder.unused_data
    return sizes


def _multipart_server(scripted, key: str = "k", failing_part: int | None = None):
    """A server that takes a multipart upload of `key` (its requests record the parts).

    Part `failing_part`, if given, is refused with a 500 ("disk full").
    """

    def script(request, index):
        if "objects:multipart:parts" in request.path:
            number = int(request.path.rsplit("part_number=", 1)[1])
            if number == failing_part:
                return scripted.json_reply(500, '{"detail": "disk full"}')
            return scripted.json_reply(200, f'{{"etag": "e{number}"}}')
        if "objects:multipart:complete" in request.path:
            return scripted.json_reply(200, f'{{"key": "{key}"}}')
        if request.method == "DELETE":
            return scripted.Reply(204)
        return scripted.json_reply(200, f'{{"key": "{key}", "upload_id": "u1"}}')

    return scripted.start(script)


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_compressed_parts_hold_a_parts_size_of_stored_bytes(scripted, tmp_path, max_concurrency):
    # Servers may refuse parts below MIN_PART_SIZE but the last (protocol §11.2, GCS), and
    # the stored bytes of a compressed part are its compressed bytes: these log lines
    # compress about 15 times, so a part of 5 MiB of the file would store about 0.35 MiB.
    lines = b"".join(b"%d log line of the service\n" % n for n in range(1_000_000))
    data = os.urandom(4 * MIB) + lines + os.urandom(3 * MIB) + lines[: 7 * MIB]
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    server = _multipart_server(scripted, "stored-size")
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=max_concurrency)
    reports: list[Progress] = []
    with Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        session.upload_file(source, "stored-size", config=config, progress=reports.append)
    parts = {
        int(r.path.rsplit("part_number=", 1)[1]): r.body
        for r in server.requests
        if "objects:multipart:parts" in r.path
    }
    assert sorted(parts) == list(range(1, len(parts) + 1))
    bodies = [parts[number] for number in sorted(parts)]
    assert len(bodies) >= 2
    for body in bodies[:-1]:
        # Cut after the frame that brought it to a part's size.
        last_frame = _frame_sizes(body)[-1][1]
        assert MIN_PART_SIZE <= len(body) < MIN_PART_SIZE + last_frame
    assert len(bodies[-1]) > 0
    for body in bodies:
        # Every part is whole frames (decoding it alone uses all of its bytes) of at most
        # FRAME_SIZE file bytes each.
        assert sum(stored for _, stored in _frame_sizes(body)) == len(body)
        assert all(decoded <= FRAME_SIZE for decoded, _ in _frame_sizes(body))
    reader = zstandard.ZstdDecompressor().stream_reader(b"".join(bodies), read_across_frames=True)
    assert reader.read() == data
    assert reports[-1] == Progress(len(data), len(data))
    assert [p.bytes_done for p in reports] == sorted(p.bytes_done for p in reports)


def _failed_upload(server, source, error, match=None, **options):
    """Runs an `upload_file` that raises `error`; the (method, endpoint) of each request."""
    with Client(server.url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(error, match=match):
            session.upload_file(source, "k", **options)
    # No compression thread outlives the upload: the file is closed right after it.
    assert not [t for t in threading.enumerate() if t.name.startswith("objectstore-zstd")]
    return [(r.method, r.path.split("/")[2]) for r in server.requests]


@pytest.mark.parametrize("compression", [None, "none"])
@pytest.mark.parametrize("failure", ["file shrinks", "interrupt"])
def test_a_failure_during_the_upload_aborts_it(scripted, tmp_path, compression, failure):
    # Both happen on the caller's thread after the first part was sent; with one worker
    # the frames or parts after it are still to be read.
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(6 * MIN_PART_SIZE))
    server = _multipart_server(scripted)

    def fail(progress: Progress) -> None:
        if failure == "interrupt":
            raise KeyboardInterrupt
        os.truncate(source, MIN_PART_SIZE * 2 + 1)

    error, match = (
        (KeyboardInterrupt, None) if failure == "interrupt" else (InvalidArgument, "shrank")
    )
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=1)
    options = {"config": config, "compression": compression, "progress": fail}
    methods = _failed_upload(server, source, error, match, **options)
    assert methods[-1] == ("DELETE", "objects:multipart")
    assert not any("complete" in path for _, path in methods)


@pytest.mark.parametrize("compression", [None, "none"])
def test_a_failure_before_the_first_part_aborts_the_upload(
    scripted, tmp_path, monkeypatch, compression
):
    # The part buffers could not be allocated: the upload initiated is aborted all the same.
    def no_memory(self):
        raise MemoryError

    monkeypatch.setattr(_file_parts.FileParts, "buffer", no_memory)
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(2 * MIN_PART_SIZE))
    server = _multipart_server(scripted)
    methods = _failed_upload(
        server, source, MemoryError, config=SMALL_PARTS, compression=compression
    )
    assert methods == [("PUT", "objects:multipart"), ("DELETE", "objects:multipart")]


def test_an_interrupt_while_compression_starts_stops_it_and_aborts(scripted, tmp_path, monkeypatch):
    submit = _file_parts.FileParts._submit_frame
    calls = []

    def interrupted(self):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        submit(self)

    monkeypatch.setattr(_file_parts.FileParts, "_submit_frame", interrupted)
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(2 * MIN_PART_SIZE))
    server = _multipart_server(scripted)
    # The frame submitted before the interrupt is compressed, or dropped, before the
    # upload returns.
    methods = _failed_upload(server, source, KeyboardInterrupt, config=SMALL_PARTS)
    assert methods == [("PUT", "objects:multipart"), ("DELETE", "objects:multipart")]


def test_compression_threads_are_at_most_one_per_usable_cpu(session, tmp_path, monkeypatch):
    monkeypatch.setattr(_file_parts, "_usable_cpus", lambda: 1)
    data = os.urandom(3 * MIN_PART_SIZE)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    seen: list[int] = []

    def count(progress: Progress) -> None:
        names = [t.name for t in threading.enumerate()]
        seen.append(sum(name.startswith("objectstore-zstd") for name in names))

    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=4)
    session.upload_file(source, "capped", config=config, progress=count)
    assert seen
    assert max(seen) == 1
    assert session.get("capped").payload.read() == data


def test_upload_file_without_key_gets_a_client_chosen_key(session, tmp_path, monkeypatch):
    # The server would choose a UUIDv4 too: name the client's choice to tell them apart.
    chosen = iter(["client-chosen-1", "client-chosen-2"])
    monkeypatch.setattr(objects, "new_key", lambda: next(chosen))
    (tmp_path / "empty").write_bytes(b"")
    key = session.upload_file(tmp_path / "empty", config=SMALL_PARTS)
    assert key == "client-chosen-1"
    assert session.get(key).payload.read() == b""
    # Multipart too: no object ever waits under a key the caller could miss.
    (tmp_path / "big").write_bytes(os.urandom(2 * MIN_PART_SIZE + 1))
    assert session.upload_file(tmp_path / "big", config=SMALL_PARTS) == "client-chosen-2"


def test_upload_file_bad_input_before_any_request(dead_url, tmp_path):
    with Client(dead_url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument, match="not an existing file"):
            session.upload_file(tmp_path / "missing", "k")
        with pytest.raises(InvalidArgument, match="not an existing file"):
            session.upload_file(tmp_path, "k")
        (tmp_path / "f").write_bytes(b"x")
        with pytest.raises(InvalidArgument, match="key"):
            session.upload_file(tmp_path / "f", "a//b")
        with pytest.raises(InvalidArgumentType):
            session.upload_file(3, "k")  # type: ignore[arg-type]


def test_a_failed_part_aborts_the_upload(scripted, tmp_path):
    server = _multipart_server(scripted, failing_part=2)
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(3 * MIN_PART_SIZE))
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE, max_concurrency=1)
    methods = _failed_upload(server, source, ServerError, "disk full", config=config)
    assert ("DELETE", "objects:multipart") in methods
    assert not any("complete" in path for _, path in methods)
    assert methods[-1][0] == "DELETE"


def test_parallel_ranges_resume_each_part(objectstore_server, objectstore_usecase, tmp_path):
    data = os.urandom(12 * MIB + 777)
    with Client(objectstore_server.url) as plain:
        plain.session(Usecase(objectstore_usecase), org=8).put(data, key="cut", compression="none")
    proxy = InterruptingProxy(objectstore_server.url, cuts=2, after=1_000_000)
    url = proxy.start()
    try:
        with Client(url, retries=0) as client:
            session = client.session(Usecase(objectstore_usecase), org=8)
            session.download_file("cut", tmp_path / "out", config=SMALL_PARTS)
    finally:
        proxy.close()
    assert (tmp_path / "out").read_bytes() == data
    assert [cut.forwarded for cut in proxy.seen].count(1_000_000) >= 2
    # Parts and their resumptions cover the object exactly once.
    assert sum(cut.forwarded for cut in proxy.seen) == len(data)
    starts = sorted(int(cut.range.split("=")[1].split("-")[0]) for cut in proxy.seen if cut.range)
    assert len(starts) == len(set(starts))


def test_transfer_settings_are_checked_before_any_request_or_file(dead_url, tmp_path):
    session = Client(dead_url).session(Usecase("u"), org=1)
    with pytest.raises(InvalidArgument, match="max_concurrency"):
        session.get_ranges("k", [(0, 1)], max_concurrency=0)
    with pytest.raises(InvalidArgumentType, match="config"):
        session.download_file("k", tmp_path / "out", config={"part_size": 1})  # type: ignore[arg-type]
    source = tmp_path / "in"
    source.write_bytes(b"x")
    with pytest.raises(InvalidArgumentType, match="config"):
        session.upload_file(source, key="k", config={"part_size": 1})  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
