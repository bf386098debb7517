"""Reading a batch answer (protocol §10.3): multipart parts, streamed, into typed outcomes.

`iter_parts` reads the multipart answer part by part from a stream (at most one part and
one read held in memory); `read_part` turns one part into its operation's value or typed
error. No I/O of its own: the caller hands in the response stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote

from objectstore_client import _zstd
from objectstore_client._plans.batch import PlannedOperation
from objectstore_client.batch import ObjectData
from objectstore_client.errors import (
    DecodeError,
    IntegrityError,
    ObjectstoreError,
    ProtocolError,
    UnsupportedCompression,
    error_class_for_status,
)
from objectstore_client.metadata import Metadata

__all__ = ["ResponsePart", "iter_parts", "part_index", "read_part", "response_boundary"]

_CRLF = b"\r\n"
_READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ResponsePart:
    """One part of a batch answer: its headers (lower-case names) and body."""

    headers: Mapping[str, str]
    body: bytes


def response_boundary(content_type: str) -> str:
    """The boundary of a batch answer's `content-type` (quoted, protocol §10.3).

    Raises:
        ProtocolError: The answer is not multipart or has no boundary.
    """
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return value.strip().strip('"')
    raise ProtocolError(f"batch answer without a multipart boundary: {content_type!r}")


class _Stream:
    """A growing buffer over a readable source."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.buffer = bytearray()

    def find(self, separator: bytes, start: int = 0) -> int:
        """The position of `separator` after `start`, reading more as needed; -1 at the end."""
        scanned = start
        while True:
            found = self.buffer.find(separator, scanned)
            if found >= 0:
                return found
            scanned = max(start, len(self.buffer) - len(separator) + 1)
            data = self.source.read(_READ_SIZE)
            if not data:
                return -1
            self.buffer += data

    def starts_with(self, prefix: bytes) -> bool:
        """Whether the buffer starts with `prefix`, reading as much as needed."""
        while len(self.buffer) < len(prefix):
            data = self.source.read(_READ_SIZE)
            if not data:
                break
            self.buffer += data
        return self.buffer.startswith(prefix)

    def take(self, size: int, skip: int = 0) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[: size + skip]
        return data


def iter_parts(source: IO[bytes], boundary: str) -> Iterator[ResponsePart]:
    """Yields the parts of a multipart batch answer as they arrive (protocol §10.3).

    Holds at most one part (and one read) in memory.

    Raises:
        ProtocolError: The answer is not well-formed multipart.
    """
    delimiter = b"--" + boundary.encode("latin-1")
    stream = _Stream(source)
    position = stream.find(delimiter)
    if position < 0:
        raise ProtocolError("batch answer without its first multipart delimiter")
    stream.take(0, position + len(delimiter))
    while True:
        if stream.starts_with(b"--"):
            return
        end_of_head = stream.find(b"\r\n\r\n")
        if end_of_head < 0:
            raise ProtocolError("batch answer ends inside a part's headers")
        headers: dict[str, str] = {}
        for line in stream.take(end_of_head, 4).decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        end_of_body = stream.find(_CRLF + delimiter)
        if end_of_body < 0:
            raise ProtocolError("batch answer ends inside a part's body")
        body = stream.take(end_of_body, len(_CRLF) + len(delimiter))
        yield ResponsePart(headers, body)


def part_index(part: ResponsePart) -> int:
    """The request position a result part answers (`x-sn-batch-operation-index`).

    Raises:
        ProtocolError: The header is missing or not a number.
    """
    try:
        return int(part.headers["x-sn-batch-operation-index"])
    except (KeyError, ValueError):
        raise ProtocolError(f"batch answer part without a valid index: {part.headers}") from None


def read_part(
    part: ResponsePart, operation: PlannedOperation, path: str
) -> tuple[ObjectData | Metadata | str | None, ObjectstoreError | None]:
    """The value, or typed error, of one operation from its answer part."""
    status_line = part.headers.get("x-sn-batch-operation-status", "")
    try:
        status = int(status_line.split()[0])
    except (IndexError, ValueError):
        return None, ProtocolError(f"batch answer part without a valid status: {status_line!r}")
    target = f"batch {operation.kind} {operation.key!r}" if operation.key else "batch insert"
    if status >= 400:
        text = part.body.decode("utf-8", "replace")
        error_type = error_class_for_status(status, text)
        message = f"{target} (POST {path}) failed with status {status_line}"
        detail = text.strip()[:300]
        return None, error_type(f"{message}: {detail}" if detail else message, status, text)
    if operation.kind == "insert":
        returned = unquote(part.headers.get("x-sn-batch-operation-key", ""))
        if returned != operation.key:
            # A corrupted answer: its key names another object than the one sent.
            return None, IntegrityError(f"{target}: the answer names key {returned[:200]!r}")
        return returned, None
    if operation.kind == "delete":
        return None, None
    metadata = Metadata.from_headers(part.headers)
    if operation.kind == "head":
        return metadata, None
    data = part.body
    if operation.decompress and metadata.compression is not None:
        if metadata.compression != "zstd":
            return None, UnsupportedCompression(
                f"{target}: cannot decompress {metadata.compression!r}; use decompress=False"
            )
        try:
            data = _zstd.decompress_all(data)
        except Exception as exc:
            return None, DecodeError(f"{target}: the payload is not valid zstd data: {exc}")
        metadata = dataclasses.replace(metadata, compression=None)
    return ObjectData(metadata, data), None
