"""`download_file` against answers that cover another range than the one asked for.

Protocol §7: a satisfiable `Range` is answered with exactly the bytes asked for (clipped
to the end of the object). A proxy that changes the range in between must make the
download fail, never write a file that is silently shorter (or assembled from bytes
fetched twice).
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable, Iterator

import pytest
import zstandard

from objectstore_client import Client, ProtocolError, Usecase
from objectstore_client.testing import LocalServer
from objectstore_client.transfers import MIN_PART_SIZE, TransferConfig
from tests._proxy import QuietHandler, fetch, send_head

Rewrite = Callable[[str], str]


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client closes connections on a bad answer, by design


class RangeRewritingProxy:
    """A loopback proxy that forwards GETs with their `Range` header rewritten."""

    def __init__(self, upstream_port: int, rewrite: Rewrite) -> None:
        self.asked: list[str] = []
        proxy = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                headers = self.forwarded_headers()
                if "Range" in headers:
                    proxy.asked.append(headers["Range"])
                    headers["Range"] = rewrite(headers["Range"])
                status, answer, body = fetch("127.0.0.1", upstream_port, self.path, headers)
                send_head(self, status, answer, len(body))
                self.wfile.write(body)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def through_proxy(
    objectstore_server: LocalServer,
) -> Iterator[Callable[[Rewrite], tuple[Client, RangeRewritingProxy]]]:
    """Starts a client whose requests pass a proxy rewriting their ranges with `rewrite`."""
    proxies: list[RangeRewritingProxy] = []
    clients: list[Client] = []

    def start(rewrite: Rewrite) -> tuple[Client, RangeRewritingProxy]:
        proxy = RangeRewritingProxy(objectstore_server.port, rewrite)
        proxies.append(proxy)
        clients.append(Client(proxy.url, retries=0))
        return clients[-1], proxy

    yield start
    for client in clients:
        client.close()
    for proxy in proxies:
        proxy.close()


def _frames(*parts: bytes) -> list[bytes]:
    return [zstandard.ZstdCompressor().compress(part) for part in parts]


def test_a_short_answer_to_the_rest_of_a_compressed_object_fails(
    objectstore_server, objectstore_usecase, through_proxy, tmp_path
):
    # A compressed object of three zstd frames (a multipart upload, each part its own
    # frame). The proxy answers the open-ended request for the rest with the second
    # frame only: it ends where a frame ends, so the decoder cannot notice.
    parts = [os.urandom(MIN_PART_SIZE) for _ in range(3)]
    frames = _frames(*parts)
    with Client(objectstore_server.url) as direct:
        session = direct.session(Usecase(objectstore_usecase), org=3)
        upload = session.initiate_multipart_upload(key="frames", compression="zstd")
        done = [
            upload.put_part(frame, part_number=n, content_length=len(frame))
            for n, frame in enumerate(frames, start=1)
        ]
        upload.complete(done)
    second_frame_end = len(frames[0]) + len(frames[1]) - 1

    def clip(range_header: str) -> str:
        return range_header + str(second_frame_end) if range_header.endswith("-") else range_header

    client, proxy = through_proxy(clip)
    session = client.session(Usecase(objectstore_usecase), org=3)
    config = TransferConfig(part_size=MIN_PART_SIZE)
    with pytest.raises(ProtocolError, match="got bytes"):
        session.download_file("frames", tmp_path / "out", config=config)
    assert not (tmp_path / "out").exists()
    assert proxy.asked == [f"bytes=0-{MIN_PART_SIZE - 1}", f"bytes={MIN_PART_SIZE}-"]


def test_a_longer_answer_than_a_part_fails(
    objectstore_server, objectstore_usecase, through_proxy, tmp_path
):
    # Each parallel part asks for `bytes=A-B`; a proxy that widens it to the end of the
    # object would make every part fetch (and write) what the later parts fetch again.
    data = os.urandom(3 * MIN_PART_SIZE)
    with Client(objectstore_server.url) as direct:
        direct.session(Usecase(objectstore_usecase), org=3).put(
            data, key="wide", compression="none"
        )

    def widen(range_header: str) -> str:
        return range_header.rsplit("-", 1)[0] + "-"

    client, proxy = through_proxy(widen)
    session = client.session(Usecase(objectstore_usecase), org=3)
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE)
    with pytest.raises(ProtocolError, match="got bytes"):
        session.download_file("wide", tmp_path / "out", config=config)
    assert proxy.asked[0] == f"bytes=0-{MIN_PART_SIZE - 1}"
    assert not (tmp_path / "out").exists()


def test_answers_with_the_range_asked_for_pass(
    objectstore_server, objectstore_usecase, through_proxy, tmp_path
):
    data = os.urandom(2 * MIN_PART_SIZE + 5)
    with Client(objectstore_server.url) as direct:
        direct.session(Usecase(objectstore_usecase), org=3).put(
            data, key="same", compression="none"
        )
    client, proxy = through_proxy(lambda range_header: range_header)
    session = client.session(Usecase(objectstore_usecase), org=3)
    config = TransferConfig(threshold=0, part_size=MIN_PART_SIZE)
    session.download_file("same", tmp_path / "out", config=config)
    assert (tmp_path / "out").read_bytes() == data
    assert len(proxy.asked) == 3


@pytest.mark.parametrize(
    "content_range",
    ["bytes 5-3/10", "bytes 0-10/10", "bytes 0-4/18446744073709551616"],
    ids=["reversed", "past-the-total", "total-past-64-bits"],
)
def test_an_impossible_content_range_is_a_protocol_error(scripted, content_range):
    headers = {"content-range": content_range, "Connection": "close"}
    server = scripted.start(lambda request, index: scripted.Reply(206, headers, b"abcde"))
    with Client(server.url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(ProtocolError, match="impossible content-range"):
            session.get("k", range=(0, 5))


@pytest.mark.parametrize(
    "rewrite",
    [
        # A second range makes the server ignore the header: a 200 with the whole object.
        pytest.param(lambda range_header: range_header + ",0-1", id="ignored"),
        pytest.param(lambda range_header: range_header.rsplit("-", 1)[0] + "-", id="widened"),
        pytest.param(lambda range_header: "bytes=0-9", id="other-bytes"),
    ],
)
def test_get_with_a_range_refuses_an_answer_for_other_bytes(
    objectstore_server, objectstore_usecase, through_proxy, rewrite
):
    # get(range=...) and get_ranges returned whatever the answer carried: the whole
    # object, or other bytes than those asked for, as if they were the range.
    data = bytes(range(256)) * 40
    with Client(objectstore_server.url) as direct:
        direct.session(Usecase(objectstore_usecase), org=3).put(
            data, key="ranged", compression="none"
        )
    client, proxy = through_proxy(rewrite)
    session = client.session(Usecase(objectstore_usecase), org=3)
    with pytest.raises(ProtocolError, match=r"\(bytes=10-19\)"):
        session.get("ranged", range=(10, 20))
    with pytest.raises(ProtocolError, match=r"\(bytes=(10-19|30-39)\)"):
        session.get_ranges("ranged", [(10, 20), (30, 40)])
    assert proxy.asked[0] == "bytes=10-19"


def test_get_with_a_range_accepts_the_answers_the_server_gives(
    objectstore_server, objectstore_usecase, through_proxy
):
    # Clipped ends, suffixes longer than the object and whole-object ranges all pass.
    data = bytes(range(256)) * 40
    with Client(objectstore_server.url) as direct:
        direct_session = direct.session(Usecase(objectstore_usecase), org=3)
        direct_session.put(data, key="ranged-ok", compression="none")
        direct_session.put(data, key="ranged-z", compression="zstd")
    client, _ = through_proxy(lambda range_header: range_header)
    session = client.session(Usecase(objectstore_usecase), org=3)
    cases = [(0, 10), (10_000, 99_999), (10_000, None), (-17, None), (-99_999, None), (0, None)]
    for byte_range in cases:
        start, end = byte_range
        expected = data[start:end]
        assert session.get("ranged-ok", range=byte_range).payload.read() == expected
    assert session.get_ranges("ranged-ok", [(0, 10), (-17, None)]) == [data[:10], data[-17:]]
    assert session.get("ranged-z", range=(-99_999, None)).payload.read() == data
