"""The content types the server accepts (protocol §5.3), in the local server and the client.

The real server accepts a content type when the Rust crate `mediatype` 0.21.0 parses it.
`VERDICTS` are that parser's answers (`MediaType::parse(...).is_ok()`, run in a Rust
program on 2026-12-07); the local server (`testing._media_type`) and the client's check
before sending (`_validation.check_content_type`, a regular expression written apart from
it) must both give them, and must agree with each other on any header text.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from objectstore_client._validation import check_content_type
from objectstore_client.errors import InvalidArgument
from objectstore_client.testing._media_type import is_media_type

VERDICTS = [
    ("text/plain", True),
    ("*/*", True),
    ("image/svg+xml", True),
    ("application/vnd.api+json", True),
    ("text/plain;", True),
    ("text/plain ; a=b", True),
    ("text/plain;\ta=b", True),
    ("text/plain; charset=", True),
    ("a/b; x=; y=z", True),
    ("a/b;x=;", True),
    ('a/b; x=""', True),
    ('a/b; x="a\\"b"', True),
    ("a+b/c", True),
    ("a/b+-x", True),
    ("a/b+c+de", True),
    ("a/b+x", False),
    ("a/b+", False),
    ("a/+xy", False),
    ("a/b+c+d", False),
    ("a/b+x-", False),
    ("a/b++x", False),
    ("a/" + "b" * 127, True),
    ("a/" + "b" * 128, False),
    ("a" * 127 + "/b", True),
    ("a" * 128 + "/b", False),
    ("a/" + "b" * 127 + "+x" + "c" * 127, True),
    ("a/b+x" + "c" * 127, True),
    ("a/b; " + "n" * 127 + "=v", True),
    ("a/b; " + "n" * 128 + "=v", False),
    ("a/b; -n=v", False),
    ("a/b; *n=v", True),
    ("a/b; n+m=v", True),
    ("", False),
    ("text", False),
    ("text//plain", False),
    ("text/plain;;", False),
    ("text/plain; ;", False),
    ("text/plain; charset", False),
    ("text/plain garbage", False),
    ("/plain", False),
    ("text/", False),
    ("-a/b", False),
    ("a/-b", False),
    ("*a/b", True),
    ("a/b*", True),
    ("a/b; =x", False),
    ("a/b; x =y", False),
    ("a/b; x=y z", False),
    ('a/b; x="open', False),
    ('a/b; x="q"z', False),
    ("a/b; x=y=z", False),
    ("a/b;x=y;", True),
    ("a/b; x=y; ", True),
    ("a/b/c", False),
    ("text/pl@in", False),
]


def _client_accepts(value: str) -> bool:
    try:
        check_content_type(value)
    except InvalidArgument:
        return False
    return True


@pytest.mark.parametrize(("value", "accepted"), VERDICTS, ids=[repr(v)[:40] for v, _ in VERDICTS])
def test_the_local_server_accepts_what_the_real_servers_parser_accepts(value, accepted):
    assert is_media_type(value) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    # The client sends no tab (printable ASCII only, `check_header_text`).
    [(value, accepted) for value, accepted in VERDICTS if "\t" not in value],
    ids=[repr(v)[:40] for v, _ in VERDICTS if "\t" not in v],
)
def test_the_client_refuses_before_sending_what_the_server_would_refuse(value, accepted):
    assert _client_accepts(value) is accepted


# Short strings over the characters the grammar turns on, so that every rule is reached.
_texts = st.text(alphabet=list("ab9*-./+;= \"\\'x"), max_size=14)


@given(value=_texts)
@example(value="a/b+cd; e=")
@example(value="a/b+c")
def test_client_and_local_server_agree_on_any_text(value):
    assert _client_accepts(value) is is_media_type(value)
