"""What a failed upload tells its caller: whether the object was stored, and under which key.

`error.stored` is `False` when the object provably was not stored by the call (nothing
reached the server, or a 4xx refused it, or only a step that stores nothing failed, such
as a multipart part), `True` when it is known to be stored, `None` when that is unknown
(the connection broke after the request was sent, a 5xx that a proxy may have sent after
the server stored, an answer that cannot be trusted). `error.key` is the object's key;
`None` only for `put(..., server_key=True)` before the server named one.

Every upload path (put, and the writes of multipart, resumable and batch uploads) runs
its requests inside `upload_outcome(key)`. The transport already sets `stored` on the
errors of requests with a body (`False` when no attempt can have been processed, `None`
otherwise); this adds the key, and lets a caller that knows more (for example that an
earlier step already stored the object) say so with `mark_upload`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from objectstore_client.errors import ObjectstoreError, RequestError

__all__ = ["KEEP", "mark_upload", "upload_error", "upload_outcome"]

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


def upload_error(error: ObjectstoreError, key: str | None) -> ObjectstoreError:
    """A copy of `error` marked for the upload of `key`, for errors several uploads share.

    A batch request that fails fails each of its uploads with the same error; each gets
    its own copy naming its key (the cause and traceback are kept). A 4xx answer means
    the server refused the upload (`stored=False`); otherwise `stored` stays as the error
    has it (set by the transport, or `None`).
    """
    marked = copy.copy(error)
    marked.__cause__, marked.__traceback__ = error.__cause__, error.__traceback__
    refused = isinstance(error, RequestError) and error.status < 500
    mark_upload(marked, key, False if refused else KEEP)
    return marked
