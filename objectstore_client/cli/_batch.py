"""`objectstore batch`: a JSON-lines file of operations, one result line per operation.

Each input line is one operation::

    {"op": "put", "key": "a", "file": "a.txt"}           # or "data": "text"
    {"op": "put", "data": "hi", "content_type": "text/plain", "ttl": "1d", "metadata": {}}
    {"op": "get", "key": "a", "file": "out/a.txt"}       # without "file": "data" in the result
    {"op": "head", "key": "a"}
    {"op": "delete", "key": "a"}

Every line is checked before anything is sent: a malformed line is a usage error (exit 2)
naming its line number. Results come out in input order, as JSON lines with `"ok"`.

The operations run through `Session.many()`: up to 1,000 per batch request (protocol §10),
larger uploads as their own requests. The server runs the operations of one request in no
particular order, so the file is cut into consecutive rounds in which no key is both
written (put, delete) and otherwise used: the file's order holds wherever it matters.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from objectstore_client import batch as batch_api
from objectstore_client.cli import _files, _settings
from objectstore_client.cli._errors import EXIT_FAILED, EXIT_OK, UsageError, describe, one_line
from objectstore_client.cli._objects import metadata_document
from objectstore_client.metadata import ExpirationPolicy, Metadata, TimeToIdle, TimeToLive

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


def _sdk_operation(operation: Operation, files: contextlib.ExitStack) -> batch_api.Operation:
    """The `Session.many` operation for a checked line; opens a put's file in `files`."""
    key = operation.key
    if operation.op == "put":
        options = dict(operation.options)
        if operation.file is not None:
            file = files.enter_context(operation.file.open("rb"))
            if not options["content_type"]:
                options["content_type"] = _files.content_type(file, operation.file.name)
            return batch_api.Put(file, key=key, **options)
        return batch_api.Put(operation.data or b"", key=key, **options)
    assert key is not None  # parse_line requires it for every other operation
    if operation.op == "get":
        return batch_api.Get(key)
    if operation.op == "head":
        return batch_api.Head(key)
    return batch_api.Delete(key)


def rounds(operations: list[Operation]) -> list[list[Operation]]:
    """Consecutive runs of operations in which no key is written and also used otherwise.

    A `many()` call may run its operations in any order; cutting where a key written in
    the current run comes up again (or a key used comes up in a write) keeps every
    read-after-write, write-after-read and write-after-write in the file's order.
    """
    result: list[list[Operation]] = []
    current: list[Operation] = []
    used: set[str] = set()
    written: set[str] = set()
    for operation in operations:
        key = operation.key
        writes = operation.op in ("put", "delete")
        if key is not None and (key in written or (writes and key in used)):
            result.append(current)
            current, used, written = [], set(), set()
        current.append(operation)
        if key is not None:
            used.add(key)
            if writes:
                written.add(key)
    if current:
        result.append(current)
    return result


def _document(operation: Operation, result: batch_api.OperationResult) -> dict[str, Any]:
    """The output line of one result; a get with a `file` writes it (atomically) here."""
    document: dict[str, Any] = {"line": operation.line, "op": operation.op}
    try:
        value = result.unwrap()
        if isinstance(value, batch_api.ObjectData):
            if operation.file is None:
                document.update(
                    key=operation.key, data_base64=base64.b64encode(value.data).decode()
                )
            else:
                with _files.atomic_output(operation.file) as out:
                    out.write(value.data)
                document.update(key=operation.key, file=str(operation.file), size=len(value.data))
        elif isinstance(value, Metadata):
            assert operation.key is not None
            document.update(metadata_document(operation.key, value))
        else:
            document["key"] = value if operation.op == "put" else operation.key
        document["ok"] = True
    except Exception as exc:
        message, _ = describe(exc)
        document.update(key=operation.key, ok=False, error=one_line(message))
        status = getattr(exc, "status", None)
        if isinstance(status, int):
            document["status"] = status
    return document


def batch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Runs every operation of a JSON-lines file; prints one result line per operation."""
    text = _files.read_text(args.file, "batch file")
    operations = [
        parse_line(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()
    ]
    if not operations:
        raise UsageError(f"batch file {args.file!r} has no operations")
    session = _settings.session(_settings.client(args, env), args, env)
    failed = 0
    for run in rounds(operations):
        with contextlib.ExitStack() as files:
            results = session.many([_sdk_operation(operation, files) for operation in run])
        for operation, result in zip(run, results, strict=True):
            document = _document(operation, result)
            failed += not document["ok"]
            print(json.dumps(document), flush=True)
    if failed:
        print(
            f"objectstore: batch: {failed} of {len(operations)} operations failed", file=sys.stderr
        )
    return EXIT_FAILED if failed else EXIT_OK
