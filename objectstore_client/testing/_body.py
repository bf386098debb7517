"""Request bodies: content-length delimited, chunked, `Expect: 100-continue` (protocol §1)."""

from __future__ import annotations

import io
import re
import socket
import time
from collections.abc import Callable, Iterator

_CHUNK = 64 * 1024
# A chunk size: up to 16 hex digits (2**64 - 1), nothing else.
_HEX_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
# A body of known length is iterated in pieces of up to this size, received straight into
# the buffer that is yielded (no intermediate copy: the storage keeps these buffers).
_LARGE = 1024 * 1024


class BodyError(Exception):
    """The request body is malformed (bad chunk framing) or the peer went away."""


class BodyReader:
    """Reads a request body: content-length delimited, chunked, or empty."""

    def __init__(
        self,
        rfile: SocketReader,
        length: int | None,
        chunked: bool,
        send_continue: Callable[[], None] | None,
    ) -> None:
        self._rfile = rfile
        self._remaining = length if length is not None else 0
        self._chunked = chunked
        self._chunk_left = 0
        self._done = not chunked and not self._remaining
        self._send_continue = send_continue
        self.content_length = length
        self.chunked = chunked
        self.bytes_read = 0

    @property
    def done(self) -> bool:
        """Whether the body has been read to its end."""
        return self._done

    @property
    def continue_pending(self) -> bool:
        """Whether the client still waits for `100 Continue` before sending the body."""
        return self._send_continue is not None and not self._done

    def _start(self) -> None:
        if self._send_continue is not None:
            self._send_continue()
            self._send_continue = None

    def read(self, size: int = -1) -> bytes:
        """Reads up to `size` bytes (all with -1); `b""` at the end."""
        if self._done:
            return b""
        self._start()
        if size < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        if self._chunked:
            data = self._read_chunked(size)
        else:
            data = self._rfile.read(min(size, self._remaining))
            if not data:
                raise BodyError("connection closed before the body was complete")
            self._remaining -= len(data)
            if not self._remaining:
                self._done = True
        self.bytes_read += len(data)
        return data

    def _read_chunked(self, size: int) -> bytes:
        if not self._chunk_started():
            return b""
        data = self._rfile.read(min(size, self._chunk_left))
        if not data:
            raise BodyError("connection closed inside a chunk")
        self._chunk_consumed(len(data))
        return data

    def _chunk_started(self) -> bool:
        """Reads the next chunk's size line if the last chunk is used up; False at the end."""
        if self._chunk_left:
            return True
        line = self._rfile.readline(4096)
        if not line.endswith(b"\n"):
            raise BodyError("bad chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        # Hex digits only (RFC 9112 §7.1): `int(_, 16)` also takes "-5", "+5", "0x5" and
        # "1_0", and a negative size would make the framing after it look like body bytes.
        if not _HEX_SIZE.fullmatch(size_text):
            raise BodyError("bad chunk size")
        self._chunk_left = int(size_text, 16)
        if self._chunk_left:
            return True
        while True:  # trailers, up to the empty line
            trailer = self._rfile.readline(8192)
            if not trailer:
                raise BodyError("connection closed in chunk trailer")
            if trailer in (b"\r\n", b"\n"):
                break
        self._done = True
        return False

    def _chunk_consumed(self, count: int) -> None:
        self._chunk_left -= count
        if self._chunk_left == 0 and self._rfile.readline(4) not in (b"\r\n", b"\n"):
            raise BodyError("chunk not followed by CRLF")

    def __iter__(self) -> Iterator[bytes | bytearray]:
        """Yields the rest of the body; each piece is a new object the consumer may keep.

        The body comes in pieces of up to 1 MiB received directly into the piece. A chunked
        body's pieces do not follow its chunks (64 KiB, then doubling up to 1 MiB): a piece
        per chunk would have the storage keep, and every later read send, as many pieces as
        the client sent chunks. Every byte that arrived is yielded before an error is raised.
        """
        if self._done:
            return
        self._start()
        # A chunked body's length is unknown: pieces start small and double while full.
        grow = _CHUNK
        while not self._done:
            if self._chunked:
                size, grow = grow, min(grow * 2, _LARGE)
            else:
                size = min(self._remaining, _LARGE)
            piece = bytearray(size)
            with memoryview(piece) as view:
                filled, error = self._fill(view)
            if filled:
                if filled < len(piece):
                    del piece[filled:]
                yield piece
            if error is not None:
                raise error

    def _fill(self, view: memoryview) -> tuple[int, Exception | None]:
        """Receives into `view` until it is full or the body ends; the count and any error."""
        filled = 0
        try:
            while filled < len(view) and not self._done:
                end = len(view)
                if self._chunked:
                    if not self._chunk_started():
                        break
                    end = min(end, filled + self._chunk_left)
                # Released at once: an error's traceback must not keep the piece exported.
                with view[filled:end] as window:
                    count = self._rfile.readinto(window)
                if not count:
                    raise BodyError("connection closed before the body was complete")
                filled += count
                if self._chunked:
                    self.bytes_read += count
                    self._chunk_consumed(count)
                else:
                    self._received(count)
        except (BodyError, OSError) as exc:
            return filled, exc
        return filled, None

    def _received(self, count: int) -> int:
        self._remaining -= count
        self.bytes_read += count
        if not self._remaining:
            self._done = True
        return count


class _DeadlineSocketIO(io.RawIOBase):
    """A socket as a raw stream whose reads can share one overall deadline.

    A per-operation socket timeout cannot bound a whole request head: a client sending one
    byte every few seconds never trips it. With a deadline set, every `recv` waits at most
    until the deadline, and a read past it raises `TimeoutError`.
    """

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self._timeout = timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("read deadline passed")
            self._sock.settimeout(min(remaining, self._timeout))
        return self._sock.recv_into(buffer)

    def clear_deadline(self) -> None:
        self.deadline = None
        self._sock.settimeout(self._timeout)


class SocketReader:
    """A buffered reader over a socket (`socket.makefile` cannot bound `readline` portably).

    Every socket operation waits at most `timeout` seconds; `set_deadline` additionally
    bounds everything read until `set_deadline(None)`.
    """

    def __init__(self, sock: socket.socket, timeout: float = 120.0) -> None:
        sock.settimeout(timeout)
        self._raw = _DeadlineSocketIO(sock, timeout)
        self._file = io.BufferedReader(self._raw, buffer_size=_CHUNK)

    def set_deadline(self, deadline: float | None) -> None:
        """Bounds all reads until `deadline` (`time.monotonic()`); `None` lifts the bound."""
        if deadline is None:
            self._raw.clear_deadline()
        else:
            self._raw.deadline = deadline

    def wait_for_data(self) -> bool:
        """Waits until a byte is available; False at EOF. Raises `TimeoutError` at the deadline."""
        return bool(self._file.peek(1))

    def read(self, size: int) -> bytes:
        return self._file.read1(size) if size > 0 else b""

    def readinto(self, view: memoryview) -> int:
        """Reads into `view` with at most one receive; 0 at EOF."""
        return self._file.readinto1(view)

    def readline(self, limit: int) -> bytes:
        return self._file.readline(limit)

    def close(self) -> None:
        self._file.close()


# The Rust `http` crate's canonical reason phrases where they differ from Python's.
def drain(body: BodyReader, limit: int) -> bool:
    """Discards the rest of a body; False if more than `limit` bytes were left or it broke."""
    try:
        drained = 0
        while chunk := body.read(_CHUNK):
            drained += len(chunk)
            if drained > limit:
                return False
    except (BodyError, OSError):
        return False
    return True
