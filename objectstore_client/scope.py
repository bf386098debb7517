"""Scopes: the ordered `name=value` namespace inside a usecase (protocol §2.4)."""

from __future__ import annotations

import string

from objectstore_client.errors import InvalidArgument, InvalidArgumentType

__all__ = ["EMPTY_SCOPES", "SCOPE_VALUE_ALLOWED_CHARS", "Scope"]

# Characters allowed in a scope's names and values: the server's set (protocol §2.4). All are
# URL-safe, so the scope segment is sent without percent-encoding. `.` is excluded because
# storage backends use it to join a name and its value.
SCOPE_VALUE_ALLOWED_CHARS = set(string.ascii_letters + string.digits + "-_()$!+'")

EMPTY_SCOPES = "_"
"""How a scope without components is written in a request path."""

# Sorted, so error messages are the same on every run (a set prints in random order).
_ALLOWED_DESCRIPTION = "".join(sorted(SCOPE_VALUE_ALLOWED_CHARS))


class Scope:
    """An ordered sequence of `name=value` components identifying a namespace.

    Order matters: `Scope(org=1, project=2)` and `Scope(project=2, org=1)` are different
    namespaces. Values may be strings, integers or booleans and are sent as `str(value)`,
    so `org=0` is the scope `org=0`. Names and values must be non-empty and use only the
    characters `A-Z a-z 0-9 - _ ( ) $ ! + '`.

    `str(scope)` returns `name=value` pairs joined by `;`, and the empty string for an empty
    scope, as in objectstore-client 0.0.19; requests write an empty scope as `_`.

    Raises:
        InvalidArgument: A name or value is empty or contains a character outside the set.
        InvalidArgumentType: A value is not a `str`, `int` or `bool`.
    """

    def __init__(self, **scopes: str | int | bool) -> None:
        parts = []
        for name, value in scopes.items():
            _check_component(name, "scope name")
            if not isinstance(value, str | int):
                raise InvalidArgumentType(
                    f"scope {name!r}", f"must be a str, int or bool, got {type(value).__name__}"
                )
            _check_component(str(value), f"scope {name!r}")
            parts.append(f"{name}={value}")
        self._scope = scopes
        self._scope_str = ";".join(parts)

    def __str__(self) -> str:
        return self._scope_str

    def __repr__(self) -> str:
        return f"Scope({', '.join(f'{k}={v!r}' for k, v in self._scope.items())})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scope):
            return NotImplemented
        return self._scope_str == other._scope_str

    def __hash__(self) -> int:
        return hash(self._scope_str)

    def dict(self) -> dict[str, str | int | bool]:
        """Returns the components as given, in order (values are not stringified)."""
        return dict(self._scope)


def _check_component(text: str, argument: str) -> None:
    if not text:
        raise InvalidArgument(argument, "must not be empty")
    invalid = sorted({c for c in text if c not in SCOPE_VALUE_ALLOWED_CHARS})
    if invalid:
        raise InvalidArgument(
            argument,
            f"{text!r} contains {''.join(invalid)!r}; "
            f"allowed characters are {_ALLOWED_DESCRIPTION}",
        )
