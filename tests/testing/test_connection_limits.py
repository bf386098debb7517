"""Connection limits of the local server (issue 8 item 5): cap with 503, deadlines, EMFILE.

Real sockets on loopback; every wait is bounded, so a regression fails instead of hanging.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress

import pytest

from objectstore_client.testing import LocalServer

HEALTH = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"


def _connect(server_port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server_port), timeout=timeout)


def _read_response(sock: socket.socket) -> bytes:
    """Reads one small response (head and a content-length body) from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            while len(body) < int(value):
                piece = sock.recv(4096)
                if not piece:
                    break
                body += piece
    return head + b"\r\n\r\n" + body


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closes `sock` (EOF or reset), or None if it stays open."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


# -- connection cap -------------------------------------------------------------------------


def test_connections_beyond_the_cap_get_a_clean_503() -> None:
    with LocalServer(storage="memory", max_connections=2) as server, ExitStack() as stack:
        held = [stack.enter_context(_connect(server.port)) for _ in range(2)]
        time.sleep(0.2)  # both accepted and counted
        extra = stack.enter_context(_connect(server.port))
        extra.sendall(HEALTH)
        reply = _read_response(extra)
        assert reply.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), reply
        assert b"\r\nconnection: close\r\n" in reply
        assert b"\r\ncontent-length: 0\r\n" in reply
        assert _closed_within(extra, 3) is not None, "a rejected connection must be closed"
        # The connections within the cap are still served.
        held[0].sendall(HEALTH)
        assert _read_response(held[0]).startswith(b"HTTP/1.1 200 OK\r\n")
        # A freed slot is available again.
        held[1].close()
        deadline = time.monotonic() + 5
        while True:
            with _connect(server.port) as again:
                again.sendall(HEALTH)
                reply = _read_response(again)
            if reply.startswith(b"HTTP/1.1 200 ") or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # the server notices the close asynchronously
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply


def test_rejections_are_bounded_and_later_connections_wait_in_the_backlog() -> None:
    """At most 64 rejected connections linger; beyond, new ones wait to be accepted."""
    with LocalServer(storage="memory", max_connections=1) as server, ExitStack() as stack:
        stack.enter_context(_connect(server.port))  # takes the only slot
        time.sleep(0.2)
        rejected = [stack.enter_context(_connect(server.port)) for _ in range(64)]
        for conn in rejected:
            assert _read_response(conn).startswith(b"HTTP/1.1 503 "), "rejected at once"
        waiting = stack.enter_context(_connect(server.port))
        waiting.settimeout(0.5)
        with pytest.raises(TimeoutError):
            waiting.recv(1)  # neither served nor rejected: still in the listen backlog
        for conn in rejected:  # clients that read their 503 close; that frees the room
            conn.close()
        waiting.settimeout(5)
        assert _read_response(waiting).startswith(b"HTTP/1.1 503 ")


def test_default_cap_follows_the_descriptor_limit() -> None:
    resource = pytest.importorskip("resource")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    with LocalServer(storage="memory") as server:
        cap = server.max_connections
    assert 8 <= cap <= 1024
    if soft != resource.RLIM_INFINITY:
        # Two descriptors per connection (socket, object file) plus a reserve fit the limit.
        assert cap * 2 + 32 <= max(soft, 48)


# -- header deadline ------------------------------------------------------------------------


def test_slow_request_head_is_cut_off_at_the_deadline() -> None:
    with LocalServer(storage="memory", header_timeout=0.6) as server:
        with _connect(server.port) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\n")
            start = time.monotonic()
            closed = None
            # One header line every 0.2 s: each read is quick, the whole head is not.
            for i in range(40):
                try:
                    slow.sendall(b"x-slow-%d: y\r\n" % i)
                except OSError:
                    closed = time.monotonic() - start
                    break
                time.sleep(0.2)
                slow.settimeout(0.01)
                try:
                    if slow.recv(1) == b"":
                        closed = time.monotonic() - start
                        break
                except TimeoutError:
                    pass
                except ConnectionResetError:
                    closed = time.monotonic() - start
                    break
            assert closed is not None, "a trickled head must not keep the connection open"
            assert 0.3 < closed < 3, closed
        # Other clients are unaffected.
        with _connect(server.port) as fine:
            fine.sendall(HEALTH)
            assert _read_response(fine).startswith(b"HTTP/1.1 200 OK\r\n")


def test_silent_connection_is_closed_at_the_header_deadline() -> None:
    with LocalServer(storage="memory", header_timeout=0.5) as server:
        with _connect(server.port) as silent:
            waited = _closed_within(silent, 5)
        assert waited is not None
        assert waited < 3, waited


def test_deadline_applies_to_each_request_of_a_keep_alive_connection() -> None:
    with LocalServer(storage="memory", header_timeout=0.5, keepalive_timeout=5) as server:
        with _connect(server.port) as conn:
            conn.sendall(HEALTH)
            assert _read_response(conn).startswith(b"HTTP/1.1 200 OK\r\n")
            time.sleep(0.7)  # idle longer than the header deadline, shorter than keep-alive
            conn.sendall(b"GET /health HTTP/1.1\r\n")  # the second head never completes
            waited = _closed_within(conn, 5)
        assert waited is not None
        assert waited < 3, waited


# -- keep-alive idle timeout ----------------------------------------------------------------


def test_idle_keep_alive_connection_is_closed() -> None:
    with LocalServer(storage="memory", keepalive_timeout=0.5) as server:
        with _connect(server.port) as conn:
            for _ in range(3):  # reuse within the timeout works
                conn.sendall(HEALTH)
                assert _read_response(conn).startswith(b"HTTP/1.1 200 OK\r\n")
                time.sleep(0.1)
            waited = _closed_within(conn, 5)
        assert waited is not None
        assert 0.2 < waited < 3, waited


def test_a_long_upload_is_not_cut_by_the_header_deadline() -> None:
    """The deadline covers the request head only: a body may take longer."""
    with LocalServer(storage="memory", header_timeout=0.4) as server, _connect(server.port) as c:
        c.sendall(b"PUT /v1/objects/u/_/slow HTTP/1.1\r\nhost: x\r\ncontent-length: 6\r\n\r\n")
        for piece in (b"ab", b"cd", b"ef"):
            time.sleep(0.3)
            c.sendall(piece)
        assert _read_response(c).startswith(b"HTTP/1.1 200 OK\r\n")


# -- out of file descriptors ----------------------------------------------------------------

_SERVER_SCRIPT = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
from objectstore_client.testing import LocalServer
server = LocalServer(storage="memory", max_connections=10_000, header_timeout=60).start()
print(server.port, flush=True)
time.sleep(120)
"""


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def fd_limited_server() -> Iterator[tuple[int, int]]:
    """A server process limited to 64 file descriptors, with no connection cap."""
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("needs /proc to measure the server's CPU time")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield proc.pid, port
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_out_of_descriptors_backs_off_and_keeps_serving(
    fd_limited_server: tuple[int, int],
) -> None:
    pid, port = fd_limited_server
    with ExitStack() as stack:
        first = stack.enter_context(_connect(port))
        first.sendall(HEALTH)
        assert _read_response(first).startswith(b"HTTP/1.1 200 OK\r\n")
        # More connections than the server has descriptors: the rest wait in the backlog.
        conns = [stack.enter_context(_connect(port)) for _ in range(90)]
        time.sleep(0.5)
        before = _cpu_seconds(pid)
        time.sleep(2.0)
        spent = _cpu_seconds(pid) - before
        # A loop retrying accept() at once would burn ~2 s of CPU here.
        assert spent < 0.4, f"server used {spent:.2f} s CPU in 2 s while out of descriptors"
        # An accepted connection is still served.
        first.sendall(HEALTH)
        assert _read_response(first).startswith(b"HTTP/1.1 200 OK\r\n")
        # Once descriptors are free again, waiting connections are accepted and served.
        for conn in conns[:60]:
            conn.close()
        late = conns[-1]
        late.settimeout(5)
        late.sendall(HEALTH)
        assert _read_response(late).startswith(b"HTTP/1.1 200 OK\r\n")


def test_a_refused_head_is_answered_whatever_the_client_still_sends() -> None:
    """A head refused before its body is read (here two disagreeing lengths) gets its 400.

    The server must not close with the client's body unread in its receive buffer: the
    kernel would then send a reset, which can discard the answer before the client reads
    it (it did in about one try in ten). It stops writing and drains instead.
    """
    head = b"PUT /v1/objects/u/org=1/k HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
    head += b"content-length: 6\r\n\r\n"
    with LocalServer() as server:
        for _ in range(20):
            with _connect(server.port) as sock:
                sock.sendall(head)
                with suppress(OSError):
                    sock.sendall(b"x" * (4 << 20))
                answer = b""
                while piece := sock.recv(65536):
                    answer += piece
                assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer[:80]
