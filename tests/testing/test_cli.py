"""`python -m objectstore_client.testing`: the upstream harness (protocol §16), start-up errors."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import urllib3

from objectstore_client.testing import generate_keypair


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "objectstore_client.testing", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_upstream_harness_environment_starts_it_unchanged(tmp_path: Path) -> None:
    """The exact environment and readiness poll of upstream's test_e2e.py (protocol §16)."""
    keys = generate_keypair()
    public = tmp_path / "ed25519.public.pem"
    public.write_text(keys.public_pem)
    port = _free_port()
    env = {
        **os.environ,
        "OS__HTTP_ADDR": f"127.0.0.1:{port}",
        "OS__STORAGE__TYPE": "filesystem",
        "OS__STORAGE__PATH": str(tmp_path / "data"),
        "OS__LOG__LEVEL": "trace",
        "OS__AUTH__ENFORCE": "true",
        "OS__AUTH__KEYS": f'{{test_kid={{key_files=["{public}"],max_permissions='
        '["object.read","object.write","object.delete"]}}',
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "objectstore_client.testing", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        http = urllib3.PoolManager(retries=False)
        ready = False
        # Upstream polls 20 times, 0.1 s apart with a 0.1 s timeout; a Python start-up needs
        # a little longer on a cold machine, so allow the same poll a few more rounds.
        for _ in range(60):
            with contextlib.suppress(urllib3.exceptions.HTTPError):
                ready = (
                    http.request("GET", f"http://127.0.0.1:{port}/health", timeout=0.1).status
                    == 200
                )
            if ready:
                break
            time.sleep(0.1)
        if not ready:
            process.kill()
            out, err = process.communicate(timeout=10)
            pytest.fail(f"server did not become healthy: {out} {err}")
        token = jwt.encode(
            {
                "res": {"os:usecase": "test-usecase", "org": "42", "project": "1337"},
                "permissions": ["object.read", "object.write", "object.delete"],
                "exp": int(time.time()) + 60,
            },
            keys.private_pem,
            algorithm="EdDSA",
            headers={"kid": "test_kid"},
        )
        url = f"http://127.0.0.1:{port}/v1/objects/test-usecase/org=42;project=1337/k"
        stored = http.request("PUT", url, body=b"x", headers={"x-os-auth": f"Bearer {token}"})
        assert stored.status == 200
        assert http.request("GET", url).status == 400  # auth is enforced: no token
        assert (tmp_path / "data").is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out


@pytest.mark.parametrize(
    ("env", "args", "names"),
    [
        pytest.param({"OS__AUTH__ENFORCE": "true"}, [], "OS__AUTH__ENFORCE", id="enforce-no-keys"),
        pytest.param(
            {"OS__AUTH__KEYS": '{k={key_files=["/nonexistent/key.pem"]}}'},
            [],
            "OS__AUTH__KEYS.k.key_files",
            id="unreadable-key-file",
        ),
        pytest.param(
            {"OS__AUTH__KEYS": '{k={key_files=["/x"]'}, [], "OS__AUTH__KEYS", id="bad-map-syntax"
        ),
        pytest.param({"OS__HTTP_ADDR": "nowhere"}, [], "OS__HTTP_ADDR", id="bad-address"),
        pytest.param({}, ["--auth-key", "no-equals-sign"], "--auth-key", id="bad-auth-key-flag"),
        pytest.param(
            {"OS__STORAGE__TYPE": "gcs"}, [], "OS__STORAGE__TYPE", id="unsupported-storage"
        ),
    ],
)
def test_invalid_configuration_stops_start_up_with_one_line(
    env: dict[str, str], args: list[str], names: str
) -> None:
    result = _run([*args, "--port", "0"], env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = _run(["--port", str(port)], {})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "already in use" in result.stderr
    assert "--port" in result.stderr


def test_flags_serve_a_key_and_sigterm_stops_it(tmp_path: Path) -> None:
    keys = generate_keypair()
    public = tmp_path / "key.pem"
    public.write_text(keys.public_pem)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "objectstore_client.testing",
            "--port",
            "0",
            "--auth-key",
            f"k={public}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "auth enforced" in line
        url = line.split(" on ", 1)[1].split()[0]
        reply = urllib3.PoolManager(retries=False).request("GET", f"{url}/v1/objects/u/_/k")
        assert reply.status == 400  # token required
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
