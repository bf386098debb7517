"""Plans of a resumable upload: create, write, query the offset, cancel (protocol §23).

A resumable upload stores one object over several requests on the object's URL: a create
request fixes the metadata and the stored length, writes append bytes at the server's
offset, and the write that brings the last byte publishes the object (201).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import urllib3

from objectstore_client._plans.request import BodyPlan, RequestPlan
from objectstore_client._protocol import header_number
from objectstore_client.errors import ProtocolError

__all__ = [
    "Complete",
    "Created",
    "Incomplete",
    "plan_cancel",
    "plan_create",
    "plan_probe",
    "plan_write",
    "read_create",
    "read_progress",
]


@dataclass(frozen=True)
class Created:
    """A created upload session."""

    key: str
    """The object's key (chosen by the server for a POST)."""

    session: str
    """The opaque session token."""

    granularity: int
    """The unit the server persists non-final writes in; 0: any size."""


@dataclass(frozen=True)
class Incomplete:
    """The server holds `offset` bytes and wants the rest."""

    offset: int


@dataclass(frozen=True)
class Complete:
    """All bytes arrived: the object is published under `key`."""

    key: str


def plan_create(upload: RequestPlan, length: int) -> RequestPlan:
    """Plans the request that opens a session for a planned put (protocol §23.2).

    `length` is the stored size (after compression). It carries the upload's metadata
    headers and no body. Never replayed: an attempt that got through would leave a
    session nobody uses.
    """
    headers = dict(upload.headers)
    headers["Upload-Length"] = str(length)
    return RequestPlan(
        "resumable.create",
        upload.method,
        upload.key,
        headers,
        query=(("upload_type", "resumable"),),
        idempotent=False,
    )


def _document(response: urllib3.BaseHTTPResponse) -> object:
    try:
        return json.loads(response.data)
    except ValueError:
        return None


def read_create(response: urllib3.BaseHTTPResponse, path: str) -> Created | str:
    """The session from a create answer, or the stored key if the server made none.

    A server without resumable uploads ignores `upload_type` and stores the (empty) body
    as an object, answering `{"key": ...}` without a session: that key is returned.

    Raises:
        ProtocolError: The answer is neither.
    """
    document = _document(response)
    if isinstance(document, dict) and isinstance(document.get("key"), str):
        key, session = document["key"], document.get("session")
        if session is None:
            return str(key)
        granularity = document.get("granularity") or 0
        if isinstance(session, str) and session and isinstance(granularity, int):
            return Created(str(key), session, max(granularity, 0))
    raise ProtocolError(f"{path}: not a resumable session: {response.data[:200]!r}")


def plan_write(key: str, session: str, offset: int, body: BodyPlan) -> RequestPlan:
    """Plans a write of `body` at `offset` (protocol §23.4).

    Not replayed by the transport: after a failure the loop asks the server where to go on.
    """
    return RequestPlan(
        "resumable.put",
        "PUT",
        key,
        {"Upload-Offset": str(offset)},
        body,
        query=(("session", session),),
        idempotent=False,
    )


def plan_probe(key: str, session: str) -> RequestPlan:
    """Plans an offset query (protocol §23.5); it changes nothing, so it may be replayed."""
    return RequestPlan(
        "resumable.progress",
        "PUT",
        key,
        {"Upload-Offset": "*"},
        query=(("session", session),),
        idempotent=True,
    )


def read_progress(response: urllib3.BaseHTTPResponse, path: str) -> Complete | Incomplete:
    """The upload's state after a write or query: 201 with the key, or 204 with the offset.

    Raises:
        ProtocolError: The answer is neither.
    """
    if response.status == 201:
        document = _document(response)
        if isinstance(document, dict) and isinstance(document.get("key"), str):
            return Complete(str(document["key"]))
    offset = response.headers.get("Upload-Offset", "")
    number = header_number(offset)
    if response.status == 204 and number is not None:
        return Incomplete(number)
    raise ProtocolError(
        f"{path}: unexpected answer {response.status} to a resumable write, "
        f"upload-offset {offset!r}: {response.data[:200]!r}"
    )


def plan_cancel(key: str, session: str) -> RequestPlan:
    """Plans the request that discards a session and its bytes (protocol §23.6)."""
    return RequestPlan(
        "resumable.cancel", "DELETE", key, query=(("session", session),), idempotent=True
    )
