"""Defects found reviewing the transfer manager (upload_file, download_file, put sources)."""

from __future__ import annotations

import pytest

from objectstore_client import InvalidArgumentType, ObjectNotFound


def test_put_of_chunks_with_a_none_chunk_raises_rather_than_store_a_prefix(session):
    # A chunk that is not bytes-like raises (ChunkReader's docstring); None was taken for
    # the end of the iterator, and the chunks before it stored as the whole object.
    with pytest.raises(InvalidArgumentType, match="chunks must be bytes"):
        session.put(iter([b"first ", None, b"second"]), key="chunks/none")
    with pytest.raises(ObjectNotFound):
        session.get("chunks/none")

