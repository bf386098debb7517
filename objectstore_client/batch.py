"""Many operations in few requests: the operations and results of `Session.many`.

Build a list of `Get`, `Head`, `Put` and `Delete` operations and hand it to
`Session.many`, which sends them through the batch endpoint (protocol §10), up to 1,000
per request, and returns one `OperationResult` per operation, in the caller's order::

    results = session.many([Put(b"hello", key="a"), Get("a"), Head("b"), Delete("c")])
    for result in results:
        if result.error is None:
            print(result.operation, result.value)
    results.error_for_failures()  # raises BatchFailed if any operation failed

A failed operation never raises by itself: its result carries the typed error
(`ObjectNotFound` for a missing key, `RateLimited`, a `TransportError` if its request
broke, ...). `Session.iter_many` yields the same results as they complete instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal, overload

from objectstore_client.errors import BatchFailed, ObjectstoreError
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual, Metadata

__all__ = [
    "BatchResults",
    "Delete",
    "Get",
    "Head",
    "ObjectData",
    "Operation",
    "OperationResult",
    "Put",
]


@dataclass(frozen=True, slots=True)
class Get:
    """Download an object; its result's value is an `ObjectData`."""

    key: str
    """The object's key."""

    decompress: bool = True
    """Decode a zstd payload (`ObjectData.metadata.compression` is then `None`)."""


@dataclass(frozen=True, slots=True)
class Head:
    """Read an object's metadata; its result's value is a `Metadata`."""

    key: str
    """The object's key."""


@dataclass(frozen=True, slots=True)
class Put:
    """Upload an object; its result's value is the key it is stored under.

    The arguments mean what they mean for `Session.put`. Bytes-like contents whose
    worst-case compressed size fits the batch endpoint's 1 MiB per operation travel in a
    batch; larger ones and file objects are uploaded with their own request.
    """

    contents: bytes | bytearray | memoryview | IO[bytes]
    """The object's bytes."""

    key: str | None = None
    """The key to store under; `None`: a new random UUID, chosen by the client as `put` does."""

    compression: Compression | Literal["none"] | None = None
    """`"zstd"` or `"none"`; `None` uses the usecase's default."""

    content_type: str | None = None
    """The media type."""

    metadata: Mapping[str, str] | None = None
    """Custom metadata."""

    expiration_policy: ExpirationPolicy | Manual | None = None
    """`TimeToLive`, `TimeToIdle` or `Manual()`; `None` uses the usecase's default."""

    origin: str | None = None
    """Where the payload came from."""

    filename: str | None = None
    """A file name for downloads."""


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete an object; its result's value is `None`."""

    key: str
    """The object's key."""


Operation = Get | Head | Put | Delete
"""One operation of a batch."""


@dataclass(frozen=True, slots=True)
class ObjectData:
    """A downloaded object, held in memory: the value of a successful `Get`."""

    metadata: Metadata
    """The object's metadata; `compression` is `None` if the data was decompressed."""

    data: bytes
    """The object's bytes."""


@dataclass(frozen=True, slots=True)
class OperationResult:
    """The outcome of one operation: a value, or the error it failed with."""

    index: int
    """The operation's position in the caller's list."""

    operation: Operation
    """The operation itself."""

    value: ObjectData | Metadata | str | None = None
    """`ObjectData` (get), `Metadata` (head), the stored key (put), `None` (delete/failure)."""

    error: ObjectstoreError | None = None
    """Why the operation failed; `None` if it succeeded."""

    @property
    def ok(self) -> bool:
        """Whether the operation succeeded."""
        return self.error is None

    def unwrap(self) -> ObjectData | Metadata | str | None:
        """Returns the value, or raises the operation's error."""
        if self.error is not None:
            raise self.error
        return self.value


@dataclass(frozen=True, slots=True)
class BatchResults(Sequence[OperationResult]):
    """The results of `Session.many`, one per operation, in the caller's order."""

    results: tuple[OperationResult, ...] = field(default=())
    """Every result, `results[i]` for the operation at position `i`."""

    @overload
    def __getitem__(self, index: int) -> OperationResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[OperationResult]: ...
    def __getitem__(self, index: int | slice) -> OperationResult | Sequence[OperationResult]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[OperationResult]:
        return iter(self.results)

    @property
    def failures(self) -> tuple[OperationResult, ...]:
        """The results whose operation failed, in order."""
        return tuple(result for result in self.results if result.error is not None)

    def error_for_failures(self) -> None:
        """Raises `BatchFailed` if any operation failed; does nothing otherwise."""
        failures = self.failures
        if failures:
            errors = [(result.index, result.error) for result in failures]
            raise BatchFailed(errors, len(self.results))
