"""`objectstore batch`: a JSON-lines file of operations, one result line per operation.

Each input line is one operation::

    {"op": "put", "key": "a", "file": "a.txt"}           # or "data": "text"
    {"op": "put", "data": "hi", "content_type": "text/plain", "ttl": "1d", "metadata": {}}
    {"op": "get", "key": "a", "file": "out/a.txt"}       # without "file": "data" in the result
    {"op": "head", "key": "a"}
    {"op": "delete", "key": "a"}

Every line is checked before anything is sent: a malformed line is a usage error (exit 2)
naming its line number. Results come out in input order, as JSON lines with `"ok"`.

The operations run through `_OneByOne`, an adapter that issues them one request at a time.
The batch endpoint (protocol §10) is the job of `Session.many()`, which is being built
separately; when it lands, `_OneByOne` is the one place to replace with it.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectstore_client.cli import _files, _settings
from objectstore_client.cli._errors import EXIT_FAILED, EXIT_OK, UsageError, describe, one_line
from objectstore_client.cli._objects import metadata_document
from objectstore_client.metadata import ExpirationPolicy, TimeToIdle, TimeToLive
from objectstore_client.session import Session

_FIELDS = {
    "put": {
        "op",
        "key",
        "file",
        "data",
        "content_type",
        "metadata",
        "ttl",
        "tti",
        "compression",
        "filename",
        "origin",
    },
    "get": {"op", "key", "file"},
    "head": {"op", "key"},
    "delete": {"op", "key"},
}


@dataclass(frozen=True)
class Operation:
    """One checked line of a batch file."""

    line: int
    op: str
    key: str | None
    file: Path | None = None
    data: bytes | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _policy(entry: Mapping[str, Any], where: str) -> ExpirationPolicy | None:
    if "ttl" in entry and "tti" in entry:
        raise UsageError(f"{where}: give either ttl or tti, not both")
    for name, kind in (("ttl", TimeToLive), ("tti", TimeToIdle)):
        if name in entry:
            return kind(_settings.parse_duration(str(entry[name]), f"{where}: {name}"))
    return None


def parse_line(number: int, text: str) -> Operation:
    """Checks one line; raises `UsageError` naming the line and the problem."""
    where = f"batch line {number}"
    try:
        entry = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where}: not JSON ({exc})") from None
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a JSON object")
    op = entry.get("op")
    if op not in _FIELDS:
        raise UsageError(f"{where}: op must be one of put, get, head, delete, got {op!r}")
    unknown = sorted(set(entry) - _FIELDS[op])
    if unknown:
        raise UsageError(f"{where}: unknown field(s) for {op}: {', '.join(unknown)}")
    key = entry.get("key")
    if key is not None and not isinstance(key, str):
        raise UsageError(f"{where}: key must be a string")
    if op != "put" and not key:
        raise UsageError(f"{where}: {op} needs a key")
    file = Path(entry["file"]) if isinstance(entry.get("file"), str) else None
    if op == "put":
        if ("file" in entry) == ("data" in entry):
            raise UsageError(f"{where}: put needs exactly one of file and data")
        data = entry.get("data")
        if "data" in entry and not isinstance(data, str):
            raise UsageError(f"{where}: data must be a string")
        metadata = entry.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise UsageError(f"{where}: metadata must be an object")
        options = {
            "content_type": entry.get("content_type"),
            "metadata": metadata,
            "expiration_policy": _policy(entry, where),
            "compression": entry.get("compression"),
            "filename": entry.get("filename"),
            "origin": entry.get("origin"),
        }
        encoded = data.encode("utf-8") if isinstance(data, str) else None
        return Operation(number, op, key or None, file, encoded, options)
    return Operation(number, op, key, file)


class _OneByOne:
    """Runs operations one request at a time (until `Session.many()` replaces it)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def run(self, operations: list[Operation]) -> Iterator[dict[str, Any]]:
        """Yields one result document per operation, in order."""
        for operation in operations:
            result: dict[str, Any] = {"line": operation.line, "op": operation.op}
            try:
                result.update(self._one(operation))
                result["ok"] = True
            except Exception as exc:
                message, _ = describe(exc)
                result.update(key=operation.key, ok=False, error=one_line(message))
                status = getattr(exc, "status", None)
                if isinstance(status, int):
                    result["status"] = status
            yield result

    def _one(self, operation: Operation) -> dict[str, Any]:
        session = self._session
        key = operation.key
        if operation.op == "put":
            options = dict(operation.options)
            if operation.file is not None:
                with operation.file.open("rb") as file:
                    if not options["content_type"]:
                        options["content_type"] = _files.content_type(file, operation.file.name)
                    return {"key": session.put(file, key=key, **options)}
            return {"key": session.put(operation.data or b"", key=key, **options)}
        assert key is not None  # parse_line requires it for every other operation
        if operation.op == "get":
            with session.get(key) as response:
                if operation.file is None:
                    data = response.payload.read()
                    return {"key": key, "data_base64": base64.b64encode(data).decode()}
                with _files.atomic_output(operation.file) as out:
                    size = 0
                    while chunk := response.payload.read(1 << 20):
                        out.write(chunk)
                        size += len(chunk)
                return {"key": key, "file": str(operation.file), "size": size}
        if operation.op == "head":
            return metadata_document(key, session.head(key))
        session.delete(key)
        return {"key": key}


def batch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Runs every operation of a JSON-lines file; prints one result line per operation."""
    text = _files.read_text(args.file, "batch file")
    operations = [
        parse_line(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()
    ]
    session = _settings.session(_settings.client(args, env), args, env)
    failed = 0
    for result in _OneByOne(session).run(operations):
        failed += not result["ok"]
        print(json.dumps(result), flush=True)
    if failed:
        print(
            f"objectstore: batch: {failed} of {len(operations)} operations failed", file=sys.stderr
        )
    return EXIT_FAILED if failed else EXIT_OK
