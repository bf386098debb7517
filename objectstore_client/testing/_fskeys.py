"""How the filesystem backend's keys behave, emulated without building any path from a key.

The real filesystem backend appends the key to a directory path (protocol §2.5, §19 item 13), so
`x/../y` aliases `y`, `a//b` aliases `a/b`, a key ending in `/` cannot be written, `a` and
`a/b` cannot coexist, and each component is limited to 255 bytes. With
`semantics="filesystem"` the local server reproduces those outcomes by normalising keys and
keeping an index of the "files" it has written. It never touches a real path derived from a
key, and a key whose `..` segments would climb out of the object directory (a hole in the
real backend) is refused with the same 500 instead.

The index lives in memory: a server restarted on an existing data directory does not know
the earlier objects' paths for conflict checks (objects themselves are still served).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from objectstore_client.testing._responses import HTTPFailure, json_error

Access = Literal["read", "write", "delete"]
_Scope = tuple[str, tuple[tuple[str, str], ...]]


def _io_error(message: str) -> HTTPFailure:
    return HTTPFailure(json_error(500, "service error", "i/o error", message))


_NOT_A_DIRECTORY = "Not a directory (os error 20)"
_IS_A_DIRECTORY = "Is a directory (os error 21)"
_NAME_TOO_LONG = "File name too long (os error 36)"
_ESCAPES = "Permission denied (os error 13)"


class FilesystemKeys:
    """Normalises keys like a path join and reports the file/directory conflicts (§2.5)."""

    def __init__(self) -> None:
        self._files: dict[_Scope, set[tuple[str, ...]]] = {}
        self._directories: dict[_Scope, dict[tuple[str, ...], int]] = {}
        self._lock = threading.Lock()

    def resolve(self, scope: _Scope, key: str, access: Access) -> str:
        """The key the object is really stored under; raises the backend's 500 on conflicts."""
        parts: list[str] = []
        for part in key.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise _io_error(_ESCAPES)
                parts.pop()
                continue
            if len(part.encode()) > 255:
                raise _io_error(_NAME_TOO_LONG)
            parts.append(part)
        path = tuple(parts)
        trailing = key.endswith("/")
        with self._lock:
            self._check(scope, path, access)
            if trailing and (access == "write" or path in self._files.get(scope, set())):
                files = self._files.get(scope, set())
                raise _io_error(_NOT_A_DIRECTORY if path in files else _IS_A_DIRECTORY)
        return "/".join(path)

    def _check(self, scope: _Scope, path: tuple[str, ...], access: Access) -> None:
        """Raises the backend's 500 if `path` is under a file or is a directory."""
        files = self._files.get(scope, set())
        directories = self._directories.get(scope, {})
        if any(path[:i] in files for i in range(1, len(path))):
            raise _io_error(_NOT_A_DIRECTORY)
        if path in directories or (not path and access == "write"):
            raise _io_error(_IS_A_DIRECTORY)

    @contextmanager
    def writing(self, scope: _Scope, key: str) -> Iterator[None]:
        """Held around the swap of a write of `key` (as returned by `resolve`).

        The conflicts are checked again, and the file recorded, atomically with the swap:
        `resolve` runs before the body arrives, and a conflicting key (`a` against `a/b`)
        may have been written meanwhile; on a real filesystem only one of them can exist.
        """
        path = tuple(key.split("/"))
        with self._lock:
            self._check(scope, path, "write")
            yield
            self._add(scope, path)

    @contextmanager
    def deleting(self, scope: _Scope, key: str) -> Iterator[None]:
        """Held around the removal of file `key`, recorded atomically with it."""
        path = tuple(key.split("/"))
        with self._lock:
            yield
            self._remove(scope, path)

    def _add(self, scope: _Scope, path: tuple[str, ...]) -> None:
        files = self._files.setdefault(scope, set())
        if path in files:
            return
        files.add(path)
        directories = self._directories.setdefault(scope, {})
        for i in range(1, len(path)):
            directories[path[:i]] = directories.get(path[:i], 0) + 1

    def _remove(self, scope: _Scope, path: tuple[str, ...]) -> None:
        files = self._files.get(scope, set())
        if path not in files:
            return
        files.discard(path)
        directories = self._directories[scope]
        for i in range(1, len(path)):
            directories[path[:i]] -= 1
            if not directories[path[:i]]:
                del directories[path[:i]]
