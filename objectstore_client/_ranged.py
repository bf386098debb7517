"""`RangeReader`: the stored bytes of an object, read through Range requests that resume.

A download reads `[start, end)` of the stored bytes. When the connection breaks mid-body
(a dropped connection, a read timeout), the reader asks for the rest with a new `Range`
request starting at the first byte it has not received (protocol §7), so no byte is
fetched twice. Every answer must describe the same object (stored size, creation time and
encoding as the first): if the object was replaced meanwhile, the read fails instead of
mixing two objects, unless the replacement has the same size and encoding and was created
within the same (whole) second, which no answer can show (protocol §5.5; no ETag). Every
answer must also carry exactly the bytes asked for, an open end meaning the object's end: a
shorter one (a proxy clipping it) would otherwise end a read early, unnoticed when it ends
on a zstd frame boundary.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from objectstore_client._context import RequestContext
from objectstore_client._download import Payload
from objectstore_client._plans.ranges import ContentRange, check_answered, parse_content_range
from objectstore_client._plans.request import RequestPlan
from objectstore_client._progress import WorkerCancelled
from objectstore_client.errors import ProtocolError, RangeNotSatisfiable, TransportTimeout
from objectstore_client.metadata import Metadata
from objectstore_client.ranges import ByteRange

__all__ = ["Identity", "RangeReader"]

logger = logging.getLogger(__name__)

_READ_SIZE = 256 * 1024


@dataclass(frozen=True, slots=True)
class Identity:
    """What must stay the same across the answers of one download."""

    total: int
    """Stored size."""

    created: object
    """`time_created` (replaced objects get a new one)."""

    compression: str | None
    """Stored encoding."""

    @classmethod
    def of(cls, content_range: ContentRange, metadata: Metadata) -> Identity:
        return cls(content_range.total, metadata.time_created, metadata.compression)


class RangeReader:
    """Reads stored bytes `[start, end)` of `key` (`end=None`: to the end), resuming.

    `read(size)` returns up to `size` bytes, `b""` at `end`. After `max_resumes`
    consecutive breaks without a byte of progress the last error is raised. `first`
    is an already open answer for `start` (from the request that discovered the size).

    Raises (from `read`):
        ProtocolError: The object changed, or the server answered a different range.
        TransportError: The connection kept breaking.
        WorkerCancelled: `cancel` was set.
    """

    def __init__(
        self,
        context: RequestContext,
        key: str,
        start: int,
        end: int | None,
        identity: Identity | None,
        *,
        max_resumes: int,
        cancel: threading.Event | None = None,
        first: Payload | None = None,
    ) -> None:
        self._context = context
        self._key = key
        self.position = start
        self._end = end
        self.identity = identity
        self._max_resumes = max_resumes
        self._cancel = cancel
        self._payload = first
        self.metadata: Metadata | None = None

    def open(self) -> None:
        """Sends the Range request for the bytes not yet received."""
        wanted = ByteRange(self.position, self._end)
        plan = RequestPlan("get", "GET", self._key, {"Range": wanted.header}, stream=True)
        path = self._context.target(plan)
        with self._context.measure("get", self._key):
            try:
                response, _ = self._context.send(plan, path)
            except RangeNotSatisfiable as exc:
                if self.identity is None:
                    raise  # the first answer: an empty object has no byte 0
                # Bytes an earlier answer announced are gone: the object shrank.
                raise ProtocolError(
                    f"GET {path}: the object changed during the download (it is shorter now)"
                ) from exc
        payload = Payload(
            response, decompress=False, translate=self._context.translator("GET", path)
        )
        try:
            content_range = parse_content_range(response.status, response.headers)
            # Exactly the bytes asked for (protocol §7), an open end meaning the object's:
            # a shorter answer would end the read early (unnoticed at a zstd frame
            # boundary), a longer one would return bytes another part fetches too.
            check_answered(wanted, content_range, path)
            assert content_range is not None  # check_answered refuses a 200
            metadata = Metadata.from_headers(response.headers)
            identity = Identity.of(content_range, metadata)
            if self.identity is None:
                self.identity = identity
            elif identity != self.identity:
                raise ProtocolError(f"GET {path}: the object changed during the download")
            self._end = identity.total if self._end is None else min(self._end, identity.total)
        except BaseException:
            payload.close()
            raise
        self.metadata = metadata
        self._payload = payload

    def read(self, size: int = _READ_SIZE) -> bytes:
        """Up to `size` stored bytes; `b""` once `end` (or the object's end) is reached."""
        if self._end is not None and self.position >= self._end:
            self.close()
            return b""
        failures = 0
        while True:
            if self._cancel is not None and self._cancel.is_set():
                self.close()
                raise WorkerCancelled
            try:
                if self._payload is None:
                    self.open()
                assert self._payload is not None
                data = self._payload.read1(size if size > 0 else _READ_SIZE)
            except (ProtocolError, TransportTimeout) as exc:
                if isinstance(exc, ProtocolError) and self._payload is None:
                    raise  # a bad answer, not a broken connection
                self.close()
                failures += 1
                if failures > self._max_resumes:
                    raise
                logger.info("resuming GET %s at byte %d after: %s", self._key, self.position, exc)
                continue
            if not data:
                self.close()
                if self._end is not None and self.position < self._end:
                    raise ProtocolError(
                        f"GET {self._key!r}: the answer ended at byte {self.position}"
                    )
                return b""
            self.position += len(data)
            return data

    def close(self) -> None:
        """Releases the current answer's connection, if any."""
        if self._payload is not None:
            self._payload.close()
            self._payload = None
