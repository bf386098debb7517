"""`objectstore` on bad input: one line on stderr, the documented exit code, no file written.

Also the progress bar: drawn on a terminal (a pseudo-terminal here), never when piped.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests._cli import ROOT, cli_env, one_error_line, run_cli


@pytest.fixture
def env(objectstore_url: str, objectstore_usecase: str) -> dict[str, str]:
    return cli_env(objectstore_url, objectstore_usecase)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_missing_object_exit_1_and_no_file(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    result = run_cli(env, "get", "no-such-key", "-o", str(target))
    assert result.returncode == 1
    line = one_error_line(result)
    assert "not found" in line
    assert "no-such-key" in line
    assert list(tmp_path.iterdir()) == []


def test_missing_object_leaves_an_existing_target_alone(
    env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("precious")
    result = run_cli(env, "get", "no-such-key", "-o", str(target))
    assert result.returncode == 1
    one_error_line(result)
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_missing_object_to_stdout_writes_nothing(env: dict[str, str]) -> None:
    result = run_cli(env, "get", "no-such-key")
    assert (result.returncode, result.stdout) == (1, b"")
    one_error_line(result)


@pytest.mark.parametrize("usecase", ["a/b", "..", "bad\tname"])
def test_invalid_usecase_is_a_usage_error(
    objectstore_url: str, usecase: str, tmp_path: Path
) -> None:
    env = cli_env(objectstore_url, usecase)
    result = run_cli(env, "get", "k", "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "usecase" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_missing_usecase_is_a_usage_error(objectstore_url: str) -> None:
    env = cli_env(objectstore_url, "")
    result = run_cli(env, "head", "k")
    assert result.returncode == 2
    assert "--usecase" in one_error_line(result)


@pytest.mark.parametrize("scope", ["org", "org=", "=1", "org=1;project=2", "org=a.b"])
def test_malformed_scope_is_a_usage_error(env: dict[str, str], scope: str, tmp_path: Path) -> None:
    result = run_cli(env, "get", "k", "--scope", scope, "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "scope" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_key_file(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = run_cli(env, "token", "--key-file", str(missing), "--kid", "k")
    assert result.returncode == 2
    assert str(missing) in one_error_line(result)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    result = run_cli(env, "put", "-", "--key", "x", "--key-file", str(garbage), "--kid", "k")
    assert result.returncode == 2
    line = one_error_line(result)
    assert str(garbage) in line
    assert "Ed25519" in line
    no_kid = run_cli(env, "token", "--key-file", str(garbage))
    assert no_kid.returncode == 2
    assert "--kid" in one_error_line(no_kid)


def test_unreachable_server(objectstore_usecase: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    env = cli_env(url, objectstore_usecase)
    result = run_cli(env, "get", "k", "-o", str(tmp_path / "x"))
    assert result.returncode == 1
    assert "cannot reach the server" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []
    put = run_cli(env, "put", "-", "--key", "k", stdin=b"x")
    assert put.returncode == 1
    one_error_line(put)


def test_usage_errors_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    assert run_cli(env, "frobnicate").returncode == 2
    assert run_cli(env, "put").returncode == 2
    directory = run_cli(env, "put", str(tmp_path))
    assert directory.returncode == 2
    assert "--recursive" in one_error_line(directory)
    ttl = run_cli(env, "put", "-", "--ttl", "soon", stdin=b"x")
    assert ttl.returncode == 2
    assert "--ttl" in one_error_line(ttl)
    bad_key = run_cli(env, "get", "a/../b")
    assert bad_key.returncode == 2
    assert "key" in one_error_line(bad_key)
    batch = tmp_path / "ops.jsonl"
    batch.write_text('{"op": "put", "key": "a", "data": "x"}\n{"op": "explode"}\n')
    refused = run_cli(env, "batch", str(batch))
    assert refused.returncode == 2
    assert "line 2" in one_error_line(refused)
    # Nothing of the batch ran: every line is checked before the first request.
    assert run_cli(env, "head", "a").returncode == 1


def test_missing_local_file_fails(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(env, "put", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert "nope.txt" in one_error_line(result)


def _run_on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Runs the command with stderr on a pseudo-terminal; returns its status and screen."""
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "objectstore_client", *args],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env=env,
        cwd=ROOT,
    ) as process:
        os.close(secondary)
        screen = b""
        while True:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # EIO: the terminal's last writer has gone
                    break
                if not chunk:
                    break
                screen += chunk
            elif process.poll() is not None:
                break
        os.close(primary)
        return process.wait(timeout=60), screen.decode(errors="replace")


def test_progress_bar_on_a_terminal_and_not_when_piped(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "bar.bin"
    source.write_bytes(os.urandom(24 << 20))
    status, screen = _run_on_a_terminal(env, "put", str(source), "--key", "bar")
    assert status == 0, screen
    assert "\rput [" in screen, screen
    assert "100% 24.0 MiB/24.0 MiB" in screen, screen
    status, screen = _run_on_a_terminal(env, "get", "bar", "-o", str(tmp_path / "copy"))
    assert status == 0, screen
    assert "get 24.0 MiB" in screen, screen
    piped = run_cli(env, "put", str(source), "--key", "bar2")
    assert (piped.returncode, piped.stderr) == (0, b"")
    quiet_status, quiet = _run_on_a_terminal(env, "put", str(source), "--key", "b3", "-q")
    assert (quiet_status, quiet) == (0, "")
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(1 << 20))
    assert _run_on_a_terminal(env, "put", str(small), "--key", "small") == (0, "")
