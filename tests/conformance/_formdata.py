"""Batch endpoint framing (§10): building requests and strictly parsing responses."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._api import ALL_PERMS, Api, enc_all
from ._wire import HeaderValue, Response

BOUNDARY = "conf-Bound4ry"
RESPONSE_CT = re.compile(r'^multipart/form-data; boundary="(os-boundary-[0-9a-f]{32})"$')
CRLF = b"\r\n"


@dataclass
class Op:
    """One request part."""

    headers: list[tuple[str, HeaderValue]] = field(default_factory=list)
    body: bytes = b""


def op(kind: str | None, key: str | None = None, body: bytes = b"", **meta: str) -> Op:
    """A part with kind and (percent-encoded) key headers; `meta` adds headers (`_` → `-`)."""
    headers: list[tuple[str, HeaderValue]] = []
    if kind is not None:
        headers.append(("x-sn-batch-operation-kind", kind))
    if key is not None:
        headers.append(("x-sn-batch-operation-key", enc_all(key)))
    headers += [(name.replace("_", "-"), value) for name, value in meta.items()]
    return Op(headers, body)


def encode(ops: Sequence[Op], boundary: str = BOUNDARY) -> bytes:
    """A well-formed multipart/form-data body."""
    out = bytearray()
    delim = b"--" + boundary.encode()
    for part in ops:
        out += delim + CRLF
        for name, value in part.headers:
            out += name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
            out += CRLF
        out += CRLF + part.body + CRLF
    out += delim + b"--" + CRLF
    return bytes(out)


@dataclass
class Part:
    """One response part as received."""

    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        assert len(values) <= 1, (name, self.headers)
        return values[0] if values else None

    @property
    def names(self) -> set[str]:
        return {k for k, _ in self.headers}

    @property
    def index(self) -> int:
        value = self.header("x-sn-batch-operation-index")
        assert value is not None, self.headers
        assert value.isdigit(), self.headers
        return int(value)

    @property
    def status(self) -> str:
        value = self.header("x-sn-batch-operation-status")
        assert value is not None, self.headers
        return value

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def json(self) -> Any:
        return json.loads(self.body)


def boundary_of(resp: Response) -> str:
    """The response boundary, after checking the exact quoted content type of §10.3."""
    content_type = resp.header("content-type") or ""
    match = RESPONSE_CT.match(content_type)
    assert match, f"bad batch content-type {content_type!r}"
    return match.group(1)


def _part(segment: bytes) -> Part:
    head, sep, body = segment.partition(CRLF + CRLF)
    assert sep, f"part without header/body separator: {segment[:200]!r}"
    headers = []
    for line in head.split(CRLF):
        name, colon, value = line.decode("latin-1").partition(":")
        assert colon, f"malformed part header line {line!r}"
        headers.append((name, value.strip()))
    return Part(headers, body)


def parse(resp: Response) -> list[Part]:
    """Strictly parse a complete batch response (200, framing and closing delimiter)."""
    assert resp.status == 200, resp
    delim = b"--" + boundary_of(resp).encode()
    body = resp.body
    assert body.startswith(delim), body[:200]
    assert body.endswith(delim + b"--"), f"no close delimiter / trailing bytes: {body[-80:]!r}"
    if body == delim + b"--":
        return []
    segments = body[len(delim) :].split(CRLF + delim)
    assert segments[-1] == b"--", segments[-1][:200]
    parts = []
    for segment in segments[:-1]:
        assert segment.startswith(CRLF), segment[:200]
        parts.append(_part(segment[2:]))
    return parts


def first_part(resp: Response) -> Part:
    """The first complete part of a possibly unterminated batch response."""
    assert resp.status == 200, resp
    delim = b"--" + boundary_of(resp).encode()
    body = resp.body
    assert body.startswith(delim + CRLF), body[:200]
    end = body.find(CRLF + delim, len(delim))
    assert end > 0, f"no complete part in {body[:300]!r}"
    return _part(body[len(delim) + 2 : end])


def by_index(parts: Sequence[Part]) -> dict[int, Part]:
    """Parts keyed by their index header (each index exactly once)."""
    result: dict[int, Part] = {}
    for part in parts:
        assert part.index not in result, f"index {part.index} twice"
        result[part.index] = part
    return result


def send(
    api: Api,
    ops: Sequence[Op] | None = None,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    boundary: str = BOUNDARY,
    permissions: Sequence[str] = ALL_PERMS,
    usecase: str | None = None,
    scopes: str | None = None,
    max_body: int | None = None,
    **kwargs: Any,
) -> Response:
    """POST a batch; `ops` are encoded with `boundary` unless a raw `body` is given."""
    if body is None:
        body = encode(ops or [], boundary)
    if content_type is None:
        content_type = f"multipart/form-data; boundary={boundary}"
    path = api.path(route="objects:batch", usecase=usecase, scopes=scopes)
    return api.request(
        "POST",
        path,
        {"content-type": content_type},
        body,
        permissions=permissions,
        max_body=max_body,
        **kwargs,
    )


def run(api: Api, ops: Sequence[Op], **kwargs: Any) -> dict[int, Part]:
    """Send a batch and return its parts by index, checking one part per operation."""
    parts = parse(send(api, ops, **kwargs))
    result = by_index(parts)
    assert sorted(result) == list(range(len(ops))), sorted(result)
    return result
