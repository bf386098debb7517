"""Shared fixtures.

Operations run against the local server of `objectstore_client.testing` (fixtures from its
pytest plugin), with and without auth. Transport cases the real server cannot produce on
demand (a stalled upload, a dropped connection, title-cased headers, a 200 HEAD) use
`ScriptedServer`: a real loopback HTTP/1.1 server whose answers a test scripts.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from objectstore_client import Client, Session, TokenGenerator, Usecase
from objectstore_client.testing import KeyPair, LocalServer

TEST_KID = "test_kid"


@pytest.fixture(params=["no_auth", "auth"])
def auth_mode(request: pytest.FixtureRequest) -> str:
    """Runs a test once against a server without auth and once against one enforcing it."""
    return str(request.param)


@pytest.fixture
def client(
    auth_mode: str,
    objectstore_server: LocalServer,
    objectstore_auth_server: LocalServer,
    objectstore_keypair: KeyPair,
) -> Iterator[Client]:
    if auth_mode == "auth":
        token = TokenGenerator(TEST_KID, objectstore_keypair.private_pem)
        with Client(objectstore_auth_server.url, token=token) as authed:
            yield authed
    else:
        with Client(objectstore_server.url) as plain:
            yield plain


@pytest.fixture
def session(client: Client, objectstore_usecase: str) -> Session:
    return client.session(Usecase(objectstore_usecase), org=42, project=1337)


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A URL where nothing listens: any request sent there fails with ConnectError.

    The port stays bound (without listening) for the test, so no other process takes it.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Recorded:
    """A request as the scripted server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    chunked: bool


@dataclass
class Reply:
    """What the scripted server does with a request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    read_delay: float = 0.0
    """Seconds to wait before reading the request body (stalls the client's upload)."""
    drop: bool = False
    """Close the connection instead of answering."""


Script = Callable[[Recorded, int], Reply]


class _QuietServer(http.server.ThreadingHTTPServer):
    # The default backlog of 5 drops connections when 32 threads connect at once.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out or give up on purpose break pipes; that is the point.
        pass


class ScriptedServer:
    """A loopback HTTP/1.1 server answering each request with `script(request, index)`."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with outer._lock:
                    index = len(outer.requests)
                    probe = Recorded(self.command, self.path, headers, b"", False)
                    reply = outer.script(probe, index)
                time.sleep(reply.read_delay)
                chunked = headers.get("transfer-encoding", "").lower() == "chunked"
                body = self._read_chunked() if chunked else self._read_length(headers)
                with outer._lock:
                    outer.requests.append(Recorded(self.command, self.path, headers, body, chunked))
                if reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if self.command != "HEAD" and "content-length" not in {
                    n.lower() for n in reply.headers
                }:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            def _read_length(self, headers: dict[str, str]) -> bytes:
                return self.rfile.read(int(headers.get("content-length", "0")))

            def _read_chunked(self) -> bytes:
                data = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return bytes(data)
                    data += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = _handle

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def json_reply(status: int, text: str) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, text.encode())


class ScriptedServers:
    """Starts scripted servers for one test; `Reply` and `json_reply` build answers."""

    Reply = Reply
    json_reply = staticmethod(json_reply)

    def __init__(self) -> None:
        self._servers: list[ScriptedServer] = []

    def start(self, script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        self._servers.append(server)
        return server

    def close(self) -> None:
        for server in self._servers:
            server.close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServers]:
    servers = ScriptedServers()
    yield servers
    servers.close()


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """A port whose accept queue is full: new connections time out while connecting."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    waiting = []
    for _ in range(3):
        client = socket.socket()
        client.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            client.connect(("127.0.0.1", port))
        waiting.append(client)
    yield f"http://127.0.0.1:{port}"
    for client in waiting:
        client.close()
    listener.close()
