"""Checks on the arguments of operations: keys, contents, metadata, expiry, URLs."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import IO, Literal, cast
from urllib.parse import quote

from objectstore_client._duration import ceil_seconds
from objectstore_client._zstd_frames import starts_with_frame
from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.metadata import Compression, Manual, TimeToIdle, TimeToLive
from objectstore_client.presign import MAX_PRESIGN_DURATION, PresignMethod

COMPRESSIONS: tuple[Compression, ...] = ("zstd", "none")

# Control characters cannot be stored by every backend: the filesystem backend cannot
# have NUL in a file name, GCS object names cannot contain CR or LF.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# RFC 9110 `token`: what a header name (after `x-snme-`) may consist of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII and spaces: values sent in headers without encoding (content type).
_HEADER_TEXT = re.compile(r"[\x20-\x7e]*")
# The media types the server accepts (protocol §5.3): `type/subtype`, each a name (1-127
# characters, the first alphanumeric or `*`); a subtype with a `+` is split at its last
# one, and the server checks the suffix without its first character (`a/b+x` is refused,
# `a/b+xy` accepted); then `; name=value` parameters whose value is a token (possibly
# empty) or a quoted string, and an optional trailing `;`. Anything else gets a 400.
_MEDIA_CHAR = r"[A-Za-z0-9!#$&\-^_.+%*']"
_MEDIA_CHAR_NO_PLUS = r"[A-Za-z0-9!#$&\-^_.%*']"
_MEDIA_NAME = rf"[A-Za-z0-9*]{_MEDIA_CHAR}{{0,126}}"
_MEDIA_SUBTYPE = (
    rf"(?:{_MEDIA_NAME}\+{_MEDIA_CHAR_NO_PLUS}[A-Za-z0-9*]{_MEDIA_CHAR_NO_PLUS}{{0,126}}"
    rf"|[A-Za-z0-9*]{_MEDIA_CHAR_NO_PLUS}{{0,126}})"
)
_MEDIA_QUOTED = r'"(?:[^"\\\r\n]|\\[^\r\n])*"'
_MEDIA_PARAM = rf"[ \t]*;[ \t]*{_MEDIA_NAME}=(?:{_MEDIA_CHAR}*|{_MEDIA_QUOTED})"
_MEDIA_TYPE = re.compile(rf"{_MEDIA_NAME}/{_MEDIA_SUBTYPE}(?:{_MEDIA_PARAM})*(?:[ \t]*;)?[ \t]*")

Body = bytes | bytearray | memoryview | IO[bytes]

ExpiryTarget = datetime | tuple[Literal["creation", "now"], timedelta]
"""An expiry extension: an aware deadline, or a lifetime counted from creation or now."""


def type_name(value: object) -> str:
    """The name of a value's type, for messages."""
    return type(value).__name__


def _require_str(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentType(argument, f"must be a str, got {type_name(value)}")
    return value


def _require_utf8(value: str, argument: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(
            argument, "must be valid Unicode text (it contains a lone surrogate)"
        ) from None


def check_key(key: object, argument: str = "key", *, upload: bool = False) -> str:
    """Checks an object key; returns it unchanged.

    A key is any non-empty text, percent-encoded on the wire, without control characters
    or lone surrogates, and without `.` or `..` segments: URL normalisers (browsers
    following `object_url`, proxies) resolve those to another object, even escaped.

    With `upload`, the key of a new object must also have no empty `/`-separated segment
    (no leading, trailing or double `/`): the filesystem backend would store it under the
    same file as another key. Reads, deletes and URLs accept such keys, so objects that
    other clients stored under them stay reachable.
    """
    key = _require_str(key, argument)
    if not key:
        raise InvalidArgument(argument, "must not be empty")
    _require_utf8(key, argument)
    if _CONTROL.search(key):
        raise InvalidArgument(argument, f"must not contain control characters: {key!r}")
    for segment in key.split("/"):
        if upload and not segment:
            raise InvalidArgument(
                argument, f"must not start or end with '/' or contain '//': {key!r}"
            )
        if segment in (".", ".."):
            raise InvalidArgument(argument, f"must not contain '.' or '..' path segments: {key!r}")
    return key


def check_optional_key(key: object) -> str | None:
    """Checks the key of an upload; `None` and `""` both mean "let the server choose"."""
    if key is None or key == "":
        return None
    return check_key(key, upload=True)


def check_usecase_name(name: object) -> str:
    """Checks a usecase name: one non-empty path segment, not `.` or `..`, no controls.

    The server accepts any name; other characters (spaces, `%`, non-ASCII) are
    percent-encoded in requests.
    """
    name = _require_str(name, "name")
    if not name:
        raise InvalidArgument("name", "a usecase name must not be empty")
    _require_utf8(name, "name")
    if "/" in name or name in (".", ".."):
        raise InvalidArgument(
            "name", f"a usecase name must be one path segment (no '/', '.', '..'): {name!r}"
        )
    if _CONTROL.search(name):
        raise InvalidArgument("name", f"must not contain control characters: {name!r}")
    return name


def check_compression(value: object, argument: str = "compression") -> Compression:
    """Checks a compression choice: `"zstd"` or `"none"`."""
    if value not in COMPRESSIONS:
        raise InvalidArgument(argument, f"must be 'zstd' or 'none', got {value!r}")
    return value


def check_expiration_policy(
    value: object, argument: str = "expiration_policy"
) -> TimeToIdle | TimeToLive | Manual | None:
    """Checks an expiration policy: `TimeToLive`, `TimeToIdle`, `Manual` or `None`."""
    if value is None or isinstance(value, TimeToIdle | TimeToLive | Manual):
        return value
    raise InvalidArgumentType(
        argument, f"must be TimeToLive, TimeToIdle, Manual or None, got {type_name(value)}"
    )


def check_text(value: object, argument: str) -> str | None:
    """Checks free text sent percent-encoded in a header (origin, filename)."""
    if value is None:
        return None
    text = _require_str(value, argument)
    _require_utf8(text, argument)
    return text


def check_header_text(value: object, argument: str) -> str | None:
    """Checks text sent as is in a header (content type, user agent): printable ASCII."""
    if value is None:
        return None
    text = _require_str(value, argument)
    if not _HEADER_TEXT.fullmatch(text):
        raise InvalidArgument(argument, f"must be printable ASCII, got {text!r}")
    return text


def check_content_type(value: object) -> str | None:
    """Checks a content type: a media type the server accepts (`type/subtype; name=value`).

    The value is sent exactly as given; the server stores it without normalising it.
    """
    text = check_header_text(value, "content_type")
    if text is not None and not _MEDIA_TYPE.fullmatch(text):
        raise InvalidArgument(
            "content_type", f"must be a media type such as 'text/plain', got {text!r}"
        )
    return text


def check_custom_metadata(metadata: object) -> dict[str, str]:
    """Checks custom metadata: header-token names mapped to text values."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArgumentType(
            "metadata", f"must be a mapping of str to str, got {type_name(metadata)}"
        )
    checked: dict[str, str] = {}
    for name, value in metadata.items():
        if not isinstance(name, str):
            raise InvalidArgumentType("metadata", f"names must be str, got {type_name(name)}")
        if not _TOKEN.fullmatch(name):
            raise InvalidArgument(
                "metadata",
                f"name {name!r} is not a valid header name "
                "(letters, digits and !#$%&'*+-.^_`|~ only)",
            )
        if not isinstance(value, str):
            raise InvalidArgumentType(
                "metadata", f"value of {name!r} must be a str, got {type_name(value)}"
            )
        _require_utf8(value, "metadata")
        checked[name] = value
    return checked


# protocol §1, §14: the server answers 431 to a request head (request line and headers) of
# more than 100 header fields or 8192 + 4096 * 100 bytes, hyper's limits.
MAX_HEADER_FIELDS = 100
MAX_REQUEST_HEAD_BYTES = 8192 + 4096 * 100
# What an upload's metadata may not use: room for the request line and the headers every
# request carries (host, user agent, framing, the auth token, trace propagation, headers
# of an injected pool), generously, so that a check that passes never meets a 431.
RESERVED_HEADER_FIELDS = 16
RESERVED_HEAD_BYTES = 16 * 1024
# The server would store a longer header, but it echoes every metadata header on reads, and
# Python's http.client (under urllib3, so under this SDK) refuses response header lines of
# more than 65536 bytes: such an object could be written but never read back.
MAX_HEADER_LINE_BYTES = 65536


def check_request_head(headers: Mapping[str, str], key: str | None) -> None:
    """Checks that an upload's metadata headers fit the server's request head limits.

    `headers` are the upload's own headers as sent (values already percent-encoded),
    `key` its key (part of the request line). Raises before any I/O instead of letting
    the server refuse the request with 431 (protocol §14).
    """
    fields = len(headers)
    if fields > MAX_HEADER_FIELDS - RESERVED_HEADER_FIELDS:
        raise InvalidArgument(
            "metadata",
            f"this upload has {fields} headers of its own (custom metadata entries, content "
            "type and encoding, expiration, origin and filename take one each); at most "
            f"{MAX_HEADER_FIELDS - RESERVED_HEADER_FIELDS} fit: the server accepts "
            f"{MAX_HEADER_FIELDS} header fields per request (protocol §14) and "
            f"{RESERVED_HEADER_FIELDS} are kept for the headers every request carries",
        )
    size = 0
    for name, value in headers.items():
        # Values are sent percent-encoded, so ASCII almost always: their length is their size.
        encoded = len(value) if value.isascii() else len(value.encode("utf-8"))
        line = len(name) + encoded + 4  # "name: value\r\n"
        if line > MAX_HEADER_LINE_BYTES:
            raise InvalidArgument(
                "metadata",
                f"the {name} header would take {line} bytes as sent (values are "
                "percent-encoded); reads echo it, and Python's HTTP client cannot read a "
                f"header line over {MAX_HEADER_LINE_BYTES} bytes, so the object could not "
                "be read back: store large values in the payload instead",
            )
        size += line
    limit = MAX_REQUEST_HEAD_BYTES - RESERVED_HEAD_BYTES
    if key:
        # Percent-encoding at most triples a key's UTF-8 bytes: quote only a key that may matter.
        most = 3 * len(key.encode("utf-8"))
        size += most if size + most <= limit else len(quote(key, safe="/"))
    if size > limit:
        raise InvalidArgument(
            "metadata",
            f"the upload's metadata and key take {size} bytes of request head, more than the "
            f"{limit} the server's limit of {MAX_REQUEST_HEAD_BYTES} bytes (protocol §14) "
            f"leaves after {RESERVED_HEAD_BYTES} bytes kept for the request's own headers; "
            "values are sent percent-encoded, so non-ASCII text takes up to three bytes a "
            "byte",
        )


def check_contents(contents: object) -> Body:
    """Checks an upload body: bytes-like, or a readable binary file object."""
    if isinstance(contents, bytes | bytearray | memoryview):
        return contents
    if isinstance(contents, str | io.TextIOBase):
        raise InvalidArgumentType("contents", "must be bytes or a binary file, not text")
    if callable(getattr(contents, "read", None)):
        return cast(IO[bytes], contents)
    raise InvalidArgumentType(
        "contents",
        f"must be bytes, bytearray, memoryview or a readable file object, got "
        f"{type_name(contents)}",
    )


def check_precompressed(contents: Body, precompressed: object) -> Compression:
    """Checks `precompressed`; bytes-like contents marked `zstd` must start like zstd.

    Catching a wrong flag here keeps an object from being stored that every reader would
    fail to decompress. Streams are not inspected (that would consume them).
    """
    encoding = check_compression(precompressed, "precompressed")
    if encoding == "zstd" and isinstance(contents, bytes | bytearray | memoryview):
        view = memoryview(contents)
        # Only C-contiguous views can be cast to bytes without copying all of them.
        head = bytes((view.cast("B") if view.c_contiguous else view.tobytes())[:4])
        if head and not starts_with_frame(head):
            raise InvalidArgument(
                "precompressed", "is 'zstd' but contents do not start with a zstd frame"
            )
    return encoding


def check_accept_encoding(accept_encoding: object) -> frozenset[str] | None:
    """Checks the encodings a caller accepts; returns them lower-cased."""
    if accept_encoding is None:
        return None
    # A str is a sequence of characters; "zstd" would otherwise accept "z", "s", ...
    if isinstance(accept_encoding, str) or not isinstance(accept_encoding, Sequence | Set):
        raise InvalidArgumentType(
            "accept_encoding",
            f"must be a list of encodings (see utils.parse_accept_encoding), "
            f"got {type_name(accept_encoding)}",
        )
    accepted = set()
    for encoding in accept_encoding:
        accepted.add(_require_str(encoding, "accept_encoding").strip().lower())
    return frozenset(accepted)


def check_url_validity(duration: object, argument: str, *, presigned: bool = True) -> int:
    """Checks how long a URL stays valid; returns whole seconds, rounded up.

    Raises:
        InvalidArgumentType: `duration` is not a `timedelta`.
        InvalidArgument: `duration` is zero or negative, or (if `presigned`) longer than
            seven days, the server's limit for presigned URLs. Tokens have no such limit.
    """
    if not isinstance(duration, timedelta):
        raise InvalidArgumentType(argument, f"must be a timedelta, got {type_name(duration)}")
    if duration <= timedelta(0):
        raise InvalidArgument(argument, f"must be longer than zero, got {duration}")
    if presigned and duration > MAX_PRESIGN_DURATION:
        raise InvalidArgument(
            argument, f"must be at most {MAX_PRESIGN_DURATION.days} days, got {duration}"
        )
    return ceil_seconds(duration)


def check_presign_method(method: object) -> PresignMethod:
    """Checks a method to presign: `GET` or `HEAD` in any case; returns it upper-cased."""
    method = _require_str(method, "method")
    upper = method.upper()
    if upper == "GET":
        return "GET"
    if upper == "HEAD":
        return "HEAD"
    raise InvalidArgument(
        "method", f"only GET and HEAD can be presigned (the server refuses others), got {method!r}"
    )


def check_expiry_target(at: object, from_creation: object, from_now: object) -> ExpiryTarget:
    """Checks the arguments of `extend_expiry`: exactly one target.

    `at` must be an aware `datetime`; `from_creation` and `from_now` non-negative
    `timedelta`s (zero is valid: the server never shortens a deadline).
    """
    given = [
        name
        for name, value in (("at", at), ("from_creation", from_creation), ("from_now", from_now))
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidArgument(
            "at/from_creation/from_now",
            f"give exactly one of at, from_creation or from_now, got {len(given)}"
            + (f" ({', '.join(given)})" if given else ""),
        )
    if at is not None:
        if not isinstance(at, datetime):
            raise InvalidArgumentType("at", f"must be a datetime, got {type_name(at)}")
        if at.utcoffset() is None:
            raise InvalidArgument(
                "at", f"must be timezone-aware (e.g. datetime.now(UTC)), got naive {at}"
            )
        return at
    argument, delta = (
        ("from_creation", from_creation) if from_creation is not None else ("from_now", from_now)
    )
    if not isinstance(delta, timedelta):
        raise InvalidArgumentType(argument, f"must be a timedelta, got {type_name(delta)}")
    if delta < timedelta(0):
        raise InvalidArgument(argument, f"must not be negative, got {delta}")
    return ("creation" if argument == "from_creation" else "now", delta)
