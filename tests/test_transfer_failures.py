"""The transfer manager when things go wrong: files that change, callbacks that raise."""

from __future__ import annotations

import json
import os

import pytest

from objectstore_client import Client, InvalidArgument, InvalidArgumentType, ObjectNotFound, Usecase
from objectstore_client.progress import Progress
from objectstore_client.transfers import TransferConfig


def test_put_of_chunks_with_a_none_chunk_raises_rather_than_store_a_prefix(session):
    # A chunk that is not bytes-like raises (ChunkReader's docstring); None was taken for
    # the end of the iterator, and the chunks before it stored as the whole object.
    with pytest.raises(InvalidArgumentType, match="chunks must be bytes"):
        session.put(iter([b"first ", None, b"second"]), key="chunks/none")
    with pytest.raises(ObjectNotFound):
        session.get("chunks/none")


def _created(scripted, key="k"):
    body = json.dumps({"key": key, "session": "c2Vzc2lvbg", "granularity": 0}).encode()
    return scripted.Reply(200, {"Content-Type": "application/json"}, body)


@pytest.mark.parametrize("compression", [None, "none"])
def test_a_file_changed_during_a_resumable_upload_cancels_the_session(
    scripted, tmp_path, compression
):
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(1_000_000))

    def script(request, index):
        if "upload_type=resumable" in request.path:
            os.truncate(source, 500_000)  # after the client measured the file
            return _created(scripted)
        if request.method == "DELETE":
            return scripted.Reply(204)
        return scripted.Reply(204, {"Upload-Offset": "0"})

    server = scripted.start(script)
    config = TransferConfig(threshold=0, protocol="resumable")
    with Client(server.url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument):
            session.upload_file(source, "k", config=config, compression=compression)
    methods = [(r.method, "session=" in r.path) for r in server.requests]
    assert ("DELETE", True) in methods, methods


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(None, id="below-threshold"),
        pytest.param(TransferConfig(threshold=0, protocol="resumable"), id="resumable"),
    ],
)
def test_upload_file_progress_raising_at_the_end_stores_nothing(session, tmp_path, config):
    # progress.py: "An exception it raises propagates out of the operation, aborting it."
    # It was called once the object was stored: the caller got the callback's error, and
    # the object (under a key it never received, without `key`) stayed.
    source = tmp_path / "small.bin"
    source.write_bytes(os.urandom(300_000))

    def fail(progress):
        if progress.bytes_done == progress.bytes_total:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        session.upload_file(source, "uf/progress", config=config, progress=fail)
    with pytest.raises(ObjectNotFound):
        session.get("uf/progress")


@pytest.mark.xfail(
    strict=True,
    reason="the protocol has no ETag: a same-size replacement within the creation second "
    "cannot be told apart (documented in download_file now)",
)
def test_a_download_resumed_after_the_object_was_replaced_in_the_same_second(tmp_path):
    # download_file's docstring: "if the object is replaced meanwhile, the download fails
    # with ProtocolError rather than mix two versions". Resumption compares the stored
    # size, the encoding and `x-sn-time-created`, which the server stamps in whole seconds
    # (protocol §5.5): a replacement of the same size within the same second passes, and
    # the file is the first version's start spliced to the second's rest. (The clock is
    # fixed only to make "the same second" certain.)
    import http.server
    import threading
    from datetime import UTC, datetime

    from objectstore_client import ProtocolError
    from objectstore_client.testing import LocalServer
    from tests._proxy import QuietHandler, fetch, send_head

    first, second = os.urandom(2_000_000), os.urandom(2_000_000)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with LocalServer(storage="memory", clock=lambda: now) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with Client(server.url) as direct_client:
            direct = direct_client.session(Usecase("u"), org=1)
            direct.put(first, key="v", compression="none")
            gets: list[str | None] = []

            class Handler(QuietHandler):
                def do_GET(self) -> None:
                    gets.append(self.headers.get("Range"))
                    if len(gets) == 2:  # the resumption: the object was replaced meanwhile
                        direct.put(second, key="v", compression="none")
                    status, answer, body = fetch(
                        host, int(port), self.path, self.forwarded_headers()
                    )
                    send_head(self, status, answer, len(body))
                    if len(gets) == 1:
                        self.wfile.write(body[:300_000])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                    else:
                        self.wfile.write(body)

            proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            proxy.daemon_threads = True
            threading.Thread(target=proxy.serve_forever, daemon=True).start()
            try:
                with Client(f"http://127.0.0.1:{proxy.server_address[1]}", retries=0) as client:
                    session = client.session(Usecase("u"), org=1)
                    config = TransferConfig(threshold=1 << 40, part_size=8 * 1024 * 1024)
                    target = tmp_path / "out"
                    try:
                        session.download_file("v", target, config=config)
                    except ProtocolError:
                        return
            finally:
                proxy.shutdown()
                proxy.server_close()
    written = target.read_bytes()
    assert gets == ["bytes=0-8388607", "bytes=300000-1999999"]
    assert written == first[:300_000] + second[300_000:]  # two versions, spliced
    pytest.fail("the download spliced two versions of the object without an error")


@pytest.mark.parametrize("compression", [None, "none"])
def test_a_file_that_shrinks_during_a_single_request_upload_is_not_stored(
    session, tmp_path, compression
):
    # A multipart upload raises InvalidArgument("the file shrank"); the single request
    # below the threshold read a compressed file to its (new) end and stored the bytes it
    # had got as the whole object, returning its key.
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(3_000_000))

    def shrink(progress):
        os.truncate(source, 100)

    with pytest.raises(InvalidArgument, match="shrank"):
        session.upload_file(source, "uf/shrinks", compression=compression, progress=shrink)
    with pytest.raises(ObjectNotFound):
        session.get("uf/shrinks")


def test_put_of_one_large_chunk_reads_it_in_linear_time(session):
    # ChunkReader kept the rest of a chunk as bytes and sliced it on every 64 KiB read:
    # each read copied the whole remainder, so a chunk of n bytes cost n**2 / 128 KiB of
    # copying (a 64 MiB chunk took about 18 s here, 96 MiB about a minute).
    import time

    chunk = bytes(96 * 1024 * 1024)
    started = time.monotonic()
    session.put(iter([chunk]), key="chunks/large", compression="none")
    elapsed = time.monotonic() - started
    assert session.head("chunks/large").size == len(chunk)
    assert elapsed < 10, f"{elapsed:.1f} s"


def _connections_to(port: int) -> int:
    """Established TCP connections of this process to `port` on loopback (Linux)."""
    count = 0
    with open("/proc/self/net/tcp") as table:
        for line in table.read().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":
                count += 1
    return count


@pytest.mark.skipif(not os.path.exists("/proc/self/net/tcp"), reason="Linux only")
@pytest.mark.parametrize("compression", ["none", "zstd"])
def test_a_failed_download_holds_no_connection(objectstore_server, tmp_path, compression):
    # The answer being read when a download failed (here a progress callback raised) was
    # left unread and open, its connection held for as long as the error was referenced.
    port = int(objectstore_server.url.rsplit(":", 1)[1])
    with Client(objectstore_server.url) as client:
        session = client.session(Usecase("leak"), org=1)
        session.put(os.urandom(12 * 1024 * 1024), key="leak", compression=compression)
        before = _connections_to(port)

        def fail(progress):
            raise RuntimeError("stop")

        errors = []
        for _ in range(3):
            with pytest.raises(RuntimeError) as caught:
                session.download_file("leak", tmp_path / "out", progress=fail)
            errors.append(caught.value)  # a caller keeping the error (logging, a list)
        assert _connections_to(port) <= before
        assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
@pytest.mark.parametrize("compression", [None, "none"])
def test_upload_file_of_a_file_that_reports_size_0_stores_its_content(session, compression):
    # procfs and sysfs files report a size of 0 and have content. Cut at the size measured
    # at the start, such a file was stored empty, and upload_file returned its key.
    with open("/proc/self/status", "rb") as status:
        expected = status.read()
    reports: list[Progress] = []
    key = session.upload_file(
        "/proc/self/status", "uf/proc", compression=compression, progress=reports.append
    )
    stored = session.get(key).payload.read()
    assert b"Name:" in stored
    assert len(stored) > len(expected) // 2
    assert reports
    assert reports[-1].bytes_done == len(stored)
