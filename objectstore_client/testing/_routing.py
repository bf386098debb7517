"""Route matching on the raw path (protocol §2.1, §2.2) and path-parameter decoding (§2.4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Route = Literal[
    "object",  # /v1/objects/{u}/{s}/{key...}
    "collection",  # /v1/objects/{u}/{s}[/]
    "batch",  # /v1/objects:batch/{u}/{s}/
    "multipart",  # /v1/objects:multipart/{u}/{s}/{key...}
    "multipart_collection",  # /v1/objects:multipart/{u}/{s}[/]
    "parts",  # /v1/objects:multipart:parts/{u}/{s}/{key...}
    "complete",  # /v1/objects:multipart:complete/{u}/{s}/{key...}
    "health",
    "ready",
    "keda",
]

# Methods per route, in the order axum lists them in `allow` (a GET route also answers HEAD).
_METHODS: dict[Route, tuple[str, ...]] = {
    "object": ("GET", "HEAD", "PUT", "DELETE"),
    "collection": ("POST",),
    "batch": ("POST",),
    "multipart": ("PUT", "DELETE"),
    "multipart_collection": ("POST",),
    "parts": ("GET", "HEAD", "PUT"),
    "complete": ("POST",),
    "health": ("GET", "HEAD"),
    "ready": ("GET", "HEAD"),
    "keda": ("GET", "HEAD"),
}

# (first segment after /v1/) → (route without key and slash, with slash only, with a key)
_TABLE: dict[str, tuple[Route | None, Route | None, Route | None]] = {
    "objects": ("collection", "collection", "object"),
    "objects:batch": (None, "batch", None),
    "objects:multipart": ("multipart_collection", "multipart_collection", "multipart"),
    "objects:multipart:parts": (None, None, "parts"),
    "objects:multipart:complete": (None, None, "complete"),
}


@dataclass(frozen=True)
class Match:
    """A matched route with its raw (still percent-encoded) parameters."""

    route: Route
    usecase: str = ""
    scopes: str = ""
    key: str = ""


class NoRoute(Exception):
    """No route matches: 404."""


class WrongMethod(Exception):
    """The route exists but not for this method: 405 with `allow`."""

    def __init__(self, allow: tuple[str, ...]) -> None:
        super().__init__(",".join(allow))
        self.allow = allow


def match(method: str, path: str, *, patch_objects: bool = False) -> Match:
    """Matches a raw path. Raises `NoRoute` or `WrongMethod`."""
    found = _match_path(path)
    methods = _METHODS[found.route]
    if found.route == "object" and patch_objects:
        # axum lists methods in registration order: get (GET,HEAD), put, patch, delete.
        methods = ("GET", "HEAD", "PUT", "PATCH", "DELETE")
    if method not in methods:
        raise WrongMethod(methods)
    return found


def _match_path(path: str) -> Match:
    simple: dict[str, Route] = {"/health": "health", "/ready": "ready", "/keda": "keda"}
    if path in simple:
        return Match(simple[path])
    if not path.startswith("/v1/"):
        raise NoRoute
    kind, sep, rest = path[4:].partition("/")
    routes = _TABLE.get(kind)
    if routes is None or not sep:
        raise NoRoute
    usecase, sep, rest = rest.partition("/")
    if not sep:
        raise NoRoute
    scopes, slash, key = rest.partition("/")
    if not slash:
        route = routes[0]
    elif not key:
        route = routes[1]
    else:
        route = routes[2]
    if route is None:
        raise NoRoute
    return Match(route, usecase, scopes, key)


class PathError(ValueError):
    """A path parameter the server rejects: 400 `Invalid URL: <message>`."""


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def decode_param(raw: str, name: str) -> str:
    """Percent-decodes a parameter (`+` stays, lone `%` stays); must be UTF-8 (§2.2)."""
    data = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), raw.encode("latin-1"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PathError(f"Invalid UTF-8 in `{name}`") from None


_SCOPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-()$!+'")


def parse_scopes(text: str) -> tuple[tuple[str, str], ...]:
    """Parses the decoded scopes segment: `_` or `name=value;...` (protocol §2.4)."""
    if text == "_":
        return ()
    scopes = []
    for piece in text.split(";"):
        name, sep, value = piece.partition("=")
        if not sep:
            raise PathError("scope must be 'key=value'")
        if not name or not value:
            raise PathError("key and value must be non-empty")
        for char in name + value:
            if char not in _SCOPE_CHARS:
                raise PathError(f"invalid character '{char}'")
        scopes.append((name, value))
    return tuple(scopes)
