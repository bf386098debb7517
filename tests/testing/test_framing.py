"""The local server reads a request's framing as hyper 1.13 does (protocol §1).

Each case is read off hyper's `Server::parse` (src/proto/h1/role.rs) and `Conn::read_head`
(src/proto/h1/conn.rs); the conformance suite checks what a client can see of them.
"""

from __future__ import annotations

import pytest

from objectstore_client.testing._framing import Framing, framing
from objectstore_client.testing._httparse import HeadError

CL, TE, EXPECT, CONN = "content-length", "transfer-encoding", "expect", "connection"


@pytest.mark.parametrize(
    ("headers", "version", "expected"),
    [
        pytest.param([], "HTTP/1.1", Framing(None, False, False, True), id="no-body"),
        pytest.param([], "HTTP/1.0", Framing(None, False, False, False), id="1.0-closes"),
        pytest.param([(CL, "5"), (CL, "05")], "HTTP/1.1", Framing(5, False, False, True)),
        pytest.param([(TE, "gzip, Chunked")], "HTTP/1.1", Framing(None, True, False, True)),
        pytest.param(
            [(CL, "5"), (TE, "chunked")], "HTTP/1.1", Framing(None, True, False, False), id="cl-te"
        ),
        pytest.param(
            [(TE, "chunked"), (CL, "x")], "HTTP/1.1", Framing(None, True, False, False), id="te-x"
        ),
        # The last `expect` decides; only HTTP/1.1 requests with a body get a 100 Continue.
        pytest.param(
            [(CL, "1"), (EXPECT, "100-CONTINUE")], "HTTP/1.1", Framing(1, False, True, True)
        ),
        pytest.param(
            [(CL, "1"), (EXPECT, "100-continue"), (EXPECT, "x")],
            "HTTP/1.1",
            Framing(1, False, False, True),
            id="last-expect-wins",
        ),
        pytest.param(
            [(CL, "0"), (EXPECT, "100-continue")], "HTTP/1.1", Framing(0, False, False, True)
        ),
        pytest.param(
            [(CL, "1"), (EXPECT, "100-continue"), (CONN, "keep-alive")],
            "HTTP/1.0",
            Framing(1, False, False, True),
            id="1.0-expect-keep-alive",
        ),
        # Any `close` closes; a later `keep-alive` does not reopen.
        pytest.param(
            [(CONN, "a, CLOSE"), (CONN, "keep-alive")],
            "HTTP/1.0",
            Framing(None, False, False, False),
        ),
        pytest.param(
            [(CONN, "keep-alive"), (CONN, "close")], "HTTP/1.1", Framing(None, False, False, False)
        ),
        # Values that are not visible ASCII match no token (`HeaderValue::to_str` fails).
        pytest.param([(CONN, "close, caf\xe9")], "HTTP/1.1", Framing(None, False, False, True)),
    ],
)
def test_framing_as_hyper_reads_it(
    headers: list[tuple[str, str]], version: str, expected: Framing
) -> None:
    assert framing(headers, version) == expected


@pytest.mark.parametrize(
    ("headers", "version", "status"),
    [
        pytest.param([(TE, "chunked")], "HTTP/1.0", 400, id="te-in-1.0"),
        pytest.param([(TE, "chunked\xa0")], "HTTP/1.1", 400, id="te-not-visible-ascii"),
        pytest.param([(TE, "chunked, gzip")], "HTTP/1.1", 400),
        pytest.param([(CL, "5"), (CL, "6")], "HTTP/1.1", 400),
        pytest.param([(CL, "+5")], "HTTP/1.1", 400),
        pytest.param([(CL, "\xb2")], "HTTP/1.1", 400, id="superscript-two"),
        pytest.param([(CL, "18446744073709551616")], "HTTP/1.1", 400, id="2**64"),
        pytest.param([(CL, "18446744073709551615")], "HTTP/1.1", 431, id="2**64-1"),
        pytest.param([(CL, "18446744073709551614")], "HTTP/1.1", 431, id="2**64-2"),
        pytest.param([(CL, "x"), (TE, "chunked")], "HTTP/1.1", 400, id="x-before-te"),
    ],
)
def test_framings_hyper_refuses(headers: list[tuple[str, str]], version: str, status: int) -> None:
    with pytest.raises(HeadError) as refused:
        framing(headers, version)
    assert refused.value.status == status


def test_the_largest_length_hyper_takes() -> None:
    assert framing([(CL, "18446744073709551613")], "HTTP/1.1").length == 2**64 - 3
