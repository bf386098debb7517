"""Local files for the command line: atomic writes, walking directories, content types."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from objectstore_client.cli._errors import UsageError
from objectstore_client.utils import guess_mime_type


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside `target`, renamed onto it only if the block succeeds.

    On any failure the temporary file is removed and `target` is left as it was: a
    download that fails half-way never leaves a truncated file under the target's name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def parent_directories(target: Path) -> Iterator[None]:
    """Creates the missing directories above `target`; removes them again on failure.

    A download into a directory tree that fails leaves no trace, not even empty folders.
    """
    missing = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for directory in missing:  # deepest first
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def walk(directory: Path) -> list[Path]:
    """Every regular file under `directory`, recursively, in a stable order."""
    files: list[Path] = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files.extend(Path(root, name) for name in sorted(names))
    return [path for path in files if path.is_file()]


def key_for(path: Path, base: Path, prefix: str) -> str:
    """The key of a file found under `base`: `prefix` + its relative path with `/`."""
    return prefix + path.relative_to(base).as_posix()


def path_for(key: str, directory: Path, strip_prefix: str) -> Path:
    """Where a key downloads to under `directory`: its `/`-separated segments as folders.

    Keys never have `.` or `..` segments (the SDK refuses them), and empty segments
    (leading, trailing or doubled `/`) are dropped, so the path stays inside `directory`.
    """
    name = key.removeprefix(strip_prefix)
    segments = [segment for segment in name.split("/") if segment]
    if not segments or any(segment in (".", "..") for segment in segments):
        raise UsageError(f"key {key!r} does not name a file under {str(directory)!r}")
    return directory.joinpath(*segments)


def content_type(file: IO[bytes] | None, name: str | None) -> str | None:
    """A media type from the first bytes (`filetype`), else from the file name."""
    if file is not None:
        sniffed = guess_mime_type(file)
        if sniffed:
            return sniffed
    if name:
        guessed, _ = mimetypes.guess_type(name, strict=False)
        return guessed
    return None


def read_text(source: str, what: str) -> str:
    """The text of a file named on the command line (`-`: stdin); unreadable: usage error."""
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read {what} {source!r}: {reason}") from None


def read_keys(source: str) -> list[str]:
    """Keys listed one per line in a file (`-`: stdin); blank lines are skipped."""
    text = read_text(source, "--keys-from file")
    return [line.rstrip("\r\n") for line in text.splitlines() if line.strip()]
