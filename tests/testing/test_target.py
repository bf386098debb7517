"""The local server's choice where the real server's `http` crate version decides (§1).

UTF-8 in a target's path or query is a 400 here: the `http` crate refuses it in the versions
the real server may be built with, so this is the conservative answer (clients
percent-encode). Not a conformance test: the real server is not asserted to do the same.
"""

from __future__ import annotations

import pytest

from objectstore_client.testing import LocalServer
from tests.conformance import _wire


@pytest.mark.parametrize(
    ("target", "status"),
    [
        pytest.param(b"/health", 200, id="ascii"),
        pytest.param(b"/health%C3%A9", 404, id="percent-encoded-utf8-path"),
        pytest.param(b"/health\xc3\xa9", 400, id="utf8-path"),
        pytest.param(b"/health?q=\xc3\xa9", 400, id="utf8-query"),
        pytest.param(b"/health?q=%C3%A9", 200, id="percent-encoded-utf8-query"),
    ],
)
def test_utf8_in_the_path_or_query_is_400(target: bytes, status: int) -> None:
    with LocalServer(storage="memory") as server:
        raw = b"GET " + target + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        assert _wire.raw_exchange("127.0.0.1", server.port, raw).status == status
