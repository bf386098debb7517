"""What a failed upload tells its caller: whether the object was stored, and under which key.

Every upload path (put, and the writes of multipart, resumable and batch uploads) runs
its requests inside `upload_outcome(key)`. The transport already sets `stored` on the
errors of requests with a body (`False` when no attempt can have been processed, `None`
otherwise); this adds the key, and lets a caller that knows more (for example that an
earlier step already stored the object) say so with `mark_upload`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from objectstore_client.errors import ObjectstoreError

__all__ = ["KEEP", "mark_upload", "upload_outcome"]

KEEP = object()
"""`mark_upload(..., stored=KEEP)`: leave `stored` as the error has it."""


def mark_upload(error: ObjectstoreError, key: str | None, stored: object = KEEP) -> None:
    """Records on `error` the key of the upload it ended, and optionally `stored`.

    A key already on the error (from an inner upload step) is kept.

    Args:
        error: The error the upload raises.
        key: The key the object was (or would have been) stored under.
        stored: `True`, `False` or `None` (unknown) to set; `KEEP` leaves it.
    """
    if error.key is None:
        error.key = key
    if stored is not KEEP:
        if stored is not None and not isinstance(stored, bool):
            raise TypeError(f"stored must be a bool or None, got {type(stored).__name__}")
        error.stored = stored


@contextmanager
def upload_outcome(key: str | None, stored: object = KEEP) -> Iterator[None]:
    """Marks every `ObjectstoreError` raised inside with `key` (and `stored`, if given).

    Errors raised after the server answered, such as an answer naming another key, keep
    `stored=None` (unknown): an answer that cannot be trusted proves nothing.
    """
    try:
        yield
    except ObjectstoreError as exc:
        mark_upload(exc, key, stored)
        raise
