"""The local server's percent codec for metadata values and batch keys (protocol §5.8)."""

from __future__ import annotations

import random
import re

import pytest

from objectstore_client.testing._pct import ValueCodecError, decode_value, encode_value

_ALPHABET = [chr(c) for c in range(0x80)] + ["é", "€", "\U0001f600", "%41", "%e9", "%C3%A9", "%"]


def _decoded(raw: str) -> str:
    """Protocol §5.8 character by character: visible ASCII or tab, `%XX` as a byte."""
    if any(not (" " <= char <= "~" or char == "\t") for char in raw):
        raise ValueCodecError("header value is not visible ASCII")
    data = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw.encode())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueCodecError("header value is not valid percent-encoded UTF-8") from None


def _encoded(value: str) -> str:
    """Protocol §5.8 character by character: controls, DEL, `%` and non-ASCII as `%XX`."""
    return "".join(
        "".join(f"%{byte:02X}" for byte in char.encode())
        if char == "%" or char < " " or char == "\x7f" or not char.isascii()
        else char
        for char in value
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_codec_agrees_with_the_rule_applied_character_by_character(seed):
    rng = random.Random(seed)
    for _ in range(20_000):
        value = "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(8)))
        assert encode_value(value) == _encoded(value), value
        try:
            expected: str | Exception = _decoded(value)
        except ValueCodecError as exc:
            expected = exc
        if isinstance(expected, ValueCodecError):
            with pytest.raises(ValueCodecError, match=re.escape(str(expected))):
                decode_value(value)
        else:
            assert decode_value(value) == expected, value


def test_values_round_trip():
    for value in ["", "plain", "50%", "tab\there", "é€😀", "%41 stays %41", "\x7f\x00"]:
        assert decode_value(encode_value(value)) == value
