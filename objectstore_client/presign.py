"""Presigned URLs: a signed, time-limited GET/HEAD URL that needs no token (protocol §13.6).

A presigned URL carries four query parameters, `os_kid`, `os_timestamp`, `os_duration`
and `os_sig`, where `os_sig` is an Ed25519 signature over the request's canonical form
(`build_canonical_form`). Anyone holding the URL can read that one object until it
expires, with any HTTP client and no SDK; the server refuses other methods. Build them
with `Session.presigned_object_url`.

The server checks the signature against the path it receives, so the URL must reach it
byte for byte: a proxy that strips a base path from `Client(base_url=...)` or rewrites
the percent-encoding breaks it (the server answers 401). The URLs this module builds use
only characters that browsers and HTTP libraries send unchanged.

Presigned URLs are experimental on the server (protocol §13.6).

This module also names the `os_auth` query parameter of token URLs (protocol §13.2), built by
`Session.object_url(key, token_validity=...)`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import quote

if TYPE_CHECKING:
    from objectstore_client.auth import TokenGenerator

__all__ = [
    "MAX_PRESIGN_DURATION",
    "PARAM_AUTH",
    "PARAM_DURATION",
    "PARAM_KID",
    "PARAM_SIG",
    "PARAM_TIMESTAMP",
    "SUPPORTED_METHODS",
    "PresignMethod",
    "build_canonical_form",
    "format_timestamp",
    "presigned_path",
]

PARAM_KID: Final = "os_kid"
"""Query parameter naming the key id the URL was signed with."""

PARAM_TIMESTAMP: Final = "os_timestamp"
"""Query parameter with the signing time, `YYYY-MM-DDTHH:MM:SSZ` in UTC."""

PARAM_DURATION: Final = "os_duration"
"""Query parameter with the validity after `os_timestamp`, in whole seconds."""

PARAM_SIG: Final = "os_sig"
"""Query parameter with the unpadded base64url Ed25519 signature of the canonical form."""

PARAM_AUTH: Final = "os_auth"
"""Query parameter carrying a JWT in token URLs (read only if no auth header is sent)."""

MAX_PRESIGN_DURATION: Final = timedelta(days=7)
"""The longest validity the server accepts for a presigned URL (604 800 s)."""

SUPPORTED_METHODS: Final = ("GET", "HEAD")
"""The methods that can be presigned; one signature serves both."""

PresignMethod = Literal["GET", "HEAD"]
"""A method that can be presigned."""

# Left unescaped in query values besides RFC 3986 unreserved characters. Everything else
# is escaped, so no client re-encodes the query on its way (browsers escape `'` in
# queries) and `+` is never form-decoded to a space by the server.
_QUERY_VALUE_SAFE = ":"


def build_canonical_form(method: str, encoded_path: str, encoded_query: str) -> str:
    """Returns the string a presigned URL's signature covers (protocol §13.6).

    Three lines joined by a newline: the method upper-cased with `HEAD` read as `GET`; the
    path exactly as sent (still percent-encoded); and the query's `name=value` pieces with
    lower-cased names, without `os_sig` and empty pieces, sorted as whole strings and
    joined by `&`. Values are kept as sent.

    Args:
        method: The HTTP method.
        encoded_path: The request path as sent, e.g. `/v1/objects/u/org=1/some%20key`.
        encoded_query: The raw query string as sent, without the `?`.
    """
    upper = method.upper()
    line_method = "GET" if upper == "HEAD" else upper
    pieces = []
    for piece in encoded_query.split("&"):
        if not piece:
            continue
        name, separator, value = piece.partition("=")
        name = name.lower()
        if name == PARAM_SIG:
            continue
        pieces.append(f"{name}{separator}{value}")
    pieces.sort()
    return f"{line_method}\n{encoded_path}\n{'&'.join(pieces)}"


def format_timestamp(instant: datetime) -> str:
    """Formats an aware datetime as `os_timestamp`: `YYYY-MM-DDTHH:MM:SSZ` in UTC.

    Fractions of a second are dropped, so a URL's validity (`os_timestamp` plus
    `os_duration`) ends up to a second before signing time plus duration.
    """
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def presigned_path(
    generator: TokenGenerator,
    method: PresignMethod,
    encoded_path: str,
    duration_seconds: int,
    signed_at: datetime,
) -> str:
    """Returns `encoded_path` with the four presign parameters appended, signed.

    Args:
        generator: Holds the Ed25519 key and its key id.
        method: `GET` or `HEAD`; the signature serves both.
        encoded_path: The path exactly as the server will receive it.
        duration_seconds: Validity after `signed_at`, at most 604 800.
        signed_at: The signing time (an aware datetime); the URL is valid from 60 s
            before it (the server's allowance for clock skew).
    """
    query = "&".join(
        f"{name}={quote(value, safe=_QUERY_VALUE_SAFE)}"
        for name, value in (
            (PARAM_KID, generator.kid),
            (PARAM_TIMESTAMP, format_timestamp(signed_at)),
            (PARAM_DURATION, str(duration_seconds)),
        )
    )
    signature = generator.signature_for_canonical_form(
        build_canonical_form(method, encoded_path, query)
    )
    return f"{encoded_path}?{query}&{PARAM_SIG}={signature}"
