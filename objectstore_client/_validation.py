"""Checks on caller input, run before any request is sent.

Each check raises `InvalidArgument` (a `ValueError`) or `InvalidArgumentType` (a
`TypeError`) naming the argument and the rule it breaks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, cast

from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.metadata import Compression, Manual, TimeToIdle, TimeToLive

COMPRESSIONS: tuple[Compression, ...] = ("zstd", "none")

# Control characters cannot be stored by every backend: the filesystem backend cannot
# have NUL in a file name, GCS object names cannot contain CR or LF.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# RFC 9110 `token`: what a header name (after `x-snme-`) may consist of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII and spaces: values sent in headers without encoding (content type).
_HEADER_TEXT = re.compile(r"[\x20-\x7e]*")

Body = bytes | bytearray | memoryview | IO[bytes]


def _type_name(value: object) -> str:
    return type(value).__name__


def _require_str(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentType(argument, f"must be a str, got {_type_name(value)}")
    return value


def _require_utf8(value: str, argument: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(
            argument, "must be valid Unicode text (it contains a lone surrogate)"
        ) from None


def check_key(key: object, argument: str = "key") -> str:
    """Checks an object key; returns it unchanged.

    A key is any non-empty text, percent-encoded on the wire, except keys that would not
    address one object on every server: `/`-separated segments must not be empty (no
    leading, trailing or double `/`) nor `.` or `..` (URL normalisation and the filesystem
    backend would resolve them to another object), and control characters are rejected.
    """
    key = _require_str(key, argument)
    if not key:
        raise InvalidArgument(argument, "must not be empty")
    _require_utf8(key, argument)
    if _CONTROL.search(key):
        raise InvalidArgument(argument, f"must not contain control characters: {key!r}")
    for segment in key.split("/"):
        if not segment:
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
    return check_key(key)


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
        argument, f"must be TimeToLive, TimeToIdle, Manual or None, got {_type_name(value)}"
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


def check_custom_metadata(metadata: object) -> dict[str, str]:
    """Checks custom metadata: header-token names mapped to text values."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidArgumentType(
            "metadata", f"must be a mapping of str to str, got {_type_name(metadata)}"
        )
    checked: dict[str, str] = {}
    for name, value in metadata.items():
        if not isinstance(name, str):
            raise InvalidArgumentType("metadata", f"names must be str, got {_type_name(name)}")
        if not _TOKEN.fullmatch(name):
            raise InvalidArgument(
                "metadata",
                f"name {name!r} is not a valid header name "
                "(letters, digits and !#$%&'*+-.^_`|~ only)",
            )
        if not isinstance(value, str):
            raise InvalidArgumentType(
                "metadata", f"value of {name!r} must be a str, got {_type_name(value)}"
            )
        _require_utf8(value, "metadata")
        checked[name] = value
    return checked


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
        f"{_type_name(contents)}",
    )
