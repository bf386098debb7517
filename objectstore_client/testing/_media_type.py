"""Which `content-type` values the server accepts (protocol §5.3).

The real server accepts a content type when the Rust crate `mediatype` 0.21 parses it
(`MediaType::parse`, through `objectstore-types`). This is that parser's acceptance, step
by step, so that its quirks stay visible: a `+suffix` is checked without its first
character (so `a/b+x` is refused and `a/b+-x` accepted), and a parameter value may be
empty (`text/plain; charset=`).
"""

from __future__ import annotations

__all__ = ["is_media_type"]

_MAX_NAME = 127
_RESTRICTED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&-^_.+%*'"
)
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*")


def is_media_type(text: str) -> bool:
    """Whether the real server accepts `text` (a header value, whitespace already trimmed)."""
    slash = text.find("/", 0, _MAX_NAME + 1)
    if slash < 0 or not _is_name(text[:slash]):
        return False
    rest = text[slash + 1 :]
    token = rest[: _restricted_run(rest)]
    plus = token.rfind("+")
    subtype, suffix = (token, "") if plus < 0 else (token[:plus], token[plus + 1 :])
    if not _is_name(subtype):
        return False
    if suffix and not _is_name(suffix[1:]):
        return False
    # An empty suffix (a trailing `+`) leaves the `+` to the parameters, which refuse it.
    return _parameters_ok(rest[len(subtype) + (len(suffix) + 1 if suffix else 0) :])


def _is_name(text: str) -> bool:
    if not 0 < len(text) <= _MAX_NAME or text[0] not in _NAME_START:
        return False
    return _restricted_run(text) == len(text)


def _restricted_run(text: str) -> int:
    """The length of `text`'s prefix of token characters."""
    for index, char in enumerate(text):
        if char not in _RESTRICTED:
            return index
    return len(text)


def _is_ows(text: str) -> bool:
    return not text.strip(" \t")


def _parameters_ok(text: str) -> bool:
    """`*( OWS ";" OWS name "=" value ) [ OWS ";" ] OWS`, as `mediatype` reads it."""
    while True:
        before, semicolon, after = text.partition(";")
        if not semicolon:
            return _is_ows(text)
        if not _is_ows(before):
            return False
        if _is_ows(after):
            return True
        name, equals, value = after.partition("=")
        if not equals or not _is_name(name.lstrip(" \t")):
            return False
        if value.startswith('"'):
            length = _quoted_length(value[1:])
            if length is None:
                return False
            text = value[1 + length :]
        else:
            text = value[_restricted_run(value) :]


def _quoted_length(text: str) -> int | None:
    """The length of a quoted string's rest, closing quote included; `None` if unclosed."""
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return index + 1
        elif char == "\n":
            return None
    return None
