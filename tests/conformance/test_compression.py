"""§8 compression: the server stores and returns bytes as sent and never negotiates."""

from __future__ import annotations

import io

import pytest
import zstandard

from ._api import Api, uniq

TEXT = b"The quick brown fox jumps over the lazy dog. " * 200


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param(None, id="no-accept-encoding"),
        pytest.param("identity", id="identity"),
        pytest.param("gzip", id="gzip"),
        pytest.param("zstd", id="zstd"),
        pytest.param("*;q=0", id="nothing"),
    ],
)
def test_zstd_returned_as_stored_regardless_of_accept_encoding(
    api: Api, accept: str | None
) -> None:
    """§8/§19.4: stored zstd bytes come back as-is with `content-encoding: zstd`."""
    key = uniq()
    payload = _zstd(TEXT)
    api.put_ok(key, payload, {"content-encoding": "zstd", "content-type": "text/plain"})
    resp = api.get(key, {} if accept is None else {"accept-encoding": accept})
    assert resp.status == 200, resp
    assert resp.header("content-encoding") == "zstd"
    assert resp.body == payload
    assert zstandard.ZstdDecompressor().decompress(resp.body) == TEXT


@pytest.mark.parametrize("accept", ["gzip", "zstd", "br, gzip, deflate"])
def test_uncompressed_never_compressed_on_the_way_out(api: Api, accept: str) -> None:
    """§1/§8: the server has no response-compression layer."""
    key = uniq()
    api.put_ok(key, TEXT)
    resp = api.get(key, {"accept-encoding": accept})
    assert resp.body == TEXT
    assert not resp.has("content-encoding")


def test_zstd_payload_not_validated(api: Api) -> None:
    """§8: the server never checks that a `zstd` payload really is zstd."""
    key = uniq()
    resp = api.put(key, b"definitely not zstd", {"content-encoding": "zstd"})
    assert resp.status == 200, resp
    got = api.get(key)
    assert got.body == b"definitely not zstd"
    assert got.header("content-encoding") == "zstd"


def test_multi_frame_zstd_stored_verbatim(api: Api) -> None:
    """§8: concatenated zstd frames are stored verbatim and decode across frames."""
    key = uniq()
    payload = _zstd(b"frame one;") + _zstd(b"frame two")
    api.put_ok(key, payload, {"content-encoding": "zstd"})
    body = api.get(key).body
    assert body == payload
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True)
    assert reader.read() == b"frame one;frame two"


def test_uncompressed_bytes_never_decompressed(api: Api) -> None:
    """§8: a zstd payload uploaded WITHOUT content-encoding is opaque bytes, returned as such."""
    key = uniq()
    payload = _zstd(TEXT)
    api.put_ok(key, payload)
    resp = api.get(key)
    assert resp.body == payload
    assert not resp.has("content-encoding")
