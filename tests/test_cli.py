"""Every `objectstore` subcommand, run as a subprocess against the local server."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from objectstore_client.testing import KeyPair, LocalServer
from tests._cli import ROOT, cli_env, run_cli, sha256

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64)


@pytest.fixture
def env(objectstore_url: str, objectstore_usecase: str) -> dict[str, str]:
    return cli_env(objectstore_url, objectstore_usecase)


@pytest.fixture
def auth_env(
    objectstore_auth_server: LocalServer,
    objectstore_keypair: KeyPair,
    objectstore_usecase: str,
    tmp_path: Path,
) -> dict[str, str]:
    key_file = tmp_path / "key.pem"
    key_file.write_text(objectstore_keypair.private_pem)
    return cli_env(
        objectstore_auth_server.url,
        objectstore_usecase,
        {"OBJECTSTORE_KEY_FILE": str(key_file), "OBJECTSTORE_KID": "test_kid"},
    )


def test_put_and_get_a_50_mib_file(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as file:
        for _ in range(50):
            file.write(os.urandom(1 << 20))
    put = run_cli(env, "put", str(source), "--key", "big/file.bin")
    assert put.returncode == 0, put.stderr
    assert put.stdout.decode().splitlines() == ["big/file.bin"]
    target = tmp_path / "copy.bin"
    got = run_cli(env, "get", "big/file.bin", "-o", str(target))
    assert got.returncode == 0, got.stderr
    assert got.stdout == b""
    assert target.stat().st_size == 50 << 20
    assert sha256(target) == sha256(source)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_put_and_get_a_directory_of_200_files(env: dict[str, str], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    rng = random.Random(12)
    for index in range(200):
        path = tree / f"d{index % 7}" / f"s{index % 3}" / f"file {index}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randrange(0, 40_000)))
    put = run_cli(env, "put", "--recursive", str(tree), "--prefix", "tree/", "--json")
    assert put.returncode == 0, put.stderr
    results = [json.loads(line) for line in put.stdout.decode().splitlines()]
    assert len(results) == 200
    assert {r["key"] for r in results} == {
        "tree/" + p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()
    }
    keys = "\n".join(r["key"] for r in results).encode()
    out = tmp_path / "out"
    got = run_cli(
        env, "get", "--keys-from", "-", "-o", f"{out}/", "--strip-prefix", "tree/", stdin=keys
    )
    assert got.returncode == 0, got.stderr
    originals = sorted(p.relative_to(tree) for p in tree.rglob("*") if p.is_file())
    copies = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert copies == originals
    for relative in originals:
        assert sha256(out / relative) == sha256(tree / relative), relative


def test_stdin_to_stdout_and_server_chosen_keys(env: dict[str, str]) -> None:
    data = b"line one\nline two\n" * 1000
    put = run_cli(env, "put", "-", "--key", "piped", stdin=data)
    assert (put.returncode, put.stdout) == (0, b"piped\n"), put.stderr
    assert run_cli(env, "get", "piped").stdout == data
    assert run_cli(env, "get", "piped", "-o", "-").stdout == data
    chosen = run_cli(env, "put", "-", stdin=b"anonymous")
    assert chosen.returncode == 0, chosen.stderr
    key = chosen.stdout.decode().strip()
    assert key
    assert key != "-"
    assert run_cli(env, "get", key).stdout == b"anonymous"


def test_head_json_and_content_type_guessing(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "image.bin").write_bytes(PNG)  # filetype: the bytes say PNG
    (tmp_path / "notes.txt").write_text("plain")  # the name says text
    put = run_cli(
        env,
        *("put", str(tmp_path / "image.bin"), str(tmp_path / "notes.txt")),
        *("--prefix", "p/", "--ttl", "2d", "-m", "owner=cli", "-m", "note=a b"),
    )
    assert put.returncode == 0, put.stderr
    head = run_cli(env, "head", "p/image.bin", "p/notes.txt", "--json")
    assert head.returncode == 0, head.stderr
    image, notes = (json.loads(line) for line in head.stdout.decode().splitlines())
    assert image["key"] == "p/image.bin"
    assert image["content_type"] == "image/png"
    assert notes["content_type"].startswith("text/plain")
    assert image["expiration_policy"] == "ttl:2d"
    assert image["metadata"] == {"owner": "cli", "note": "a b"}
    assert image["compression"] == "zstd"
    explicit = run_cli(env, "put", "-", "--key", "typed", "-t", "application/json", stdin=b"{}")
    assert explicit.returncode == 0
    typed = json.loads(run_cli(env, "head", "typed", "--json").stdout)
    assert typed["content_type"] == "application/json"


def test_head_human_output(env: dict[str, str]) -> None:
    run_cli(env, "put", "-", "--key", "h", "--tti", "1h", "-m", "a=b", stdin=b"x")
    head = run_cli(env, "head", "h")
    assert head.returncode == 0, head.stderr
    lines = head.stdout.decode().splitlines()
    assert lines[0].split() == ["key", "h"]
    assert "expiration-policy  tti:1h" in lines
    assert "meta.a             b" in lines


def test_rm_many_keys(env: dict[str, str]) -> None:
    for key in ("r1", "r2", "r3"):
        assert run_cli(env, "put", "-", "--key", key, stdin=b"x").returncode == 0
    removed = run_cli(env, "rm", "r1", "r2", "r3")
    assert (removed.returncode, removed.stderr) == (0, b"")
    for key in ("r1", "r2", "r3"):
        gone = run_cli(env, "head", key)
        assert gone.returncode == 1
        assert "not found" in gone.stderr.decode()


def test_url_plain_token_and_presigned(auth_env: dict[str, str]) -> None:
    put = run_cli(auth_env, "put", "-", "--key", "shared", "--compression", "none", stdin=b"hi")
    assert put.returncode == 0, put.stderr
    plain = run_cli(auth_env, "url", "shared").stdout.decode().strip()
    assert plain == (
        f"{auth_env['OBJECTSTORE_URL']}/v1/objects/{auth_env['OBJECTSTORE_USECASE']}"
        "/org=42;project=1/shared"
    )
    tokened = run_cli(auth_env, "url", "shared", "--token-valid", "5m").stdout.decode().strip()
    assert "?os_auth=" in tokened
    presigned = run_cli(auth_env, "url", "shared", "--presign", "--valid", "10m")
    assert presigned.returncode == 0, presigned.stderr
    for url in (tokened, presigned.stdout.decode().strip()):
        with urllib.request.urlopen(url) as response:
            assert response.read() == b"hi"


def test_token_is_scoped_and_usable(auth_env: dict[str, str]) -> None:
    run_cli(auth_env, "put", "-", "--key", "t", "--compression", "none", stdin=b"tok")
    minted = run_cli(auth_env, "token", "--permissions", "read", "--expires", "2m")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.decode().strip()
    assert token.count(".") == 2
    url = run_cli(auth_env, "url", "t").stdout.decode().strip()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        assert response.read() == b"tok"
    delete = urllib.request.Request(url, method="DELETE", headers=request.headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(delete)
    assert refused.value.code == 403
    refused.value.close()


def test_batch_of_json_lines(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("from a file")
    lines = [
        {"op": "put", "key": "b1", "file": str(tmp_path / "a.txt"), "ttl": "1d"},
        {"op": "put", "key": "b2", "data": "inline", "metadata": {"k": "v"}},
        {"op": "get", "key": "b1", "file": str(tmp_path / "out" / "b1.txt")},
        {"op": "get", "key": "b2"},
        {"op": "head", "key": "b2"},
        {"op": "delete", "key": "b2"},
        {"op": "head", "key": "b2"},
    ]
    ops = tmp_path / "ops.jsonl"
    ops.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = run_cli(env, "batch", str(ops))
    assert result.returncode == 1  # the last head finds nothing
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["ok"] for r in out] == [True] * 6 + [False]
    assert (tmp_path / "out" / "b1.txt").read_text() == "from a file"
    assert out[3]["data_base64"] == "aW5saW5l"
    assert out[4]["metadata"] == {"k": "v"}
    assert out[6]["status"] == 404
    assert result.stderr.decode().strip() == "objectstore: batch: 1 of 7 operations failed"


def test_serve_delegates_to_the_local_server(tmp_path: Path) -> None:
    help_text = run_cli({**os.environ, "PYTHONPATH": str(ROOT)}, "serve", "--help").stdout
    for flag in (b"--port", b"--memory", b"--auth-key", b"--semantics", b"--data-dir"):
        assert flag in help_text
    with subprocess.Popen(
        [sys.executable, "-m", "objectstore_client", "serve", "--port", "0", "--memory"],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    ) as server:
        try:
            assert server.stdout is not None
            banner = server.stdout.readline().decode()
            url = banner.split(" on ")[1].split()[0]
            env = cli_env(url, "served")
            assert run_cli(env, "put", "-", "--key", "k", stdin=b"v").returncode == 0
            assert run_cli(env, "get", "k").stdout == b"v"
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=30) == 0


def test_help_has_examples_for_every_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    top = run_cli(env, "--help")
    assert top.returncode == 0
    for command in ("put", "get", "head", "rm", "url", "token", "batch"):
        assert command in top.stdout.decode()
        sub = run_cli(env, command, "--help")
        assert sub.returncode == 0
        assert "examples:" in sub.stdout.decode(), command


def test_the_console_script_points_at_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["objectstore"].partition(":")
    namespace: dict[str, object] = {}
    exec(f"from {module} import {name} as entry", namespace)
    from objectstore_client.cli import main

    assert namespace["entry"] is main


def test_batch_rounds_keep_the_order_that_matters() -> None:
    from objectstore_client.cli._batch import parse_line, rounds

    ops = [
        parse_line(n, json.dumps(entry))
        for n, entry in enumerate(
            [
                {"op": "put", "key": "a", "data": "1"},
                {"op": "put", "key": "b", "data": "2"},
                {"op": "put", "data": "server-chosen"},
                {"op": "get", "key": "a"},  # reads a written key: new round
                {"op": "head", "key": "b"},
                {"op": "head", "key": "c"},
                {"op": "get", "key": "c"},  # two reads of c share a round
                {"op": "delete", "key": "c"},  # writes a read key: new round
            ],
            1,
        )
    ]
    assert [[op.line for op in run] for run in rounds(ops)] == [[1, 2, 3], [4, 5, 6, 7], [8]]
