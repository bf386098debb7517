"""Resumable upload sessions of the local server: their state and staged bytes (protocol §23).

A session is created with the object it will publish (usecase, scopes, key), the declared
length and the metadata stamped at creation; chunks are appended to its staging area, and
the chunk that completes it publishes the object through the storage layer's atomic write
(a temporary file renamed into place, or a whole-buffer swap in memory), so a partial object
is never visible.

Sessions live in memory, or in files under a directory (`<dir>/<id>.json` for the state,
`<dir>/<id>.data` for the bytes) when the server stores objects in a directory: then a
server restarted on the same data directory still knows them. The real server's tokens die
with the process unless an encryption key is configured (protocol §23.3); a data directory
given to the local server plays that role.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from objectstore_client.testing._metadata import ObjectMeta

Scopes = tuple[tuple[str, str], ...]
_ID_BYTES = 16
_CHUNK = 64 * 1024


def encode_token(session_id: bytes) -> str:
    """The session token for an id: canonical unpadded base64url (protocol §23.2)."""
    return base64.urlsafe_b64encode(session_id).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Target:
    """The object a session publishes: usecase, scopes and the decoded path key."""

    usecase: str
    scopes: Scopes
    key: str


@dataclass(frozen=True)
class SessionInfo:
    """What is fixed when a session is created."""

    target: Target
    length: int
    """The declared `upload-length`: the number of bytes the object will have."""
    meta: ObjectMeta
    """The object's metadata, stamped (creation time, deadline) at session creation."""

    def to_json(self) -> dict[str, object]:
        """A JSON-able form for the state file."""
        return {
            "usecase": self.target.usecase,
            "scopes": [list(pair) for pair in self.target.scopes],
            "key": self.target.key,
            "length": self.length,
            "meta": self.meta.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SessionInfo:
        """The inverse of `to_json`."""
        scopes = data["scopes"]
        assert isinstance(scopes, list)
        meta = data["meta"]
        assert isinstance(meta, dict)
        target = Target(
            str(data["usecase"]), tuple((str(k), str(v)) for k, v in scopes), str(data["key"])
        )
        return cls(target, int(str(data["length"])), ObjectMeta.from_json(meta))


class Session:
    """One open session. Use it only inside `UploadSessions.open`, which holds its lock."""

    def __init__(self, info: SessionInfo, data_path: Path | None) -> None:
        self.info = info
        self._path = data_path
        # In memory: the pieces as received (request bodies hand over each piece), never
        # modified once here, so publishing the object copies nothing.
        self._pieces: list[bytes | bytearray] | None = [] if data_path is None else None
        self._size = 0
        self.removed = False

    @property
    def offset(self) -> int:
        """How many bytes are staged."""
        if self._pieces is not None:
            return self._size
        assert self._path is not None
        return self._path.stat().st_size

    def append(self, chunks: Iterable[bytes | bytearray]) -> int:
        """Appends `chunks` (which the session keeps); returns the bytes written.

        Bytes written before `chunks` raises stay staged (protocol §23.4: a broken upload
        keeps what arrived); the exception then propagates.
        """
        written = 0
        if self._pieces is not None:
            for chunk in chunks:
                if chunk:
                    self._pieces.append(chunk)
                    self._size += len(chunk)
                    written += len(chunk)
            return written
        assert self._path is not None
        with open(self._path, "ab") as file:
            try:
                for chunk in chunks:
                    file.write(chunk)
                    written += len(chunk)
            finally:
                file.flush()
        return written

    def truncate(self, size: int) -> None:
        """Drops staged bytes beyond `size`."""
        if self._pieces is not None:
            while self._size > size:
                last = self._pieces.pop()
                self._size -= len(last)
                if self._size < size:
                    # A copy of what stays: a piece once staged is never modified.
                    kept = bytes(last[: size - self._size])
                    self._pieces.append(kept)
                    self._size += len(kept)
        else:
            assert self._path is not None
            os.truncate(self._path, size)

    def chunks(self) -> Iterator[bytes | bytearray]:
        """The staged bytes, in pieces (in memory: the staged pieces themselves)."""
        if self._pieces is not None:
            yield from self._pieces
            return
        assert self._path is not None
        with open(self._path, "rb") as file:
            while piece := file.read(_CHUNK):
                yield piece


class UploadSessions:
    """The server's resumable upload sessions, in memory or under `directory`.

    Thread-safe: `open` serialises the requests of one session, so concurrent chunks at the
    same offset are applied one after the other (the second then sees a mismatch).
    """

    def __init__(self, directory: Path | None) -> None:
        self._dir = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._sessions: dict[bytes, Session] = {}
        self._locks: dict[bytes, threading.Lock] = {}
        self._lock = threading.Lock()

    def _state_path(self, session_id: bytes) -> Path:
        assert self._dir is not None
        return self._dir / f"{session_id.hex()}.json"

    def _data_path(self, session_id: bytes) -> Path:
        assert self._dir is not None
        return self._dir / f"{session_id.hex()}.data"

    def create(self, info: SessionInfo) -> str:
        """Starts a session with nothing staged; returns its token."""
        session_id = secrets.token_bytes(_ID_BYTES)
        data_path = None
        if self._dir is not None:
            data_path = self._data_path(session_id)
            data_path.write_bytes(b"")
            # The state file appears whole (rename), so a crash never leaves half a session.
            temp = self._dir / f"{uuid.uuid4().hex}.tmp"
            temp.write_text(json.dumps(info.to_json()))
            os.replace(temp, self._state_path(session_id))
        with self._lock:
            self._sessions[session_id] = Session(info, data_path)
        return encode_token(session_id)

    @contextmanager
    def open(self, session_id: bytes) -> Iterator[Session | None]:
        """Holds the session's lock and yields it, or `None` if it does not exist."""
        if len(session_id) != _ID_BYTES:
            yield None
            return
        with self._lock:
            lock = self._locks.setdefault(session_id, threading.Lock())
        with lock:
            session = self._load(session_id)
            yield session
            if session is not None and session.removed:
                with self._lock:
                    self._sessions.pop(session_id, None)
                    self._locks.pop(session_id, None)

    def _load(self, session_id: bytes) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None or self._dir is None:
            return session
        # A session of an earlier server on the same data directory.
        try:
            state = json.loads(self._state_path(session_id).read_text())
        except (FileNotFoundError, ValueError):
            return None
        data_path = self._data_path(session_id)
        if not data_path.exists():
            return None
        session = Session(SessionInfo.from_json(state), data_path)
        with self._lock:
            self._sessions[session_id] = session
        return session

    def remove(self, session_id: bytes, session: Session) -> None:
        """Ends a session (completed or cancelled) and discards its staged bytes."""
        session.removed = True
        if self._dir is not None:
            # The state file goes first: without it the session no longer exists.
            with contextlib.suppress(FileNotFoundError):
                self._state_path(session_id).unlink()
            with contextlib.suppress(FileNotFoundError):
                self._data_path(session_id).unlink()
        with self._lock:
            self._sessions.pop(session_id, None)
