"""The wire protocol without I/O: request paths, request headers, response bodies.

Everything here is pure, so it is tested without a socket and shared by every operation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from objectstore_client.errors import ProtocolError
from objectstore_client.metadata import (
    HEADER_EXPIRATION,
    HEADER_FILENAME,
    HEADER_META_PREFIX,
    HEADER_ORIGIN,
    Compression,
    Manual,
    TimeToIdle,
    TimeToLive,
    format_expiration,
    format_timedelta,
)
from objectstore_client.scope import EMPTY_SCOPES, Scope
from objectstore_client.utils import encode_header_value

# Left unescaped in paths: RFC 3986 unreserved characters (always kept by `quote`), the
# sub-delims and `:` `@` (protocol §2.6). Everything else, `%` included, becomes `%XX`, so the
# server's percent-decoding gives back exactly the key we were given. urllib3 leaves
# these characters alone, so the path reaches the server byte for byte.
_SEGMENT_SAFE = ":@!$&'()*+,;="
_PATH_SAFE = _SEGMENT_SAFE + "/"

_DEFAULT_PORTS = {"http": 80, "https": 443}

# A valid escape, or a character that cannot appear raw in a path.
_PATH_ESCAPE_OR_UNSAFE = re.compile(
    r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~" + re.escape(_PATH_SAFE) + "]"
)


def encode_segment(text: str) -> str:
    """Percent-encodes one path segment; `/` is encoded too."""
    return quote(text, safe=_SEGMENT_SAFE)


def encode_key(key: str) -> str:
    """Percent-encodes an object key, keeping `/` as the segment separator."""
    return quote(key, safe=_PATH_SAFE)


def scope_segment(scope: Scope) -> str:
    """The scope as written in a path: `org=1;project=2`, or `_` when empty."""
    return str(scope) or EMPTY_SCOPES


def normalize_base_path(base_path: str) -> str:
    """Writes a base path as urllib3 sends it, so that it stays the same on the wire.

    Escapes are upper-cased; characters not allowed raw in a path (and a `%` that starts
    no escape) are percent-encoded. Presigned URLs sign the path as sent, so it must not
    change on the way to the server.
    """
    return _PATH_ESCAPE_OR_UNSAFE.sub(
        lambda match: match[0].upper() if len(match[0]) == 3 else quote(match[0], safe=""),
        base_path,
    )


def object_path(
    base_path: str, usecase: str, scope: Scope, key: str | None, endpoint: str = "objects"
) -> str:
    """The path of an object, or of the usecase+scope collection when `key` is `None`.

    The collection path ends in `/`; a server-generated key is requested with a POST there.
    `endpoint` is the route family (protocol §2.1): `objects`, `objects:batch`,
    `objects:multipart`, `objects:multipart:parts` or `objects:multipart:complete`.
    """
    prefix = base_path.rstrip("/")
    collection = f"{prefix}/v1/{endpoint}/{encode_segment(usecase)}/{scope_segment(scope)}/"
    return collection if key is None else collection + encode_key(key)


def url_origin(scheme: str, host: str, port: int | None) -> str:
    """`scheme://host[:port]`, with IPv6 hosts bracketed and default ports left out.

    An IPv6 zone id is written after `%25`, as RFC 6874 requires in URLs.
    """
    if ":" in host and not host.startswith("["):
        # urllib3 keeps a zone id as `fe80::1%eth0`; in a URL its `%` must be written
        # `%25` (RFC 6874), or the zone would read as a percent-escape.
        address, percent, zone = host.partition("%")
        if percent:
            host = f"{address}%25{quote(zone, safe='')}"
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def put_headers(
    *,
    compression: Compression,
    content_type: str | None,
    expiration_policy: TimeToIdle | TimeToLive | Manual | None,
    origin: str | None,
    filename: str | None,
    metadata: Mapping[str, str],
) -> dict[str, str]:
    """The metadata headers of an upload (protocol §5.1); free text is percent-encoded."""
    headers: dict[str, str] = {}
    if compression == "zstd":
        headers["Content-Encoding"] = "zstd"
    if content_type is not None:
        headers["Content-Type"] = content_type
    if expiration_policy is not None:
        headers[HEADER_EXPIRATION] = format_expiration(expiration_policy)
    if origin is not None:
        headers[HEADER_ORIGIN] = encode_header_value(origin)
    if filename is not None:
        headers[HEADER_FILENAME] = encode_header_value(filename)
    for name, value in metadata.items():
        headers[f"{HEADER_META_PREFIX}{name}"] = encode_header_value(value)
    return headers


U64_LIMIT = 2**64
"""The server reads sizes, offsets and range bounds as unsigned 64-bit numbers (protocol §7):
every one it accepts or sends is below this."""


def decimal(text: str) -> int | None:
    """ASCII digits as a number, at most `U64_LIMIT`; `None` for anything else.

    ASCII only: `"²".isdigit()` is true, but `int("²")` raises. Larger numbers come back as
    `U64_LIMIT`: Python refuses to convert more than 4,300 digits, and every reader of
    these numbers (here and in the local server) refuses all of them alike.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0")
    return min(int(significant or "0"), U64_LIMIT) if len(significant) <= 20 else U64_LIMIT


def header_number(value: str | None) -> int | None:
    """A header's non-negative decimal number (`decimal`); `None` if absent or not one."""
    return None if value is None else decimal(value)


def parse_key_response(body: bytes, method: str, path: str) -> str:
    """Extracts the key from the JSON body `{"key": ...}` of a successful upload.

    Raises:
        ProtocolError: The body is not such a document.
    """
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    key = document.get("key") if isinstance(document, dict) else None
    if not isinstance(key, str) or not key:
        raise ProtocolError(
            f"{method} {path} succeeded but the response has no key: {body[:200]!r}"
        )
    return key


def extend_expiry_body(target: datetime | tuple[Literal["creation", "now"], timedelta]) -> bytes:
    """The JSON body of an extend-expiry `PATCH` (protocol §18.2).

    `{"extend_expiry": {"at": "<ISO 8601 in UTC>"}}` for a deadline, or
    `{"extend_expiry": {"after": "<Nd Nh Nm Ns>", "from": "creation" | "now"}}`.
    """
    extension: dict[str, str]
    if isinstance(target, datetime):
        extension = {"at": target.astimezone(UTC).isoformat()}
    else:
        anchor, after = target
        extension = {"after": format_timedelta(after), "from": anchor}
    return json.dumps({"extend_expiry": extension}).encode()
