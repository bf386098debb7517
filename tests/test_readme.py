"""Every Python block of README.md runs, against local servers standing in for the real one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from objectstore_client import Client, SecretKey, TimeToLive, Usecase
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
PLACEHOLDER_URLS = ("http://localhost:8888", "http://objectstore:8888")
ALL = frozenset({"object.read", "object.write", "object.delete"})


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalServer, LocalServer, str]]:
    keys = generate_keypair()
    secured = LocalServer(
        storage="memory",
        auth_keys={"my-kid": AuthKey((keys.public_pem,), ALL)},
        extend_expiry=True,
    )
    with LocalServer(storage="memory") as open_server, secured:
        yield open_server, secured, keys.private_pem


def test_the_readme_has_the_documented_examples() -> None:
    assert len(BLOCKS) >= 5
    assert any("session.put(b" in block for block in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, servers: tuple[LocalServer, LocalServer, str]) -> None:
    open_server, secured, private_pem = servers
    code = BLOCKS[index]
    server = secured if "my-kid" in code else open_server
    for placeholder in PLACEHOLDER_URLS:
        code = code.replace(placeholder, server.url)
    session = Client(server.url, token=SecretKey("my-kid", private_pem)).session(
        Usecase("attachments"), org=42, project=1337
    )
    namespace: dict[str, object] = {
        "url": server.url,
        "private_pem": private_pem,
        "key": session.put(b"shared", expiration_policy=TimeToLive(timedelta(hours=1)))
        if server is secured
        else None,
    }
    exec(compile(code, f"README.md block {index}", "exec"), namespace)
    for name, function in list(namespace.items()):
        if name.startswith("test_") and callable(function):
            function(objectstore_url=server.url, objectstore_usecase=f"readme-{index}")
