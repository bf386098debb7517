"""What `get` and `head` do about a missing object: `Client(missing="raise" | "none")`.

`"raise"` (the default, as in objectstore-client 0.0.19) raises `ObjectNotFound`; `"none"`
returns `None`, as 0.2.x does. `Client` and `Session` are generic over the mode so that a
type checker knows which: `Client(url)` is a `Client[Literal["raise"]]` whose `get`
returns `GetResponse`, `Client(url, missing="none")` a `Client[Literal["none"]]` whose
`get` returns `GetResponse | None`.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Literal

__all__ = ["MissingMode", "MissingT"]

MissingMode = Literal["raise", "none"]
"""The two modes."""

if TYPE_CHECKING:
    # A type variable with a default (PEP 696) makes a bare `Client` mean
    # `Client[Literal["raise"]]`. `typing.TypeVar` takes a default only from Python 3.13,
    # so at run time (where it does not matter) the variable has none.
    from typing_extensions import TypeVar

    MissingT = TypeVar("MissingT", bound=MissingMode, default=Literal["raise"])
else:
    MissingT = typing.TypeVar("MissingT", bound=MissingMode)
