"""The local server reads batch bodies as the real server's multer 3.1 does (protocol §10.1).

`EXPECTED` are multer's own readings of each body (its fields' headers and data, or its
error text), from a Rust program that ran `multer::Multipart` over them on 2026-12-07;
`FormParts` must read the same.
"""

from __future__ import annotations

import random

import pytest

from objectstore_client.testing._form_data import (
    _WELL_FORMED,
    FormParts,
    FramingError,
    _parse_byte_by_byte,
    parse_header_block,
)

_THIRTY_TWO = b"".join(b"h%d: v\r\n" % i for i in range(32))

Reading = list[tuple[str, list[tuple[str, str]], bytes] | tuple[str, str]]

EXPECTED: dict[str, tuple[bytes, Reading]] = {
    # A bare LF ends a line, an empty line ends the headers; the rest of the block is lost.
    "lf-line-ends": (
        b"--B\r\nk: v\nj: w\n\nz: q\r\n\r\nx\r\n--B--\r\n",
        [("part", [("j", "w"), ("k", "v")], b"x")],
    ),
    "repeated-header-last-wins": (
        b"--B\r\nk: a\r\nk: b\r\n\r\nx\r\n--B--\r\n",
        [("part", [("k", "b")], b"x")],
    ),
    "32-headers": (
        b"--B\r\n" + _THIRTY_TWO + b"\r\nx\r\n--B--\r\n",
        [("part", sorted((f"h{i}", "v") for i in range(32)), b"x")],
    ),
    "33-headers": (
        b"--B\r\n" + _THIRTY_TWO + b"h32: v\r\n\r\nx\r\n--B--\r\n",
        [("error", "failed to read headers")],
    ),
    # A part without headers: its header block runs to the next CRLF CRLF, the next part's.
    "no-headers-swallows-next-part": (
        b"--B\r\n\r\nbody\r\n--B\r\nk: v\r\n\r\nx\r\n--B--\r\n",
        [("part", [], b"x")],
    ),
    "value-whitespace-trimmed": (
        b"--B\r\nk: \t v \t\r\n\r\nx\r\n--B--\r\n",
        [("part", [("k", "v")], b"x")],
    ),
    "empty-value": (b"--B\r\nk:\r\n\r\nx\r\n--B--\r\n", [("part", [("k", "")], b"x")]),
    "control-byte": (
        b"--B\r\nk: v\x0b\r\n\r\nx\r\n--B--\r\n",
        [("error", "failed to read headers")],
    ),
    "del-byte": (b"--B\r\nk: v\x7f\r\n\r\nx\r\n--B--\r\n", [("error", "failed to read headers")]),
    "obs-text-kept": (b"--B\r\nk: v\xe9\r\n\r\nx\r\n--B--\r\n", [("part", [("k", "v\xe9")], b"x")]),
    "space-before-colon": (
        b"--B\r\nk : v\r\n\r\nx\r\n--B--\r\n",
        [("error", "failed to read headers")],
    ),
    "bare-cr": (b"--B\r\nk: v\rw\r\n\r\nx\r\n--B--\r\n", [("error", "failed to read headers")]),
    "padding-after-delimiter": (
        b"--B \t\r\nk: v\r\n\r\nx\r\n--B--\r\n",
        [("part", [("k", "v")], b"x")],
    ),
    "long-padding-after-delimiter": (
        b"--B" + b" " * 300 + b"\r\nk: v\r\n\r\nx\r\n--B--\r\n",
        [("part", [("k", "v")], b"x")],
    ),
    "junk-after-delimiter": (
        b"--B x\r\nk: v\r\n\r\nx\r\n--B--\r\n",
        [("error", "incomplete multipart stream")],
    ),
    # The body ends inside a part's data: multer names the field, as Rust's `{:?}` does.
    "cut-short-named": (
        b'--B\r\ncontent-disposition: form-data; name="p\\"q"\r\n\r\ncut short',
        [
            ("part", [("content-disposition", 'form-data; name="p\\"q"')], b""),
            ("error", 'field "p\\"q" received with incomplete data'),
        ],
    ),
    "cut-short-unnamed": (
        b"--B\r\nk: v\r\n\r\ncut short",
        [("part", [("k", "v")], b""), ("error", 'field "<unknown>" received with incomplete data')],
    ),
    "uppercase-name": (
        b"--B\r\nX-Name: V\r\n\r\nx\r\n--B--\r\n",
        [("part", [("x-name", "V")], b"x")],
    ),
}


class _Body:
    """A request body served in small reads, so that blocks straddle reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def read(self, size: int) -> bytes:
        chunk = self._data[self._position : self._position + min(size, 7)]
        self._position += len(chunk)
        return chunk


def _read(body: bytes) -> Reading:
    parts = FormParts(_Body(body), b"B")  # type: ignore[arg-type]
    reading: Reading = []
    try:
        more = parts.start()
        while more:
            headers = parts.headers()
            # multer hands out the field before it reads (and may fail to read) its data.
            reading.append(("part", sorted(headers), b""))
            data, _ = parts.body(1 << 20)
            reading[-1] = ("part", sorted(headers), data)
            more = parts.more()
    except FramingError as exc:
        reading.append(("error", str(exc)))
    return reading


@pytest.mark.parametrize("name", list(EXPECTED))
def test_batch_bodies_are_read_as_multer_reads_them(name):
    body, expected = EXPECTED[name]
    assert _read(body) == expected


def test_a_repeated_header_keeps_its_first_place():
    # `http::HeaderMap::insert` replaces the value where the name first was (checked with
    # httparse 1.10.1 and http 1 in a Rust program); the order decides which metadata
    # error a batch insert reports first.
    block = b"content-type: bad\r\nx-sn-expiration: bad\r\ncontent-type: bad2\r\n\r\n"
    assert parse_header_block(block) == [("content-type", "bad2"), ("x-sn-expiration", "bad")]


_PIECES = (
    *(b"a", b"Content-Type", b"x-sn-k", b":", b": ", b" ", b"\t", b"(", b"v", b'"q"', b"%"),
    *(b"\r\n", b"\n", b"\r", b"\x00", b"\x0b", b"\x1f", b"\x7f", b"\xe9"),
)


def test_the_regular_expressions_read_every_block_as_the_byte_by_byte_reader():
    # `parse_header_block` reads well-formed blocks with two regular expressions and hands
    # anything else to the byte-by-byte reader (the one tools/upstream_oracles compares with
    # httparse); both must give the same headers or the same error for every block.
    rng = random.Random(7)
    took_fast_path = 0
    for _ in range(30_000):
        block = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(14)))
        block += rng.choice((b"\r\n\r\n", b"\n\n", b"\r\n", b""))
        if rng.random() < 0.02:
            block = b"".join(b"h%d: v\r\n" % i for i in range(rng.randrange(28, 36))) + b"\r\n"
        outcomes: list[list[tuple[str, str]] | str] = []
        for read in (parse_header_block, _parse_byte_by_byte):
            try:
                outcomes.append(read(block))
            except FramingError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], block
        took_fast_path += _WELL_FORMED.match(block) is not None
    assert took_fast_path > 3_000  # both readings were compared often
