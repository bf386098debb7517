"""Object and multipart-upload storage, in a directory or in memory.

Objects are addressed by a SHA-256 of (usecase, scopes, key), never by a path built from
the key: no key, usecase or scope can make the server touch a file outside its directory,
and keys that alias or conflict on the real filesystem backend (`a` vs `a/b`, `x/../y`,
trailing slashes) are distinct objects here, as on the production backends.

Every write goes to a temporary file (or buffer) first and is then swapped in with one
atomic rename: a reader sees one complete version, and of two writers the later wins whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from objectstore_client._positional import read_at
from objectstore_client.testing._memory import Chunk, MemoryBackend
from objectstore_client.testing._metadata import ObjectMeta

Scopes = tuple[tuple[str, str], ...]
_CHUNK = 64 * 1024
# `json.dumps(..., ensure_ascii=False)` without building an encoder per call: the names of
# objects already on disk depend on this exact text.
_NAME_ENCODER = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class ObjectId:
    """The identity of an object: usecase, ordered scopes and key (protocol §2.4)."""

    usecase: str
    scopes: Scopes
    key: str

    def digest(self) -> str:
        """A stable, path-safe name for the object."""
        raw = _NAME_ENCODER.encode([self.usecase, self.scopes, self.key])
        return hashlib.sha256(raw.encode()).hexdigest()


class Blob(Protocol):
    """One stored blob, opened: its header and a way to stream (part of) its payload."""

    header: dict[str, object]
    size: int

    def iter_range(self, start: int, end: int) -> Iterator[Chunk]:
        """Yields payload bytes `start` (inclusive) to `end` (exclusive)."""
        ...

    def close(self) -> None:
        """Releases the blob (closes its file)."""
        ...


class Backend(Protocol):
    """Where blobs live. Names are `/`-separated, each component path-safe (we make them)."""

    def write(
        self,
        name: str,
        header: dict[str, object],
        chunks: Iterable[Chunk],
        lock: AbstractContextManager[object] | None = None,
    ) -> int:
        """Atomically creates or replaces blob `name`; returns the payload size.

        The chunks are handed over: the caller never modifies them afterwards. With `lock`,
        only the final swap (not the consumption of the chunks) is done holding it.
        """
        ...

    def open(self, name: str) -> Blob | None:
        """Opens blob `name` as it is now, or `None` if absent."""
        ...

    def delete(self, name: str) -> bool:
        """Removes blob `name`; whether it existed."""
        ...

    def children(self, prefix: str) -> list[str]:
        """Names of the blobs directly under `prefix`."""
        ...


class _FileBlob:
    def __init__(self, file: IO[bytes], header: dict[str, object], offset: int, size: int):
        self._file = file
        self.header = header
        self._offset = offset
        self.size = size

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        position = start
        while position < end:
            # Positional: several ranges of one open blob may be streamed independently.
            chunk = read_at(
                self._file.fileno(), min(_CHUNK, end - position), self._offset + position
            )
            if not chunk:
                return
            position += len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


class DirectoryBackend:
    """Blobs as files under a root directory: one JSON header line, then the payload."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*name.split("/"))

    def write(
        self,
        name: str,
        header: dict[str, object],
        chunks: Iterable[Chunk],
        lock: AbstractContextManager[object] | None = None,
    ) -> int:
        path = self._path(name)
        temp = self.root / "tmp" / f"{uuid.uuid4().hex}.tmp"
        size = 0
        try:
            with open(temp, "wb") as file:
                file.write(json.dumps(header).encode() + b"\n")
                for chunk in chunks:
                    file.write(chunk)
                    size += len(chunk)
            path.parent.mkdir(parents=True, exist_ok=True)
            with lock or nullcontext():
                os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return size

    def open(self, name: str) -> Blob | None:
        try:
            file = open(self._path(name), "rb")  # noqa: SIM115 - owned by the returned blob
        except (FileNotFoundError, NotADirectoryError):
            return None
        line = file.readline()
        total = os.fstat(file.fileno()).st_size
        return _FileBlob(file, json.loads(line), len(line), total - len(line))

    def delete(self, name: str) -> bool:
        try:
            self._path(name).unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def children(self, prefix: str) -> list[str]:
        try:
            return [f"{prefix}/{entry}" for entry in os.listdir(self._path(prefix))]
        except (FileNotFoundError, NotADirectoryError):
            return []


class UploadNotFound(Exception):
    """The multipart upload does not exist (or belongs to another object)."""


class InvalidPart(Exception):
    """A part listed in a completion is missing or its etag does not match."""


@dataclass(frozen=True)
class PartRecord:
    """A stored multipart part."""

    part_number: int
    etag: str
    size: int
    last_modified_ns: int
    """Upload time in nanoseconds since the epoch."""


@dataclass
class StoredObject:
    """An opened object: metadata, size, and its blob for streaming."""

    meta: ObjectMeta
    size: int
    version: str
    blob: Blob


def _uuid7() -> str:
    """A UUID version 7 (time-ordered), the filesystem backend's upload id format (§2.7)."""
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


class Storage:
    """Objects and multipart uploads on top of a `Backend`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        # Striped locks order a metadata rewrite (TTI bump, expiry extension) against a
        # concurrent replace of the same object, so neither loses the other's write: a
        # replace swaps its new version in holding the lock, and a rewrite holds it from
        # reading the version to swapping in the rewritten copy.
        self._locks = [threading.Lock() for _ in range(64)]

    def _lock(self, digest: str) -> threading.Lock:
        return self._locks[int(digest[:4], 16) % len(self._locks)]

    @staticmethod
    def _object_name(digest: str) -> str:
        return f"objects/{digest}"

    @contextmanager
    def _swapping(
        self, digest: str, guard: AbstractContextManager[object] | None
    ) -> Iterator[None]:
        """Holds the object's lock, then `guard`, around a swap or removal (none if it raises)."""
        with self._lock(digest), guard or nullcontext():
            yield

    def put(
        self,
        oid: ObjectId,
        meta: ObjectMeta,
        chunks: Iterable[Chunk],
        guard: AbstractContextManager[object] | None = None,
    ) -> None:
        """Stores an object atomically: the chunks are consumed, then swapped in holding `guard`."""
        header: dict[str, object] = {
            "id": [oid.usecase, oid.scopes, oid.key],
            "version": uuid.uuid4().hex,
            "meta": meta.to_json(),
        }
        digest = oid.digest()  # once: a JSON encoding and a SHA-256, naming blob and lock
        swap = self._swapping(digest, guard)
        self._backend.write(self._object_name(digest), header, chunks, swap)

    def open(self, oid: ObjectId) -> StoredObject | None:
        """Opens the current version of an object; the caller must close `.blob`."""
        blob = self._backend.open(self._object_name(oid.digest()))
        if blob is None:
            return None
        meta = ObjectMeta.from_json(blob.header["meta"])  # type: ignore[arg-type]
        return StoredObject(meta, blob.size, str(blob.header["version"]), blob)

    def delete(self, oid: ObjectId, guard: AbstractContextManager[object] | None = None) -> bool:
        """Deletes an object (holding `guard` around the removal); whether it existed."""
        digest = oid.digest()
        name = self._object_name(digest)
        with self._swapping(digest, guard):
            return self._backend.delete(name)

    def update_meta(self, oid: ObjectId, version: str, meta: ObjectMeta) -> bool:
        """Replaces the metadata of `version` of an object, unless it was replaced meanwhile."""
        digest = oid.digest()
        name = self._object_name(digest)
        with self._lock(digest):
            blob = self._backend.open(name)
            if blob is None:
                return False
            try:
                if blob.header.get("version") != version:
                    return False
                header = {**blob.header, "meta": meta.to_json()}
                self._backend.write(name, header, blob.iter_range(0, blob.size))
            finally:
                blob.close()
        return True

    # --- multipart uploads (protocol §11) ---------------------------------------------------

    @staticmethod
    def _upload_dir(upload_id: str) -> str:
        return "uploads/" + hashlib.sha256(upload_id.encode()).hexdigest()

    def initiate(self, oid: ObjectId, meta: ObjectMeta) -> str:
        """Creates an upload whose final object gets `meta` (stamped at initiation, §9.5)."""
        upload_id = _uuid7()
        header: dict[str, object] = {
            "id": [oid.usecase, oid.scopes, oid.key],
            "meta": meta.to_json(),
        }
        self._backend.write(f"{self._upload_dir(upload_id)}/meta", header, ())
        return upload_id

    def _upload_meta(self, oid: ObjectId, upload_id: str) -> ObjectMeta:
        blob = self._backend.open(f"{self._upload_dir(upload_id)}/meta")
        if blob is None:
            raise UploadNotFound
        blob.close()
        if json.dumps(blob.header["id"]) != json.dumps([oid.usecase, oid.scopes, oid.key]):
            raise UploadNotFound
        return ObjectMeta.from_json(blob.header["meta"])  # type: ignore[arg-type]

    def put_part(
        self, oid: ObjectId, upload_id: str, number: int, declared: int, chunks: Iterable[Chunk]
    ) -> str:
        """Stores one part and returns its etag (filesystem backend format, §11.2)."""
        self._upload_meta(oid, upload_id)
        etag = f'"etag-{number}-{declared}"'
        header: dict[str, object] = {"etag": etag, "size": declared, "time": time.time_ns()}
        self._backend.write(f"{self._upload_dir(upload_id)}/part-{number}", header, chunks)
        return etag

    def parts(self, oid: ObjectId, upload_id: str) -> list[PartRecord]:
        """The upload's parts, sorted by part number."""
        self._upload_meta(oid, upload_id)
        records = []
        for name in self._backend.children(self._upload_dir(upload_id)):
            if not name.rsplit("/", 1)[-1].startswith("part-"):
                continue
            blob = self._backend.open(name)
            if blob is None:
                continue
            blob.close()
            records.append(
                PartRecord(
                    int(name.rsplit("-", 1)[1]),
                    str(blob.header["etag"]),
                    int(str(blob.header["size"])),
                    int(str(blob.header["time"])),
                )
            )
        return sorted(records, key=lambda r: r.part_number)

    def complete(
        self,
        oid: ObjectId,
        upload_id: str,
        parts: list[tuple[int, str]],
        target: ObjectId,
        guard: AbstractContextManager[object] | None = None,
    ) -> None:
        """Concatenates the listed parts, in the order listed, into `target` (§11.4).

        `oid` is the object the upload was initiated for (checked against the upload);
        `guard` is held around the swap of `target`, as by `put`.
        """
        meta = self._upload_meta(oid, upload_id)
        directory = self._upload_dir(upload_id)
        blobs: list[Blob] = []
        try:
            for number, etag in parts:
                blob = self._backend.open(f"{directory}/part-{number}")
                if blob is None:
                    raise InvalidPart(f"part number {number} was not uploaded")
                blobs.append(blob)
                if blob.header["etag"] != etag:
                    raise InvalidPart(
                        f"etag mismatch for part {number}: expected {blob.header['etag']}, "
                        f"got {etag}"
                    )
            chunks = (c for b in blobs for c in b.iter_range(0, b.size))
            self.put(target, meta, chunks, guard)
        finally:
            for blob in blobs:
                blob.close()
        self._remove_upload(upload_id)

    def abort(self, oid: ObjectId, upload_id: str) -> None:
        """Removes an upload and its parts; unknown uploads are a no-op (§11.5)."""
        try:
            self._upload_meta(oid, upload_id)
        except UploadNotFound:
            return
        self._remove_upload(upload_id)

    def _remove_upload(self, upload_id: str) -> None:
        for name in self._backend.children(self._upload_dir(upload_id)):
            self._backend.delete(name)


def DirectoryStorage(root: Path) -> Storage:
    """Storage in files under `root`."""
    return Storage(DirectoryBackend(root))


def MemoryStorage() -> Storage:
    """Storage in memory."""
    return Storage(MemoryBackend())
