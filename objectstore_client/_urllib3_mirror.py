"""Exception classes that are also urllib3's, so handlers written for 0.2.x still match.

`errors.TransportError.from_urllib3` uses this: an SDK error class is combined with the
urllib3 exception classes of the failure into one class, created once and reused.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
from typing import Any, TypeVar

import urllib3
from urllib3.exceptions import MaxRetryError

E = TypeVar("E", bound=Exception)

_MIRRORS: dict[tuple[type[Exception], tuple[type[BaseException], ...]], type[Any]] = {}
_MIRRORS_LOCK = threading.Lock()


def mirror_class(ours: type[E], theirs: tuple[type[BaseException], ...]) -> type[E]:
    """The subclass of `ours` and of each of `theirs`, created once and then reused.

    It keeps the name of `ours`, so tracebacks read as before. It is pickled through
    `_rebuild_mirror`, which finds the same class again.
    """
    if not theirs:
        return ours
    with _MIRRORS_LOCK:
        mirror: type[E] | None = _MIRRORS.get((ours, theirs))
        if mirror is None:
            namespace = {
                "__module__": ours.__module__,
                "__qualname__": ours.__qualname__,
                "__doc__": ours.__doc__,
                "__init__": _mirror_init,
                "__str__": _mirror_str,
                "__repr__": _mirror_repr,
                "__reduce__": _mirror_reduce,
                "_mirrored": (ours, theirs),
            }
            try:
                mirror = type(ours.__name__, (ours, *theirs), namespace)
            except TypeError:
                # Incompatible layouts or method orders: keep the SDK's class alone.
                mirror = ours
            _MIRRORS[(ours, theirs)] = mirror
    return mirror


def _mirror_init(self: Exception, message: str) -> None:
    # urllib3's constructors take pools and connections; only the message is ours.
    Exception.__init__(self, message)


def _mirror_str(self: Exception) -> str:
    return str(self.args[0]) if self.args else ""


def _mirror_repr(self: Exception) -> str:
    return f"{type(self).__name__}({_mirror_str(self)!r})"


def _mirror_reduce(self: Exception) -> tuple[Any, ...]:
    ours, theirs = type(self)._mirrored  # type: ignore[attr-defined]
    state = {name: vars(self).get(name) for name in ("url", "reason")}
    try:
        pickle.dumps(state["reason"])
    except Exception:
        # A reason holding a live connection or socket cannot cross processes; the
        # message still names it.
        state["reason"] = None
    return (_rebuild_mirror, (ours, theirs, _mirror_str(self)), state)


def _rebuild_mirror(
    ours: type[Exception], theirs: tuple[type[BaseException], ...], message: str
) -> Exception:
    return mirror_class(ours, theirs)(message)


def set_urllib3_attributes(error: Exception, url: str | None, reason: object) -> None:
    # `pool` is a read-only property of NewConnectionError (an alias of `conn`).
    for name, value in (("url", url), ("reason", reason), ("pool", None), ("conn", None)):
        with contextlib.suppress(AttributeError):
            setattr(error, name, value)


def mirror_error(ours: type[E], message: str, error: BaseException) -> E:
    """An `ours` with `message` that is also an instance of urllib3's `error`.

    objectstore-client 0.2.x let urllib3's exceptions through: a refused connection
    raised `MaxRetryError` whose `reason` is a `NewConnectionError`, a read timeout
    `MaxRetryError` (`reason` a `ReadTimeoutError`) or, for a POST or while reading a
    download, the bare `ReadTimeoutError`; a dropped connection `ProtocolError`,
    likewise. The returned error is an instance of `type(error)` and, if `error` is a
    `MaxRetryError`, of the type of its `reason` as well, with urllib3's attributes
    (`reason`, `url`; `pool` and `conn` are `None`). So `except
    urllib3.exceptions.HTTPError`, `except MaxRetryError` followed by a look at
    `reason`, and `except ReadTimeoutError` catch what they caught before. None of
    urllib3's exceptions is an `OSError`, so neither is the result (unless `error`
    itself was one).
    """
    reason = getattr(error, "reason", None) if isinstance(error, MaxRetryError) else None
    theirs: list[type[BaseException]] = []
    for candidate in (error, reason):
        if not isinstance(candidate, urllib3.exceptions.HTTPError | OSError):
            continue
        kind = type(candidate)
        if not any(issubclass(known, kind) for known in theirs):
            theirs.append(kind)
    mirror = mirror_class(ours, tuple(theirs))
    copy = mirror(message)
    if mirror is not ours:
        set_urllib3_attributes(copy, getattr(error, "url", None), reason)
    return copy
