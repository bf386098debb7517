"""Connection-level limits of the local server: the connection cap, deadlines, accept back-off.

docs/protocol.md states only the in-flight request limit (`http.max_requests`, protocol
§1, §14). It is silent on connection counts, header and keep-alive deadlines, so the values
here are our conservative choices, each explained where it is defined. They keep one server
process serving well-behaved clients when others open too many connections, send their
request heads slowly, or when the process runs out of file descriptors.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from email.utils import formatdate

logger = logging.getLogger(__name__)

# A legitimate client sends its request head in one go; one that takes longer than this is
# cut off so it cannot hold a connection slot. (hyper's own header-read timeout defaults to
# 30 s when the server configures a timer; docs/protocol.md does not say whether the server does, so
# we choose a shorter deadline that no real client comes near.)
DEFAULT_HEADER_TIMEOUT = 10.0
# Idle keep-alive connections are closed after this long. docs/protocol.md does not state the real
# server's value; any HTTP/1.1 server may close an idle connection, and clients' pools
# reconnect. 30 s is long enough for every reuse pattern in a test and short enough that idle
# pools do not hold connection slots.
DEFAULT_KEEPALIVE_TIMEOUT = 30.0
# Every single socket operation inside a request (a body read, a response write) waits at
# most this long: a stalled peer releases its thread eventually, a slow link still works.
IO_TIMEOUT = 120.0

# accept() errors that mean "out of resources right now": retrying at once would spin.
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_BACKOFF_FIRST = 0.005
_BACKOFF_MAX = 0.25

# A rejected connection gets this long to finish sending its request and close its side; a
# client that has read the 503 closes at once, so this only bounds the slow ones. (1 s was
# too short for a loaded client machine: the reset then broke its still unsent request.)
_REJECT_LINGER = 5.0
# At most this many rejected connections linger at once (each holds a descriptor); while
# that many do, the accept loop leaves new connections in the listen backlog.
_REJECT_MAX_PENDING = 64

# After a response to an unread large body, how long to discard what the client still sends.
LINGER_SECONDS = 2.0

_REJECTION = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "content-length: 0\r\n"
    "connection: close\r\n"
    "date: {date}\r\n\r\n"
)


def default_max_connections() -> int:
    """The default connection cap: half the free file descriptors, at most 1024.

    A connection needs one descriptor for its socket and, while a request runs, one for the
    object file it reads or writes: with half the descriptors as the cap, requests never run
    out of them, and connections beyond the cap get a clean 503 instead of an `accept()`
    failure.
    """
    try:
        import resource
    except ImportError:  # not on Windows
        return 1024
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1024
    # Reserve some descriptors for the interpreter, the listening socket and the rejector.
    return max(8, min(1024, (soft - 32) // 2))


def linger(conn: socket.socket) -> None:
    """Stops writing, then discards what the peer still sends for up to `LINGER_SECONDS`.

    Closing with unread bytes in the receive buffer makes the kernel send a reset, and the
    client may lose the response it has not read yet.
    """
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            conn.settimeout(left)  # each wait ends at the deadline, not a full period later
            if not conn.recv(65536):
                break


class AcceptBackoff:
    """Decides what to do when `accept()` fails, so that a persistent failure never spins.

    Out of descriptors (EMFILE and kin), the listening socket stays readable, so an
    immediate retry fails again at once: the accept loop waits instead, doubling the wait
    up to 250 ms, and wakes early when one of our connections closes. Existing connections
    are served by their own threads meanwhile.
    """

    def __init__(self) -> None:
        self._delay = 0.0
        self._freed = threading.Condition()
        self._warned = 0.0

    def succeeded(self) -> None:
        """Records an accepted connection: the next failure starts with a short wait."""
        self._delay = 0.0

    def failed(self, error: OSError, stopping: threading.Event) -> None:
        """Waits after a failed `accept()` (briefly even for unknown errors)."""
        if error.errno in _RESOURCE_ERRORS:
            self._delay = min(_BACKOFF_MAX, max(_BACKOFF_FIRST, self._delay * 2))
            now = time.monotonic()
            if now - self._warned > 10:
                self._warned = now
                logger.warning("accept() failed (%s); backing off", error)
        else:
            # ECONNABORTED and the like concern one connection only, but an unknown error
            # might repeat: a tiny pause bounds the loop either way.
            self._delay = _BACKOFF_FIRST / 5
        if stopping.is_set():
            return
        with self._freed:
            self._freed.wait(self._delay)

    def connection_closed(self) -> None:
        """Wakes a waiting accept loop: a descriptor was just released."""
        with self._freed:
            self._freed.notify_all()

    def wait_for_room(self, stopping: threading.Event) -> None:
        """Waits (at most 100 ms) for a connection to close, when there is no room to accept."""
        if not stopping.is_set():
            with self._freed:
                self._freed.wait(0.1)


class Rejector:
    """Answers connections beyond the cap with a clean 503 and closes them gracefully.

    Closing a socket whose request is still unread makes the kernel send a reset, which can
    destroy the 503 before the client reads it. So the 503 is written, the sending side shut
    down, and whatever the client still sends is discarded until it closes or
    `_REJECT_LINGER` passes: one selector thread does this for every rejected connection.
    `released` is called whenever one of them is closed.
    """

    def __init__(self, released: Callable[[], None]) -> None:
        self._released = released
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._pending: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="objectstore-reject", daemon=True)
        self._thread.start()

    @property
    def full(self) -> bool:
        """Whether as many rejected connections linger as allowed."""
        with self._lock:
            return len(self._pending) >= _REJECT_MAX_PENDING

    def reject(self, conn: socket.socket) -> None:
        """Sends the 503 on `conn` and takes ownership of it."""
        try:
            conn.setblocking(False)
            # A fresh socket's send buffer is empty, so this short write completes at once.
            conn.send(_REJECTION.format(date=formatdate(usegmt=True)).encode("ascii"))
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        with self._lock:
            if self._stopping:
                conn.close()
                return
            if len(self._pending) >= _REJECT_MAX_PENDING:
                # Only if the caller ignored `full`: the oldest goes, maybe with a reset.
                self._drop(next(iter(self._pending)))
            self._pending[conn] = time.monotonic() + _REJECT_LINGER
            self._selector.register(conn, selectors.EVENT_READ)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _drop(self, conn: socket.socket) -> None:
        # Called with the lock held.
        self._pending.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        conn.close()
        self._released()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                deadlines = list(self._pending.values())
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            events = self._selector.select(timeout)
            with self._lock:
                for key, _ in events:
                    sock = key.fileobj
                    if sock is self._wake_r:
                        with contextlib.suppress(OSError):
                            while self._wake_r.recv(4096):
                                pass
                        continue
                    assert isinstance(sock, socket.socket)
                    try:
                        data = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(sock)
                now = time.monotonic()
                for sock, deadline in list(self._pending.items()):
                    if deadline <= now:
                        self._drop(sock)

    def stop(self) -> None:
        """Closes every lingering connection and ends the thread."""
        with self._lock:
            self._stopping = True
            for sock in list(self._pending):
                self._drop(sock)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(2)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
