"""How the command line fails: exit statuses and one-line messages."""

from __future__ import annotations

from objectstore_client.errors import (
    ArgumentError,
    ConnectError,
    ObjectNotFound,
    ObjectstoreError,
    RequestError,
)

EXIT_OK = 0
"""Everything asked for was done."""

EXIT_FAILED = 1
"""An operation failed: a missing object, a refused request, an unreachable server, a file
that could not be read or written."""

EXIT_USAGE = 2
"""The command line or the settings are wrong (argparse's status for usage errors): an
unknown option, a malformed scope or duration, an invalid usecase name or key, a key file
that cannot be read."""


class CliError(Exception):
    """A failure reported as one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


class UsageError(CliError):
    """The command line or the settings are wrong (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def describe(error: BaseException) -> tuple[str, int]:
    """The one-line message and exit status for an expected failure."""
    if isinstance(error, CliError):
        return str(error), error.status
    if isinstance(error, ArgumentError):
        return str(error), EXIT_USAGE
    if isinstance(error, ObjectNotFound):
        return f"not found: {error}", EXIT_FAILED
    if isinstance(error, ConnectError):
        return f"cannot reach the server: {error}", EXIT_FAILED
    if isinstance(error, RequestError | ObjectstoreError):
        return str(error), EXIT_FAILED
    if isinstance(error, OSError):
        where = f" {error.filename!r}" if error.filename else ""
        return f"{error.strerror or error}{':' if where else ''}{where}", EXIT_FAILED
    return f"{type(error).__name__}: {error}", EXIT_FAILED


def one_line(message: str) -> str:
    """`message` on one line: server details may contain newlines."""
    return " ".join(message.split())
