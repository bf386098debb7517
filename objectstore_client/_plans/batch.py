"""Plans of `Session.many`: batch requests and their multipart answers (protocol §10), no I/O.

`plan_operations` validates every operation up front (bad input raises before anything is
sent); `group` splits them into batch requests within the server's limits and the
uploads that must go alone; `BatchBody` writes one request's multipart body lazily while
it is sent. Reading the answer is `_plans.batch_answer`.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Literal, cast
from urllib.parse import quote

from objectstore_client import _zstd
from objectstore_client._plans.objects import PutPlan, plan_put
from objectstore_client._plans.request import BodyPlan, RequestPlan
from objectstore_client._validation import check_key
from objectstore_client.batch import Delete, Get, Head, Put
from objectstore_client.errors import (
    InvalidArgument,
    InvalidArgumentType,
)
from objectstore_client.usecase import Usecase

__all__ = [
    "MAX_INSERT_BYTES",
    "MAX_OPERATIONS",
    "MAX_PART_HEADERS",
    "MAX_REQUEST_BYTES",
    "MAX_UNREAD_BYTES",
    "BatchBody",
    "PlannedOperation",
    "group",
    "plan_batch",
    "plan_operations",
]

MAX_OPERATIONS = 1000
"""Operations per batch request (protocol §10.1)."""

MAX_INSERT_BYTES = 1_048_576
"""The largest insert payload a batch part may carry (protocol §10.1)."""

MAX_PART_HEADERS = 32
"""Header lines a batch part may have (protocol §10.1)."""

MAX_REQUEST_BYTES = 100 * 1024 * 1024
"""Payload bytes per batch request: the Rust client's practice (protocol §10.3), far below
the server's 1 GiB, so one request never holds a server's memory for long."""

Kind = Literal["get", "head", "insert", "delete"]

MAX_UNREAD_BYTES = 64 * 1024
"""What one batch request may leave waiting in the socket buffers of either direction.

The server answers while it still reads the request (protocol §10.2), and this client
reads the answer only once it has sent the whole request (urllib3 sends the body first).
If the answers the server has written fill the buffers towards this client while more of
the request is still to be sent than fits the buffers towards the server, each side waits
for the other until the read timeout. Parts go in the order inserts, deletes, heads, gets,
and `group` cuts a request so that both directions stay within this bound:

- inserts and deletes are answered while the request is still being sent, so the sum of
  their answer parts' sizes (`_answer_bound`) is kept to it: the server never waits to
  write them, and so reads the whole request up to its heads and gets;
- a head's or get's answer can be of any size (an object, its metadata), so the sum of the
  head and get request parts, which may still be unsent when the first answer of one waits
  unread, is kept to it.

64 KiB is what both directions hold at the least with common TCP defaults (Linux starts
with a 128 KiB receive buffer, about half of it usable as window, plus the peer's send
buffer); the protocol is silent on it, so this is the conservative choice. Requests of
short keys still carry a few hundred operations each.
"""

# Order of kinds inside one request (see `MAX_UNREAD_BYTES`).
_SEND_ORDER: dict[Kind, int] = {"insert": 0, "delete": 1, "head": 2, "get": 3}
_READS: frozenset[Kind] = frozenset({"head", "get"})
# A part's delimiter line (`--os-boundary-` and 32 hex digits, CRLF) and its closing CRLF.
_PART_FRAMING = 2 + 44 + 2 + 2
# An insert's or delete's answer part but its key (protocol §10.3): the delimiter line, the
# disposition, index, status and kind headers and the blank lines come to about 240 bytes.
# An error part has no key but a JSON text, which the protocol does not bound; the usual
# ones fit in this too, and a longer one in what the buffers hold beyond MAX_UNREAD_BYTES.
_ANSWER_PART = 256
_CRLF = b"\r\n"
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """One validated operation of a batch."""

    index: int
    """Its position in the caller's list."""

    kind: Kind
    """The batch operation kind (protocol §10.1)."""

    key: str
    """The key (for a put without one, the key chosen for it by `plan_put`)."""

    decompress: bool = True
    """For a get: decode zstd payloads."""

    put: PutPlan | None = None
    """For an insert: the validated upload (headers and body)."""

    wire_bound: int = 0
    """The most bytes its part body can take (worst-case compressed size); -1 unknown."""

    @property
    def alone(self) -> bool:
        """Whether it must be sent as its own request.

        Uploads too big for a part or of unknown size, and uploads with more metadata
        headers than a part may carry (protocol §10.1: 32 header lines per part, of which
        the disposition, kind and key take three).
        """
        if self.kind != "insert":
            return False
        headers = 0 if self.put is None else len(self.put.request.headers)
        return not 0 <= self.wire_bound <= MAX_INSERT_BYTES or headers > MAX_PART_HEADERS - 3


def plan_operations(usecase: Usecase, operations: object) -> list[PlannedOperation]:
    """Validates every operation of `Session.many`, before anything is sent.

    Raises:
        InvalidArgument: No operations, or an operation's argument breaks a rule (the
            message names its position).
        InvalidArgumentType: `operations` is not a sequence of operations.
    """
    if isinstance(operations, str | bytes) or not isinstance(operations, Sequence):
        raise InvalidArgumentType("operations", "must be a list of Get, Head, Put or Delete")
    if not operations:
        raise InvalidArgument("operations", "must not be empty")
    planned = []
    for index, operation in enumerate(operations):
        try:
            planned.append(_plan_one(usecase, index, operation))
        except InvalidArgument as exc:
            raise InvalidArgument(f"operations[{index}].{exc.argument}", exc.rule) from None
        except InvalidArgumentType as exc:
            raise InvalidArgumentType(f"operations[{index}].{exc.argument}", exc.rule) from None
    return planned


def _plan_one(usecase: Usecase, index: int, operation: object) -> PlannedOperation:
    if isinstance(operation, Get):
        return PlannedOperation(index, "get", check_key(operation.key), bool(operation.decompress))
    if isinstance(operation, Head):
        return PlannedOperation(index, "head", check_key(operation.key))
    if isinstance(operation, Delete):
        return PlannedOperation(index, "delete", check_key(operation.key))
    if isinstance(operation, Put):
        put = plan_put(
            usecase,
            operation.contents,
            operation.key or None,
            compression=operation.compression,
            compress=None,
            precompressed=None,
            content_type=operation.content_type,
            metadata=operation.metadata,
            expiration_policy=operation.expiration_policy,
            origin=operation.origin,
            filename=operation.filename,
        )
        body = put.request.body
        assert body is not None
        bound = -1
        if isinstance(body.contents, bytes | bytearray | memoryview):
            size = memoryview(body.contents).nbytes
            bound = _zstd.compress_bound(size) if body.compression == "zstd" else size
        # Never a POST here (no `server_key`): `plan_put` chose a key if the caller gave none.
        assert put.request.key is not None
        return PlannedOperation(index, "insert", put.request.key, put=put, wire_bound=bound)
    raise InvalidArgumentType("operation", f"must be Get, Head, Put or Delete, got {operation!r}")


def group(
    planned: Sequence[PlannedOperation],
    max_operations: int = MAX_OPERATIONS,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_unread: int = MAX_UNREAD_BYTES,
) -> tuple[list[list[PlannedOperation]], list[PlannedOperation]]:
    """Splits operations into batch requests and uploads to send alone.

    Each batch has at most `max_operations` operations and `max_bytes` of worst-case part
    bodies, in send order (inserts, deletes, heads, gets); its insert and delete answers,
    and its head and get parts, each come to at most `max_unread` bytes (see
    `MAX_UNREAD_BYTES`), but for a batch of one operation.
    """
    alone = [operation for operation in planned if operation.alone]
    batchable = sorted(
        (operation for operation in planned if not operation.alone),
        key=lambda operation: _SEND_ORDER[operation.kind],
    )
    batches: list[list[PlannedOperation]] = []
    current: list[PlannedOperation] = []
    size = answers = reads = 0
    for operation in batchable:
        read = answer = 0
        if operation.kind in _READS:
            read = len(_part_head(operation)) + _PART_FRAMING
        else:
            answer = _answer_bound(operation)
        if current and (
            len(current) >= max_operations
            or size + operation.wire_bound > max_bytes
            or answers + answer > max_unread
            or reads + read > max_unread
        ):
            batches.append(current)
            current, size, answers, reads = [], 0, 0, 0
        current.append(operation)
        size += operation.wire_bound
        answers += answer
        reads += read
    if current:
        batches.append(current)
    return batches, alone


def _answer_bound(operation: PlannedOperation) -> int:
    """About the most bytes an insert's or delete's answer part takes (protocol §10.3).

    Its key is percent-encoded as 0.2.0 servers do, which escapes the most (every byte but
    ASCII letters and digits, three bytes each).
    """
    encoded = operation.key.encode("utf-8")
    return _ANSWER_PART + 3 * len(encoded) - 2 * sum(map(_ALNUM.__contains__, encoded))


def _part_head(operation: PlannedOperation) -> bytes:
    lines = [
        "Content-Disposition: form-data; name=part",
        f"x-sn-batch-operation-kind: {operation.kind}",
    ]
    # Every byte but ASCII letters, digits and `_.-~` escaped: what 0.2.0 servers expect,
    # and current ones still decode (protocol §10.1).
    lines.append(f"x-sn-batch-operation-key: {quote(operation.key, safe='')}")
    if operation.put is not None:
        lines.extend(f"{name}: {value}" for name, value in operation.put.request.headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class BatchBody(io.RawIOBase):
    """A batch request's multipart body, written part by part as it is read.

    Insert payloads are compressed when their part is reached, on the sending thread, so
    a request never holds more than one part's bytes beyond what the caller passed.
    `sent` counts the insert payload bytes (uncompressed) handed out so far. It can be
    rewound to its start (and is then written again), so the request can be replayed.
    """

    def __init__(self, operations: Sequence[PlannedOperation], boundary: str) -> None:
        super().__init__()
        self._all = tuple(operations)
        self._delimiter = b"--" + boundary.encode("ascii")
        self._restart()

    def _restart(self) -> None:
        self._operations = iter(self._all)
        self._pending = bytearray()
        self._done = False
        self._position = 0
        self.sent = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewinds to the start, for a replay; other positions are not supported."""
        if offset != 0 or whence != io.SEEK_SET:
            raise OSError("a batch body can only be rewound to its start")
        self._restart()
        return 0

    def _next_part(self) -> None:
        operation = next(self._operations, None)
        if operation is None:
            self._pending += self._delimiter + b"--\r\n"
            self._done = True
            return
        self._pending += self._delimiter + _CRLF + _part_head(operation)
        if operation.put is not None:
            body = cast(BodyPlan, operation.put.request.body).prepare()
            # Only bytes-like contents are batched (`PlannedOperation.alone`): a buffer.
            self._pending += cast(bytes, body.open())
            self.sent += body.uncompressed_size
        self._pending += _CRLF

    def read(self, size: int = -1) -> bytes:
        """Returns up to `size` bytes of the body; `b""` at its end."""
        while not self._done and (size < 0 or len(self._pending) < size):
            self._next_part()
        if size < 0 or size >= len(self._pending):
            data = bytes(self._pending)
            self._pending.clear()
        else:
            data = bytes(self._pending[:size])
            del self._pending[:size]
        self._position += len(data)
        return data


def plan_batch(operations: Sequence[PlannedOperation]) -> tuple[RequestPlan, BatchBody]:
    """The POST of one batch request (protocol §10.1) and its lazily written body.

    Replayed like a PUT when every insert names its key (`plan_put` chooses one when the
    caller gave none): each operation is then idempotent, so executing some twice is
    harmless. An insert whose key the server would choose would make it a one-shot POST.
    """
    boundary = f"os-boundary-{secrets.token_hex(16)}"
    body = BatchBody(operations, boundary)
    request = RequestPlan(
        "batch",
        "POST",
        None,
        {"Content-Type": f'multipart/form-data; boundary="{boundary}"'},
        BodyPlan(cast(IO[bytes], body), "none"),
        endpoint="objects:batch",
        # Every operation names its key (puts without one got theirs from `plan_put`), so
        # sending a batch again does the same.
        idempotent=True,
        stream=True,
    )
    return request, body
