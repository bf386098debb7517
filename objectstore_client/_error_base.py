"""`ObjectstoreError`, the base of every SDK error (public in `objectstore_client.errors`).

Its own module so that the modules defining the errors (`errors`, `_status_errors`) share
it without importing each other.
"""

from __future__ import annotations

from typing import Any, cast

__all__ = ["ObjectstoreError"]


class ObjectstoreError(Exception):
    """Base class of every exception raised by objectstore-client.

    An upload's errors carry `key`, the object's key, and `stored`: `False` if it provably
    was not stored (nothing reached the server, a 4xx refused it), `True` if it was, `None`
    if unknown (broken after sending, a 5xx, an untrusted answer). Elsewhere both `None`.
    """

    stored: bool | None = None
    key: str | None = None

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Whatever a subclass's __reduce__ keeps, the upload outcome crosses processes too.
        rebuild, args, *rest = cast(Any, self.__reduce__())
        outcome = {name: value for name, value in vars(self).items() if name in ("stored", "key")}
        state = {**(rest[0] or {}), **outcome} if rest else outcome
        return (rebuild, args, state, *rest[1:]) if outcome else (rebuild, args, *rest)


# Public under `objectstore_client.errors`: tracebacks, pickles and docs name that path.
ObjectstoreError.__module__ = "objectstore_client.errors"
