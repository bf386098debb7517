"""Running the `objectstore` command line as a subprocess, as a user's shell would."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env(url: str, usecase: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a command: this checkout's code, the server, usecase and scope."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBJECTSTORE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(
        OBJECTSTORE_URL=url, OBJECTSTORE_USECASE=usecase, OBJECTSTORE_SCOPE="org=42,project=1"
    )
    env.update(extra or {})
    return env


def run_cli(
    env: Mapping[str, str],
    *args: str,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 110,
) -> subprocess.CompletedProcess[bytes]:
    """`python -m objectstore_client ARGS...` with stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "objectstore_client", *args],
        input=stdin,
        capture_output=True,
        env=dict(env),
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
    )


def sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The single line a failing command printed on stderr (asserting it is one line)."""
    text = result.stderr.decode()
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("objectstore: "), text
    return lines[0]
