"""The fault matrix: every operation through `FaultProxy` under every fault, judged.

`run_case(server, operation, fault)` stores what the operation needs directly on the
local server, runs the operation through a proxy injecting the fault (client: 2 retries,
500 ms socket timeouts), then reads the server's storage directory to judge the outcome:

* success must come with correct data (sha256 of what was read, or of what is stored);
* an error must be an `ObjectstoreError`; for uploads it must name the key (`error.key`)
  and its `stored` flag must be true to the storage: `True` → the object is there,
  `False` → it is not, `None` → either;
* never wrong data (returned or stored), never an object under a key the caller was not
  given (an orphan), never a call longer than `HANG_SECONDS`.

Adding an operation is one entry in `OPERATIONS`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Literal, cast

import zstandard

from objectstore_client import Client, ObjectstoreError, Session, TimeToLive, Usecase
from objectstore_client.batch import Delete, Get, Head, ObjectData, Put
from objectstore_client.testing import LocalServer
from tests.faults.proxy import Fault, FaultProxy

DATA = random.Random(11).randbytes(256 * 1024)
"""The payload of every case: incompressible, so zstd frames are mostly raw blocks."""

SHA = hashlib.sha256(DATA).hexdigest()
CONTENT_TYPE = "application/x-fault-matrix"
USECASE = "faults"
HANG_SECONDS = 10.0
"""A call taking longer than this counts as a hang (the client's socket timeout is 0.5 s)."""

CLIENT_SETTINGS: dict[str, Any] = {"retries": 2, "timeout_ms": 500}
"""The client under test: short timeouts so that stalls end quickly."""

Kind = Literal["upload", "read", "head", "delete", "extend"]


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: readable, not seekable, so its upload cannot be replayed."""

    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _multipart(session: Session, key: str) -> str:
    upload = session.initiate_multipart_upload(key=key)
    half = len(DATA) // 2
    parts = [
        upload.put_part(DATA[:half], part_number=1, content_length=half),
        upload.put_part(DATA[half:], part_number=2, content_length=len(DATA) - half),
    ]
    return upload.complete(parts)


def _resumable(session: Session, key: str) -> str:
    return session.put(DATA, key=key, resumable_threshold_bytes=1)


def _batch(operation: Any) -> Callable[[Session, str], Any]:
    """Runs one batch operation; raises its error, as the other operations do."""

    def run(session: Session, key: str) -> Any:
        result = session.many([operation(key)])[0]
        if result.error is not None:
            raise result.error
        return result.value.data if isinstance(result.value, ObjectData) else result.value

    return run


def _read(session: Session, key: str) -> bytes:
    with session.get(key) as response:
        return response.payload.read()


@dataclass(frozen=True)
class Operation:
    """One operation of the matrix.

    Attributes:
        name: Its name in the matrix.
        kind: How success is judged.
        run: Performs it through `session` on `key`; uploads return the key they report.
        metric: The operation's name in `storage.<metric>.*` metrics.
        prestored: Store `DATA` under `key` (directly, not through the proxy) first.
        fault_at: Which of its requests (from 0) the fault hits, for operations of
            several requests.
    """

    name: str
    kind: Kind
    run: Callable[[Session, str], Any]
    metric: str
    prestored: bool = False
    fault_at: int = 0


OPERATIONS: tuple[Operation, ...] = (
    Operation("put_key", "upload", lambda s, k: s.put(DATA, key=k), "put"),
    Operation("put_no_key", "upload", lambda s, k: s.put(DATA), "put"),
    Operation("put_stream", "upload", lambda s, k: s.put(io.BytesIO(DATA), key=k), "put"),
    Operation(
        "put_unseekable_stream",
        "upload",
        lambda s, k: s.put(cast(IO[bytes], _Unseekable(DATA)), key=k),
        "put",
    ),
    Operation("multipart_initiate", "upload", _multipart, "multipart.initiate"),
    Operation("multipart_part", "upload", _multipart, "multipart.put_part", fault_at=1),
    Operation("multipart_complete", "upload", _multipart, "multipart.complete", fault_at=3),
    Operation("resumable_create", "upload", _resumable, "put"),
    Operation("resumable_write", "upload", _resumable, "put", fault_at=1),
    Operation("batch_put", "upload", _batch(lambda k: Put(DATA, key=k)), "batch"),
    Operation("batch_put_no_key", "upload", _batch(lambda k: Put(DATA)), "batch"),
    Operation("batch_get", "read", _batch(Get), "batch", prestored=True),
    Operation("batch_head", "head", _batch(Head), "batch", prestored=True),
    Operation("batch_delete", "delete", _batch(Delete), "batch", prestored=True),
    Operation("get", "read", _read, "get", prestored=True),
    Operation("head", "head", lambda s, k: s.head(k), "head", prestored=True),
    Operation("delete", "delete", lambda s, k: s.delete(k), "delete", prestored=True),
    Operation(
        "extend_expiry",
        "extend",
        lambda s, k: s.extend_expiry(k, from_now=timedelta(hours=5)),
        "extend_expiry",
        prestored=True,
    ),
)
"""Every operation of the matrix."""


@dataclass
class Outcome:
    """What one case did, and what was wrong with it (`problems`, empty when sound)."""

    operation: str
    fault: str
    error: str | None
    stored: bool | None
    requests: int
    elapsed: float
    applied: bool
    upload: bool
    problems: list[str] = field(default_factory=list)

    def cell(self) -> str:
        """The case in the report's table: outcome, `stored` for uploads, requests seen."""
        if self.problems:
            text = "**" + "; ".join(self.problems) + "**"
        elif self.error is None:
            text = "ok"
        else:
            text = self.error + (f" s={self.stored}" if self.upload else "")
        prefix = "" if self.applied else "n/a: "
        return f"{prefix}{text} ({self.requests})"


@dataclass(frozen=True)
class _Stored:
    sha: str
    meta: dict[str, Any]
    path: Path


def _scope(operation: Operation, fault: Fault) -> dict[str, str]:
    return {"org": "1", "case": f"{operation.name}-{fault.name}"}


def stored_objects(server: LocalServer, scope: dict[str, str]) -> dict[str, _Stored]:
    """The objects the server holds in `scope` of `USECASE`, read from its storage files."""
    assert server.data_dir is not None
    wanted = [USECASE, [list(pair) for pair in scope.items()]]
    found: dict[str, _Stored] = {}
    for path in (server.data_dir / "objects").glob("*"):
        with open(path, "rb") as file:
            header = json.loads(file.readline())
            payload = file.read()
        usecase, scopes, key = header["id"]
        if [usecase, scopes] != wanted:
            continue
        if header["meta"].get("content_encoding") == "zstd":
            try:
                reader = zstandard.ZstdDecompressor().stream_reader(
                    payload, read_across_frames=True
                )
                payload = reader.read()
            except zstandard.ZstdError:
                payload = b"<undecodable zstd>"
        found[key] = _Stored(hashlib.sha256(payload).hexdigest(), header["meta"], path)
    return found


def prestore(server: LocalServer, scope: dict[str, str], key: str) -> None:
    """Stores `DATA` under `key` directly (not through a proxy), expiring in an hour."""
    with Client(server.url) as direct:
        direct.session(Usecase(USECASE), **scope).put(
            DATA,
            key=key,
            content_type=CONTENT_TYPE,
            expiration_policy=TimeToLive(timedelta(hours=1)),
        )


def upstream_of(server: LocalServer) -> tuple[str, int]:
    """The loopback address a proxy forwards to."""
    return ("127.0.0.1", server.port)


def run_case(server: LocalServer, operation: Operation, fault: Fault) -> Outcome:
    """Runs `operation` through a proxy injecting `fault` and judges the outcome."""
    scope = _scope(operation, fault)
    key = f"obj-{uuid.uuid4().hex[:12]}"
    usecase = Usecase(USECASE)
    if operation.prestored:
        prestore(server, scope, key)
    before = stored_objects(server, scope)
    value: Any = None
    error: BaseException | None = None
    faulted = dataclasses.replace(fault, skip=operation.fault_at)
    with FaultProxy(upstream_of(server), faulted) as proxy:
        with Client(proxy.url, **CLIENT_SETTINGS) as client:
            started = time.monotonic()
            try:
                value = operation.run(client.session(usecase, **scope), key)
            except Exception as exc:
                error = exc
            elapsed = time.monotonic() - started
        requests, applied = proxy.requests, "applied" in proxy.applied
    after = stored_objects(server, scope)
    outcome = Outcome(
        operation.name,
        fault.name,
        None if error is None else type(error).__name__,
        getattr(error, "stored", None),
        requests,
        elapsed,
        applied,
        operation.kind == "upload",
    )
    outcome.problems = _judge(operation, key, value, error, before, after, elapsed)
    for stored in after.values():
        stored.path.unlink(missing_ok=True)
    return outcome


def _judge(
    operation: Operation,
    key: str,
    value: Any,
    error: BaseException | None,
    before: dict[str, _Stored],
    after: dict[str, _Stored],
    elapsed: float,
) -> list[str]:
    problems: list[str] = []
    if elapsed > HANG_SECONDS:
        problems.append(f"hang ({elapsed:.1f} s)")
    if error is not None and not isinstance(error, ObjectstoreError):
        problems.append(f"untyped {type(error).__name__}: {error}")
    if any(stored.sha != SHA for stored in after.values()):
        problems.append("wrong data stored")
    known = {key}
    if operation.kind == "upload":
        target = value if error is None else getattr(error, "key", None)
        if isinstance(target, str):
            known.add(target)
        problems += _judge_upload(operation, key, target, error, before, after)
    if set(after) - known:
        problems.append(f"orphan {sorted(set(after) - known)}")
    if error is None:
        problems += _judge_success(operation.kind, key, value, after)
    return problems


def _judge_upload(
    operation: Operation,
    key: str,
    target: str | None,
    error: BaseException | None,
    before: dict[str, _Stored],
    after: dict[str, _Stored],
) -> list[str]:
    if error is None:
        if target not in after:
            return ["reported stored, not stored"]
        return [] if operation.name.endswith("no_key") or target == key else ["another key"]
    if target is None:
        return ["error names no key"]
    stored = getattr(error, "stored", None)
    if stored is True and target not in after:
        return ["stored=True, not stored"]
    if stored is False and target in after and target not in before:
        return ["stored=False, but stored"]
    return []


def _judge_success(kind: Kind, key: str, value: Any, after: dict[str, _Stored]) -> list[str]:
    if kind == "read" and hashlib.sha256(value).hexdigest() != SHA:
        return ["wrong data returned"]
    if kind == "head" and value.content_type != CONTENT_TYPE:
        return ["wrong metadata returned"]
    if kind == "delete" and key in after:
        return ["deleted, still stored"]
    if kind == "extend":
        policy = after[key].meta.get("policy") if key in after else None
        if not policy or policy[0] != "ttl" or policy[1] < 5 * 3600 - 60:
            return [f"expiry not extended: {policy}"]
    return []
