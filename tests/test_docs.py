"""Code blocks marked runnable in docs/*.md and README.md run, against local servers.

A block is runnable when the line before its opening fence is `<!-- runnable -->` (an
HTML comment: invisible on the rendered page). Python blocks run like README blocks
(tests/test_readme.py): `http://localhost:8888` stands for a local server without auth,
and blocks naming `my-kid` get `url` and `private_pem` of a server that trusts that kid.
Shell blocks run in bash (`set -euo pipefail`) in a fresh directory, with
`OBJECTSTORE_URL` set to the server without auth and `objectstore` on the `PATH`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import objectstore_client
from objectstore_client.testing import AuthKey, LocalServer, generate_keypair
from tests._cli import ROOT

MARKER = "<!-- runnable -->"
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_BLOCK = re.compile(r"^<!-- runnable -->\n```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[str, int, str, str]]:
    found = []
    for page in PAGES:
        for index, match in enumerate(_BLOCK.finditer(page.read_text())):
            found.append((page.name, index, match.group(1), match.group(2)))
    return found


BLOCKS = _blocks()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LocalServer, LocalServer, str]]:
    keys = generate_keypair()
    secured = LocalServer(storage="memory", auth_keys={"my-kid": AuthKey((keys.public_pem,))})
    with LocalServer(storage="memory") as open_server, secured:
        yield open_server, secured, keys.private_pem


def test_every_marker_precedes_a_block() -> None:
    for page in PAGES:
        text = page.read_text()
        markers = sum(line == MARKER for line in text.splitlines())
        assert markers == len(_BLOCK.findall(text)), page.name


def test_the_pages_have_runnable_blocks() -> None:
    names = {name for name, _, _, _ in BLOCKS}
    for page in ("getting-started.md", "cli.md", "sharing.md", "transfers.md", "batch.md"):
        assert page in names
    assert {language for _, _, language, _ in BLOCKS} == {"python", "sh"}


@pytest.mark.parametrize(
    ("page", "index", "language", "code"),
    BLOCKS,
    ids=[f"{name}-{index}" for name, index, _, _ in BLOCKS],
)
def test_block_runs(
    page: str,
    index: int,
    language: str,
    code: str,
    servers: tuple[LocalServer, LocalServer, str],
    tmp_path: Path,
) -> None:
    open_server, secured, private_pem = servers
    if language == "sh":
        _run_shell(code, open_server.url, tmp_path)
        return
    assert language == "python", f"{page}: runnable blocks are python or sh"
    server = secured if "my-kid" in code else open_server
    code = code.replace("http://localhost:8888", server.url)
    namespace: dict[str, object] = {"url": server.url, "private_pem": private_pem}
    exec(compile(code, f"{page} block {index}", "exec"), namespace)
    for name, function in list(namespace.items()):
        if name.startswith("test_") and callable(function):
            function(objectstore_url=server.url, objectstore_usecase=f"docs-{page}-{index}")


def _run_shell(code: str, url: str, workdir: Path) -> None:
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "objectstore"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m objectstore_client "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBJECTSTORE_")}
    env.update(
        OBJECTSTORE_URL=url,
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(Path(objectstore_client.__file__).parent.parent),
    )
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + code],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{code}\nstdout: {result.stdout}\nstderr: {result.stderr}"


def _documented() -> tuple[set[int], set[tuple[str, str]]]:
    """What the API reference renders: objects by identity, other values by module+name."""
    import importlib

    objects: set[int] = set()
    values: set[tuple[str, str]] = set()
    directive = re.compile(r"^::: ([\w.]+)\n((?:    .*\n)*)", re.MULTILINE)
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        for name, options in directive.findall(page.read_text()):
            module = importlib.import_module(name)
            listed = re.findall(r"^        - (\w+)$", options, re.MULTILINE)
            for member in listed or getattr(module, "__all__", []):
                value = getattr(module, member)
                objects.add(id(value))
                values.add((name, member))
            if not listed:
                values.add((name, "*"))
    return objects, values


def _public_modules() -> list[str]:
    package = Path(objectstore_client.__file__).parent
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(part.startswith("_") for part in parts if part != "__init__"):
            continue
        names.append(".".join(part for part in parts if part != "__init__"))
    return names


def test_the_api_reference_documents_every_public_name() -> None:
    import importlib

    objects, values = _documented()
    missing = []
    for name in _public_modules():
        module = importlib.import_module(name)
        for member in getattr(module, "__all__", []):
            value = getattr(module, member)
            # Numbers and strings are compared by name: equal ones may share one object.
            plain = isinstance(value, int | float | str | bytes | tuple | frozenset)
            by_identity = not plain and id(value) in objects
            if not (by_identity or (name, member) in values or (name, "*") in values):
                missing.append(f"{name}.{member}")
    assert missing == []
