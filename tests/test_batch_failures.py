"""`Session.many` / `iter_many` when things go wrong: aborts, odd answers, full buffers."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter

import pytest

from objectstore_client import Client, InvalidArgumentType, ProtocolError, Usecase
from objectstore_client.batch import Delete, Get, Head, Put
from objectstore_client.progress import Progress
from objectstore_client.testing import LocalServer
from tests._batch_helpers import receive_chunked_request, wait_for_batch_workers


def test_progress_never_reports_more_bytes_done_than_total(session):
    reports: list[Progress] = []
    results = session.many(
        [Put(b"a" * 10, key="p/small"), Put(io.BytesIO(b"x" * 1000), key="p/stream")],
        progress=reports.append,
    )
    results.error_for_failures()
    print([(r.bytes_done, r.bytes_total) for r in reports])
    assert reports
    for report in reports:
        assert report.bytes_total is None or report.bytes_done <= report.bytes_total
    # A file object's size is not known in advance: no total, and every byte counted.
    assert (reports[-1].bytes_done, reports[-1].bytes_total) == (1010, None)


def test_an_answer_that_is_not_multipart_does_not_keep_its_connection():
    """A 200 answer without a multipart boundary fails the batch; its connection must go.

    The server answers with a body the client never reads, then waits for the client to
    close the connection (or reuse it) while the caller still holds the results.
    """
    seen: list[bytes | str] = []
    answered = threading.Event()

    def serve(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            if receive_chunked_request(conn) is None:
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\nhello"
            )
            answered.set()
            conn.settimeout(2)
            try:
                seen.append(conn.recv(65536))  # b"" once the client closes it
            except TimeoutError:
                seen.append("still open")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, retries=0) as client:
            results = client.session(Usecase("u"), org=1).many([Head("a"), Head("b")])
            assert answered.wait(5)
            server.join(5)
            assert all(isinstance(r.error, ProtocolError) for r in results)
    print(seen)
    assert seen == [b""]


def _stored_files(server: LocalServer) -> int:
    assert server.data_dir is not None
    return sum(1 for path in server.data_dir.rglob("objects/*") if path.is_file())


def test_an_aborted_many_leaves_no_object_under_a_key_nobody_received():
    """A progress callback that raises aborts `many`: no key reaches the caller.

    Objects stored under keys the client chose must not stay behind, whether their puts
    went in batch requests or alone (over 1 MiB); the objects of puts whose key the caller
    gave stay, since the caller has their keys.
    """

    class Stop(Exception):
        pass

    def progress(report: Progress) -> None:
        raise Stop

    keyed = [Put(b"k", key=f"mine/{index}") for index in range(5)]
    large = [Put(os.urandom(1100 * 1024), compression="none") for _ in range(3)]
    operations = keyed + [Put(b"x") for _ in range(1500)] + large
    with LocalServer(storage="filesystem") as server, Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(Stop):
            session.many(operations, max_batches=1, progress=progress)
        wait_for_batch_workers()
        stored = _stored_files(server)
        mine = [session.head(f"mine/{index}") for index in range(5)]
    print(f"objects stored: {stored}")
    assert stored == 5
    assert all(metadata is not None for metadata in mine)


@pytest.mark.parametrize("key", [None, ""])
def test_closing_iter_many_early_leaves_no_object_under_a_key_nobody_received(key):
    """Puts without a key (`None`, or `""`: a new one is chosen, as `put` does).

    Before the fix the in-flight batch's objects all stayed; then, with `key=""`, 218 of
    300 (the cleanup looked for `key is None` only).
    """
    with LocalServer(storage="filesystem") as server, Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        results = session.iter_many([Put(b"x", key=key) for _ in range(300)], max_batches=1)
        received = {next(results).value}
        results.close()
        wait_for_batch_workers()
        stored = _stored_files(server)
    print(f"keys received: {len(received)}, objects stored: {stored}")
    assert stored <= len(received)


def test_gets_with_long_keys_do_not_deadlock_the_batch_request():
    """Megabytes of get parts after a big answer must not deadlock the request.

    The server answers gets while it still reads the request (protocol §10.2); this client
    reads the answer only once the request is sent. Gets whose request parts come to
    megabytes (long keys: the server has no key length limit, §2.5) after the first big
    answer fill both directions' socket buffers: each side waits for the other.
    """
    long_key = "m/" + "k" * 8000
    with (
        LocalServer(storage="memory") as server,
        Client(server.url, retries=0, timeout_ms=3000) as client,
    ):
        session = client.session(Usecase("u"), org=1)
        session.put(os.urandom(256 * 1024), key="big", compression="none")
        operations = [Get("big")] * 60 + [Get(long_key)] * 940
        started = time.monotonic()
        outcomes = Counter(
            type(result.error).__name__ if result.error else "ok"
            for result in session.iter_many(operations, max_batches=1)
        )
    print(dict(outcomes), f"{time.monotonic() - started:.1f} s")
    assert outcomes == {"ok": 60, "ObjectNotFound": 940}


@pytest.mark.parametrize("kind", ["put", "delete"])
def test_inserts_and_deletes_with_long_keys_do_not_deadlock_the_batch_request(kind):
    """Megabytes of insert or delete answers while the request is still sent must not deadlock.

    Each answer part carries the key: 1,000 keys of 8,000 characters answer 8 MB while
    the client, which reads only once the request is sent, still sends the rest.
    """
    with (
        LocalServer(storage="memory") as server,
        Client(server.url, retries=0, timeout_ms=3000) as client,
    ):
        session = client.session(Usecase("u"), org=1)
        keys = [f"{index}/" + "k" * 8000 for index in range(1000)]
        if kind == "put":
            operations: list[Put | Delete] = [Put(b"x" * 1024, key=key) for key in keys]
        else:
            operations = [Delete(key) for key in keys]
        started = time.monotonic()
        outcomes = Counter(
            type(result.error).__name__ if result.error else "ok"
            for result in session.iter_many(operations, max_batches=1)
        )
    print(dict(outcomes), f"{time.monotonic() - started:.1f} s")
    assert outcomes == {"ok": 1000}


def test_a_progress_that_is_not_callable_is_refused_before_any_request(dead_url):
    with Client(dead_url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        # Before the fix: the head was sent (a ConnectError result), then progress(...)
        # raised TypeError: 'int' object is not callable.
        with pytest.raises(InvalidArgumentType, match="progress"):
            session.many([Head("a")], progress=5)  # type: ignore[arg-type]


def test_many_aborted_after_some_results_leaves_no_object_under_a_key_nobody_received():
    """`many` returns no result when progress raises, even those it had gathered.

    Before the fix: the 19 results `many` had already collected were dropped with their
    objects left stored (19 objects under keys nobody received).
    """

    class Stop(Exception):
        pass

    def progress(report: Progress) -> None:
        if report.operations_done is not None and report.operations_done >= 20:
            raise Stop

    with LocalServer(storage="filesystem") as server, Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(Stop):
            session.many([Put(b"x") for _ in range(300)], max_batches=1, progress=progress)
        wait_for_batch_workers()
        stored = _stored_files(server)
    print(f"objects stored: {stored}")
    assert stored == 0


def test_closing_iter_many_early_does_not_keep_the_objects_still_arriving():
    """Closed early, the results of gets still arriving are dropped, not gathered.

    `close()` waits for the batch in flight (for the cleanup of keyless puts): before the
    fix every result it still read was kept until then, objects included (75 MiB here,
    up to a whole batch answer per request in flight), beyond the bound of iteration.
    """
    with LocalServer(storage="memory") as server, Client(server.url) as client:
        session = client.session(Usecase("u"), org=1)
        session.put(os.urandom(256 * 1024), key="big", compression="none")
        results = session.iter_many([Get("big")] * 300, max_batches=1)
        next(results)
        tracemalloc.start()
        try:
            results.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    print(f"peak while closing: {peak / 2**20:.1f} MiB")
    assert peak < 16 * 2**20


_ABANDONED_AT_EXIT = """
import logging, sys
logging.basicConfig(level=logging.WARNING)
from objectstore_client import Client, Usecase
from objectstore_client.batch import Put
session = Client(sys.argv[1]).session(Usecase("u"), org=1)
results = session.iter_many([Put(b"x") for _ in range(40)], max_batches=1)
print("received", next(results).value, flush=True)
"""


def test_iter_many_abandoned_at_interpreter_exit_names_the_keys_it_leaves():
    """An unclosed `iter_many` finalized at exit cannot delete: the keys must be logged.

    Thread pools refuse work once the interpreter shuts down, so the cleanup's `many`
    raised RuntimeError ("Exception ignored in: <generator ...>"), and the 39 objects
    stayed under keys neither received nor logged.
    """
    with LocalServer(storage="filesystem") as server:
        done = subprocess.run(
            [sys.executable, "-c", _ABANDONED_AT_EXIT, server.url],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        stored = _stored_files(server)
    print(done.stdout, done.stderr[-2000:])
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    received = set(re.findall(uuid, done.stdout))
    logged = set(re.findall(rf"key '({uuid})'", done.stderr))
    assert len(received) == 1
    assert stored <= len(received | logged)


@pytest.mark.xfail(
    strict=True,
    reason="pre-existing: at exit, concurrent.futures joins the pool threads before the "
    "unclosed generator is finalized, and a worker waits for room in the full queue until "
    "stop is set, which only the generator's finally does",
)
def test_iter_many_abandoned_at_interpreter_exit_with_a_full_queue_lets_the_process_end():
    script = _ABANDONED_AT_EXIT.replace("range(40)", "range(1500)")
    with LocalServer(storage="memory") as server:
        try:
            subprocess.run(
                [sys.executable, "-c", script, server.url],
                capture_output=True,
                timeout=10,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the process hung at exit (killed after 10 s)")
