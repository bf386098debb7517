"""Defects found reviewing the transfer manager (upload_file, download_file, put sources)."""

from __future__ import annotations

import json
import os

import pytest

from objectstore_client import Client, InvalidArgument, InvalidArgumentType, ObjectNotFound, Usecase
from objectstore_client.transfers import TransferConfig


def test_put_of_chunks_with_a_none_chunk_raises_rather_than_store_a_prefix(session):
    # A chunk that is not bytes-like raises (ChunkReader's docstring); None was taken for
    # the end of the iterator, and the chunks before it stored as the whole object.
    with pytest.raises(InvalidArgumentType, match="chunks must be bytes"):
        session.put(iter([b"first ", None, b"second"]), key="chunks/none")
    with pytest.raises(ObjectNotFound):
        session.get("chunks/none")


def _created(scripted, key="k"):
    body = json.dumps({"key": key, "session": "c2Vzc2lvbg", "granularity": 0}).encode()
    return scripted.Reply(200, {"Content-Type": "application/json"}, body)


@pytest.mark.parametrize("compression", [None, "none"])
def test_a_file_changed_during_a_resumable_upload_cancels_the_session(
    scripted, tmp_path, compression
):
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(1_000_000))

    def script(request, index):
        if "upload_type=resumable" in request.path:
            os.truncate(source, 500_000)  # after the client measured the file
            return _created(scripted)
        if request.method == "DELETE":
            return scripted.Reply(204)
        return scripted.Reply(204, {"Upload-Offset": "0"})

    server = scripted.start(script)
    config = TransferConfig(threshold=0, protocol="resumable")
    with Client(server.url, retries=0) as client:
        session = client.session(Usecase("u"), org=1)
        with pytest.raises(InvalidArgument):
            session.upload_file(source, "k", config=config, compression=compression)
    methods = [(r.method, "session=" in r.path) for r in server.requests]
    assert ("DELETE", True) in methods, methods


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(None, id="below-threshold"),
        pytest.param(TransferConfig(threshold=0, protocol="resumable"), id="resumable"),
    ],
)
def test_upload_file_progress_raising_at_the_end_stores_nothing(session, tmp_path, config):
    # progress.py: "An exception it raises propagates out of the operation, aborting it."
    # It was called once the object was stored: the caller got the callback's error, and
    # the object (under a key it never received, without `key`) stayed.
    source = tmp_path / "small.bin"
    source.write_bytes(os.urandom(300_000))

    def fail(progress):
        if progress.bytes_done == progress.bytes_total:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        session.upload_file(source, "uf/progress", config=config, progress=fail)
    with pytest.raises(ObjectNotFound):
        session.get("uf/progress")

