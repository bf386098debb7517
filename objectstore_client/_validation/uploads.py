"""Checks on the arguments of large uploads: multipart parts and the resumable threshold."""

from __future__ import annotations

from typing import Literal

from objectstore_client._validation.arguments import type_name
from objectstore_client.errors import InvalidArgument, InvalidArgumentType

MAX_PART_NUMBER = 4_294_967_295
"""The highest part number the server accepts (protocol §11.2); the lowest is 1."""


def check_part_number(part_number: object) -> int:
    """Checks a multipart part number: an int from 1 to 4294967295 (protocol §11.2)."""
    if isinstance(part_number, bool) or not isinstance(part_number, int):
        raise InvalidArgumentType("part_number", f"must be an int, got {type_name(part_number)}")
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidArgument(
            "part_number", f"must be from 1 to {MAX_PART_NUMBER}, got {part_number}"
        )
    return part_number


def check_content_length(content_length: object) -> int:
    """Checks a part's declared length: an int of 0 or more."""
    if isinstance(content_length, bool) or not isinstance(content_length, int):
        raise InvalidArgumentType(
            "content_length", f"must be an int, got {type_name(content_length)}"
        )
    if content_length < 0:
        raise InvalidArgument("content_length", f"must not be negative, got {content_length}")
    return content_length


def check_content_md5(content_md5: object) -> bytes | None:
    """Checks a part's MD5 digest: 16 raw bytes, or `None`."""
    if content_md5 is None:
        return None
    if not isinstance(content_md5, bytes | bytearray):
        raise InvalidArgumentType(
            "content_md5", f"must be the 16-byte MD5 digest, got {type_name(content_md5)}"
        )
    if len(content_md5) != 16:
        raise InvalidArgument("content_md5", f"must be 16 bytes, got {len(content_md5)}")
    return bytes(content_md5)


def check_upload_id(upload_id: object) -> str:
    """Checks a multipart upload id: a non-empty str (opaque; the server checks the rest)."""
    if not isinstance(upload_id, str):
        raise InvalidArgumentType("upload_id", f"must be a str, got {type_name(upload_id)}")
    if not upload_id:
        raise InvalidArgument("upload_id", "must not be empty")
    return upload_id


def check_resumable_threshold(threshold: object) -> int | Literal["none"]:
    """Checks a `resumable_threshold_bytes`: an int above 0, or `"none"` (never resumable)."""
    if threshold == "none":
        return "none"
    if isinstance(threshold, str):
        raise InvalidArgument(
            "resumable_threshold_bytes", f"must be 'none' or an int, got {threshold!r}"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise InvalidArgumentType(
            "resumable_threshold_bytes", f"must be an int or 'none', got {type_name(threshold)}"
        )
    if threshold <= 0:
        raise InvalidArgument(
            "resumable_threshold_bytes", f"must be more than 0 (or 'none'), got {threshold}"
        )
    return threshold
