"""The stored bytes of a download: length-checked, and resumed with a `Range` after a break.

A GET whose connection breaks (reset, timeout, cut short) while its body is read is
continued with `Range: bytes=<received>-` (protocol §7): ranges address the stored bytes,
compressed or not, so a zstd decoder reading these bytes continues on the concatenated
stream as if nothing happened. The protocol has no `ETag` or `If-Match` (protocol §5.2,
§6.3), so a resumed answer is checked against the first by what identifies a stored
object: `x-sn-time-created` (reset by every write, protocol §5.5), `content-encoding`, and
the stored size (`x-sn-size`, or the total of `content-range`). A write within the same
second as the first answer's with the same encoding and size is the one change this
cannot see; the zstd checksum of each frame still catches a splice inside a frame.

A body that does not come to the announced size, and an object that changed between a
break and its resumption, raise `ProtocolError` (as `_ranged.RangeReader` does): the
answers cannot be trusted, and the download as a whole may be tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import urllib3

from objectstore_client import _retry
from objectstore_client._plans.ranges import parse_content_range
from objectstore_client._protocol import header_number
from objectstore_client.errors import ObjectstoreError, ProtocolError, RangeNotSatisfiable

logger = logging.getLogger(__name__)

Reopen = Callable[[int, int | None], urllib3.BaseHTTPResponse]
"""Sends the download again for stored bytes `first` to `last` (inclusive; `None`: to the
end): a `Range` request. Returns the successful response, unread; raises the SDK's errors
like any request.
"""

MAX_RESUMES = 3
"""How many times one download is resumed after its connection broke."""


def _stored_size(size: int | None, length: int | None) -> int | None:
    """The stored size a 200 announces (`x-sn-size`, `content-length`), if any.

    Raises:
        ProtocolError: Its `content-length` is not its `x-sn-size`.
    """
    # The body of a 200 is the whole object (0.2.0 servers send neither header,
    # protocol §19.3).
    if size is not None and length is not None and length != size:
        raise ProtocolError(
            f"the answer announces {size} stored bytes but a body of {length} bytes"
        )
    return length if size is None else size


def _identity(response: urllib3.BaseHTTPResponse) -> tuple[str | None, ...]:
    headers = response.headers
    return headers.get("x-sn-time-created"), headers.get("content-encoding")


class StoredBytes:
    """Reads the stored bytes of a GET's answer, as a file object with `read(size)`.

    Checks that the bytes come to the announced size (`x-sn-size` or `content-length` of a
    200, the `content-range` of a 206) and resumes the download after a dropped
    connection or a timeout, up to `resumes` times, when it has a `reopen` callable.

    Raises (from `read`):
        ProtocolError: More or fewer bytes than announced, or a resumed answer that
            belongs to another version of the object or starts elsewhere.
        urllib3.exceptions.HTTPError, OSError: The connection broke and may not be
            resumed (no `reopen`, no resumes left, or not a replayable failure).
        ObjectstoreError: Resuming failed (what `reopen` raises).
    """

    def __init__(
        self, response: urllib3.BaseHTTPResponse, reopen: Reopen | None, resumes: int
    ) -> None:
        self.response = response
        self.received = 0
        """Bytes returned by `read` so far: where a resumed download starts."""
        # urllib3 parsed `content-length` already (None for a chunked body).
        length = response.length_remaining
        self._start = 0  # where the body starts in the stored bytes
        self._last: int | None = None  # the last stored byte asked for (None: the end)
        self._total: int | None = None  # the stored size
        self._problem: ObjectstoreError | None = None
        self.expected: int | None = None
        """The body's size, when the answer announced it."""
        try:
            size = header_number(response.headers.get("x-sn-size"))
            content_range = parse_content_range(response.status, response.headers)
            if content_range is not None:
                # A 206: part of the object, or all of it (a ranged get).
                self._start, self._last = content_range.first, content_range.last
                self._total = content_range.total
                self.expected = content_range.last - content_range.first + 1
                if (size is not None and size != self._total) or (
                    length is not None and length != self.expected
                ):
                    raise ProtocolError(
                        f"the answer's content-range ({content_range}) does not match its "
                        f"x-sn-size ({size}) or content-length ({length})"
                    )
            elif response.status == 200:
                self.expected = self._total = _stored_size(size, length)
        except ObjectstoreError as exc:
            self.expected, self._problem = None, exc
        # The transport stops at `content-length`: no byte past it can come.
        self._bounded = length is not None
        # What identifies the object is only compared after a break: kept, not parsed.
        self._first = response
        self._reopen = reopen
        self._resumes_left = resumes if reopen is not None else 0
        self._prefix = b""

    def at_end(self) -> bool:
        """Whether the body is known to be over, so that a read would return b"".

        `False` means "maybe not": a read tells.
        """
        if self._prefix:
            return False
        if self.expected is None:
            # A body of unknown size (chunked) is over once urllib3 closed it.
            return self.response.closed
        return self._bounded and self.received == self.expected

    def unread(self, data: bytes) -> None:
        """Puts `data`, the bytes the last `read` returned, back in front of the stream."""
        self._prefix = data
        self.received -= len(data)

    def read(self, size: int = -1) -> bytes:
        """Returns up to `size` bytes (all that is left if `size` < 0); b"" at the end."""
        if self._problem is not None:
            raise self._problem
        if self._prefix:
            data, self._prefix = self._prefix, b""
            self.received += len(data)
            return data
        while True:
            try:
                data = self.response.read(None if size < 0 else size)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if not (self._resumes_left and _retry.replayable_error(exc)):
                    raise
                self._resume(exc)
                continue
            if data:
                self.received += len(data)
                if self.expected is not None and self.received > self.expected:
                    raise ProtocolError(
                        f"the payload is longer than the {self.expected} bytes announced"
                    )
                return data
            if self.expected is None or self.received == self.expected:
                return b""
            # Ended early without an error: a body whose length the transport did not
            # check (no `content-length`) was cut short. The rest may still come.
            short = ProtocolError(
                f"the payload ended after {self.received} of the {self.expected} bytes announced"
            )
            if not self._resumes_left:
                raise short
            self._resume(short)

    def _resume(self, failure: Exception) -> None:
        """Continues the download from `received` with a `Range` request.

        Raises:
            Exception: `failure` again, if the server does not resume where asked.
            ProtocolError: The object changed since the first answer (also a 416: it
                became shorter).
        """
        assert self._reopen is not None
        self._resumes_left -= 1
        logger.info("resuming a download at byte %d after: %s", self.received, failure)
        previous = self.response
        previous.close()
        previous.release_conn()
        first = self._start + self.received
        try:
            response = self._reopen(first, self._last)
        except RangeNotSatisfiable as exc:
            # Byte `first` existed when the download started.
            raise ProtocolError(
                f"cannot resume the download at byte {first}: the object changed since the "
                "download started (it is shorter now)"
            ) from exc
        self.response = response
        try:
            self._check_resumed(response, failure)
        except BaseException:
            response.close()
            response.release_conn()
            raise

    def _check_resumed(self, response: urllib3.BaseHTTPResponse, failure: Exception) -> None:
        """Raises unless a resumed answer continues the first one."""
        first = self._start + self.received
        try:
            content_range = parse_content_range(response.status, response.headers)
        except ObjectstoreError:
            content_range = None
        if content_range is None or content_range.first != first:
            # Not a continuation (a server or proxy that ignores ranges): what broke the
            # download is the error to report.
            raise failure
        total = content_range.total
        size = header_number(response.headers.get("x-sn-size"))
        last = total - 1 if self._last is None else self._last
        if (
            _identity(response) != _identity(self._first)
            or (self._total is not None and total != self._total)
            or (size is not None and size != total)
            or content_range.last != last
        ):
            raise ProtocolError(
                f"cannot resume the download at byte {first}: the object changed since the "
                "download started"
            )
        if self.expected is None:
            self._total = total
            self.expected = total - self._start
