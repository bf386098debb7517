from __future__ import annotations

import io
import os

import pytest

from objectstore_client.utils import (
    decode_header_value,
    encode_header_value,
    guess_mime_type,
    parse_accept_encoding,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param(PNG, id="bytes"),
        pytest.param(bytearray(PNG), id="bytearray"),
        pytest.param(memoryview(PNG), id="memoryview"),
    ],
)
def test_guess_mime_type_of_buffers(contents):
    assert guess_mime_type(contents) == "image/png"


def test_guess_mime_type_restores_stream_position():
    stream = io.BytesIO(b"xx" + PNG)
    stream.seek(2)
    assert guess_mime_type(stream) == "image/png"
    assert stream.tell() == 2


def test_guess_mime_type_unknown():
    assert guess_mime_type(b"plain text") is None


def test_guess_mime_type_does_not_touch_pipes():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, PNG[:100])
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        assert guess_mime_type(pipe) is None
        assert pipe.read() == PNG[:100]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        pytest.param("plain ascii", "plain ascii", id="ascii-unchanged"),
        pytest.param("café", "caf%C3%A9", id="latin"),
        pytest.param("日本", "%E6%97%A5%E6%9C%AC", id="cjk"),
        pytest.param("100%", "100%25", id="percent"),
        pytest.param(" padded ", "%20padded%20", id="edge-spaces"),
        pytest.param("a\tb\nc", "a%09b%0Ac", id="controls"),
        pytest.param("   ", "%20%20%20", id="only-spaces"),
        pytest.param("", "", id="empty"),
    ],
)
def test_header_value_codec(value, encoded):
    assert encode_header_value(value) == encoded
    assert decode_header_value(encoded) == value


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("zstd", ["zstd"], id="one"),
        pytest.param("gzip, zstd;q=0.8, br", ["gzip", "zstd", "br"], id="weights-dropped"),
        pytest.param(" ZSTD , Gzip ", ["zstd", "gzip"], id="lower-cased-and-stripped"),
        pytest.param("zstd;q=0, gzip", ["gzip"], id="refused"),
        pytest.param("zstd; Q = 0.000", [], id="refused-spelled-out"),
        pytest.param("zstd;q=0.001", ["zstd"], id="tiny-weight-accepted"),
        pytest.param("zstd;q=abc", ["zstd"], id="bad-weight-ignored"),
        pytest.param("zstd;level=1;q=0", [], id="other-parameters"),
        pytest.param("", [], id="empty"),
        pytest.param(" , ,zstd,", ["zstd"], id="empty-items"),
        pytest.param("*", ["*"], id="wildcard"),
        pytest.param("gzip, *;q=0.1", ["gzip", "*"], id="weighted-wildcard"),
        pytest.param("zstd;q=0, *", [], id="refusal-beats-wildcard"),
        pytest.param("gzip;q=0, *", ["zstd"], id="wildcard-without-the-refused"),
        pytest.param("br, *, zstd, *;q=0", ["br", "zstd"], id="wildcard-refused"),
        pytest.param("identity;q=0, *", ["*"], id="identity-refusal-ignored"),
    ],
)
def test_parse_accept_encoding(header, expected):
    assert parse_accept_encoding(header) == expected
