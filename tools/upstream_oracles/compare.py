"""Compares the local server's parsers with the real server's own, on generated inputs.

    cargo build --release --manifest-path tools/upstream_oracles/Cargo.toml
    python tools/upstream_oracles/compare.py            # every check, seed 1
    python tools/upstream_oracles/compare.py --seed 7 --count 50000 media-type

The Rust program (`src/main.rs`) runs the crates the real server reads requests with
(objectstore-types 0.3.0, mediatype 0.21, humantime 2.4, multer 3.1, httparse 1.10 and
http 1.6 as hyper 1.13 calls them); this script feeds it
and `objectstore_client.testing` the same inputs (random ones over the characters each
grammar turns on, plus edge cases) and prints every difference. Exit status 1 if any.
Needs cargo and crates.io; not part of the test suite (docs/testing.md).
"""

from __future__ import annotations

import argparse
import itertools
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from objectstore_client._validation import check_content_type  # noqa: E402
from objectstore_client.errors import InvalidArgument  # noqa: E402
from objectstore_client.testing._duration import (  # noqa: E402
    DurationError,
    format_duration,
    parse_duration,
    parse_policy,
)
from objectstore_client.testing._form_data import FormParts, FramingError  # noqa: E402
from objectstore_client.testing._httparse import HeadError  # noqa: E402
from objectstore_client.testing._media_type import is_media_type  # noqa: E402
from objectstore_client.testing._rfc3339 import parse_rfc3339  # noqa: E402
from objectstore_client.testing._uri import httparse_accepts, read_target  # noqa: E402

ORACLE = HERE / "target" / "release" / "upstream-oracles"


def oracle(mode: str, inputs: list[bytes]) -> list[str]:
    """The real server's parser's answer for each input."""
    text = "".join(item.hex() + "\n" for item in inputs)
    out = subprocess.run(
        [str(ORACLE), mode], input=text, capture_output=True, text=True, check=True
    ).stdout
    return out.split("\n")[: len(inputs)]


def _unhex(answer: str) -> str | None:
    return None if answer == "ERR" else bytes.fromhex(answer).decode()


# -- generators ---------------------------------------------------------------------------


def media_types(rng: random.Random, count: int) -> list[str]:
    """Content types: short random strings over the grammar's characters, long names."""
    alphabet = [*"ab/+;= \t\"\\-*x.9%'", "json", "text/plain", "; charset=", "+x", "/", ";"]
    edges = [
        "a/b+x",
        "a/b+-x",
        "a/b+",
        "a/+xy",
        "a/b; x=",
        "a/b; -x=y",
        "a/" + "b" * 127 + "+x" + "c" * 127,
        "a/" + "b" * 128,
        "a/b; " + "n" * 128 + "=v",
    ]
    cases = set(edges)
    while len(cases) < count:
        if rng.random() < 0.8:
            cases.add("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))))
        else:
            name = "".join(rng.choice("ab+-*9.") for _ in range(rng.choice([1, 2, 126, 127, 128])))
            suffix = "".join(rng.choice("ab-9.") for _ in range(rng.choice([0, 1, 2, 127, 128])))
            cases.add(f"a/{name}+{suffix}" if rng.random() < 0.5 else f"{name}/b")
    return sorted(cases)


_UNITS = [
    "ns",
    "nsec",
    "nanos",
    "us",
    "usec",
    "ms",
    "msec",
    "millis",
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "m",
    "min",
    "mins",
    "minute",
    "minutes",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "d",
    "day",
    "days",
    "w",
    "wk",
    "wks",
    "week",
    "weeks",
    "M",
    "month",
    "months",
    "y",
    "yr",
    "yrs",
    "year",
    "years",
    "S",
    "H",
    "D",
    "mon",
    "x",
    "sx",
    "",
]
_NUMBERS = [
    "0",
    "1",
    "2",
    "10",
    "59",
    "60",
    "61",
    "86399",
    "86400",
    "99999999999",
    "18446744073709551615",
    "18446744073709551616",
    "584942417355",
    "1.5",
    "0.5",
    ".5",
    "1.",
    "01",
    "1_0",
    "-1",
    "+1",
    "1e3",
    "1.0000000000000000001",
    "1.00000000000000000000",
    "1.1234567891",
    "1.123456789",
    "0.000000001",
    "1.0000000001",
    "0.333",
]


def durations(rng: random.Random, count: int) -> list[str]:
    """`x-sn-expiration` values: one to three humantime items, odd numbers and units."""
    cases = {"ttl:", "ttl:0", "ttl: 1d", "ttl:1d ", "TTL:1d", "ttl:1 d", "ttl:1d1h", "manual"}
    while len(cases) < count:
        items = [
            rng.choice(_NUMBERS) + rng.choice(["", "", " "]) + rng.choice(_UNITS)
            for _ in range(rng.randint(1, 3))
        ]
        # U+001C: whitespace to Python, not to Rust.
        separators = ["", " ", "  ", "\t", ",", "\x1c"]
        text = items[0] + "".join(rng.choice(separators) + i for i in items[1:])
        cases.add(rng.choice(["ttl:", "tti:", "ttl:", "ttl", "Tti:"]) + text)
    return sorted(cases)


def rfc3339s(rng: random.Random, count: int) -> list[str]:
    """`at` deadlines: every short suffix of a valid one, and random field values."""
    parts = {
        "year": ["1969", "1970", "2016", "2100", "9999", "0000", "20a0"],
        "month": ["00", "01", "02", "06", "12", "13", "1"],
        "day": ["00", "01", "28", "29", "30", "31", "32"],
        "sep": ["T", "T", "t", " "],
        "hour": ["00", "23", "24"],
        "minute": ["00", "59", "60"],
        "second": ["00", "59", "60", "61", "5"],
        "fraction": ["", "", ".", ".0", ".5", ".000000001", ".0000000001", ".1a", ",5"],
        "suffix": ["Z", "Z", "+00:00", "z", "", "+01:00", "ZZ", "+0000Z", "Zx", "xxxxZ", "xxxxxZ"],
    }
    cases = {"2018-02-14T00:28:07Z", "9999-12-31T23:59:59.1Z", "2016-12-31T23:59:60Z"}
    # Every suffix of up to five characters after a valid date and time.
    base = "2018-02-14T00:28:07"
    for length in range(6):
        cases.update(base + "".join(s) for s in itertools.product("Z+0:.1x", repeat=length))
    while len(cases) < count + 20_000:
        p = {name: rng.choice(values) for name, values in parts.items()}
        cases.add(
            f"{p['year']}-{p['month']}-{p['day']}{p['sep']}{p['hour']}:{p['minute']}:"
            f"{p['second']}{p['fraction']}{p['suffix']}"
        )
    return sorted(cases)


def bodies(rng: random.Random, count: int) -> list[bytes]:
    """Batch bodies whose first part's header block is random bytes that matter to it."""
    pieces = [
        *(b"a", b"k", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x00", b"\x0b", b"\x7f"),
        *(b"\xe9", b"-", b"%", b"x-sn-batch-operation-kind: get", b"\r\n\r\n", b"--B"),
        *(b"content-disposition: form-data; ", b"name=part", b'name="p\\"q"', b"filename=f"),
        *(b"name", b"=", b'"', b";", b"\\", b"\xc3\xa9", b"\xff"),
    ]
    tails = [
        b"\r\n\r\nbody\r\n--B--\r\n",
        b"\r\n\r\n\r\n--B--\r\n",
        b"\r\n\r\nx\r\n--B\r\nk: v\r\n\r\ny\r\n--B--\r\n",
        b"\r\n\r\ncut short",
    ]
    cases = set()
    while len(cases) < count:
        block = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        cases.add(b"--B\r\n" + block + rng.choice(tails))
    return sorted(cases)


def targets(rng: random.Random, count: int) -> list[bytes]:
    """Origin-form request targets over every visible ASCII byte, some near hyper's limit.

    Bytes from 0x80 (valid UTF-8 or not) only after a `#` or near the length limit: in the
    path and query the local server refuses UTF-8 on purpose where `http` 1.3+ takes it
    (docs/protocol.md §1).
    """
    visible = [bytes([b]) for b in range(0x21, 0x7F)]
    pieces = [*visible, b"/", b"?", b"#", b"%2F", b"v1/objects/u/org=1/k", b"\x00", b" "]
    high = [b"\xc3\xa9", b"\xe9", b"\xff", b"\xf0\x9f\x98\x80"]
    cases = set()
    while len(cases) < count:
        target = b"/" + b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        if rng.random() < 0.1:
            fragment = [rng.choice(pieces + high) for _ in range(rng.randint(0, 4))]
            target += b"#" + b"".join(fragment)
        if rng.random() < 0.01:
            target += b"a" * (65_534 - len(target) + rng.randint(-1, 1))
            if rng.random() < 0.5:
                target += rng.choice(high)
        if b" " not in target:  # a space ends the target: another request line
            cases.add(target)
    return sorted(cases)


# -- what the local server makes of them ----------------------------------------------------


def _policy_echo(text: str) -> str | None:
    try:
        return parse_policy(text).render(current=True)
    except DurationError:
        return None


def _humantime_echo(text: str) -> str | None:
    try:
        return format_duration(parse_duration(text))
    except DurationError:
        return None


def _deadline(text: str) -> str:
    try:
        seconds, nanos = parse_rfc3339(text)
    except ValueError:
        return "ERR"
    seconds += 1 if nanos else 0
    return str(seconds) if seconds <= 253_402_300_799 else "ERR"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data, self._position = data, 0

    def read(self, size: int) -> bytes:
        chunk = self._data[self._position : self._position + size]
        self._position += len(chunk)
        return chunk


def _form_data(body: bytes) -> str:
    items = []
    parts = FormParts(_Body(body), b"B")  # type: ignore[arg-type]
    try:
        more = parts.start()
        while more:
            headers = parts.headers()
            pairs = sorted(
                f"{n.encode('latin-1').hex()}={v.encode('latin-1').hex()}" for n, v in headers
            )
            # multer hands out the field before it reads (and fails to read) its data.
            items.append(f"F[{','.join(pairs)}]:")
            data, _ = parts.body(1 << 30)
            items[-1] += data.hex()
            more = parts.more()
    except FramingError as exc:
        items.append(f"ERR:{exc}")
    return "\t".join(items)


def _target_verdict(target: bytes) -> str:
    """`_http._read_head`'s reading of a target: `httparse_accepts`, then `read_target`."""
    if not httparse_accepts(target):
        return "400"
    try:
        return read_target(target).hex()
    except HeadError as exc:
        return str(exc.status)


# -- the checks -----------------------------------------------------------------------------


def _media_type_verdict(value: str) -> str:
    return "1" if is_media_type(value) else "0"


def _client_verdict(value: str) -> str:
    """Whether the client's check before sending lets `value` through (`1`) or not."""
    try:
        check_content_type(value)
    except InvalidArgument:
        return "0"
    return "1"


Generator = Callable[[random.Random, int], list]
CHECKS: dict[str, tuple[str, Generator, list[tuple[str, Callable]]]] = {
    "media-type": (
        "media-type",
        media_types,
        [("local server", _media_type_verdict), ("client check", _client_verdict)],
    ),
    "expiration": (
        "expiration",
        durations,
        [("local server (today's echo)", _policy_echo)],
    ),
    "humantime": (
        "humantime",
        lambda rng, n: [d.split(":", 1)[1] for d in durations(rng, n) if ":" in d],
        [("local server (0.2.0's echo)", _humantime_echo)],
    ),
    "rfc3339": ("rfc3339", rfc3339s, [("local server", _deadline)]),
    "form-data": ("form-data", bodies, [("local server", _form_data)]),
    "request-target": ("request-target", targets, [("local server", _target_verdict)]),
}


def run(name: str, seed: int, count: int) -> int:
    """Runs one check; the number of differences."""
    mode, generate, sides = CHECKS[name]
    inputs = generate(random.Random(seed), count)
    raw = [i if isinstance(i, bytes) else i.encode() for i in inputs]
    answers = oracle(mode, raw)
    if mode in ("expiration", "humantime"):
        answers = [_unhex(a) for a in answers]  # type: ignore[misc]
    differences = 0
    for label, ours in sides:
        shown = 0
        for value, answer in zip(inputs, answers, strict=True):
            if label == "client check" and any(c in value for c in "\t\r\n"):
                continue  # the client sends printable ASCII only (`check_header_text`)
            mine = ours(value)
            if mine != answer:
                differences += 1
                if shown < 10:
                    shown += 1
                    print(f"  {label}: {value!r:.90} upstream {answer!r:.60} ours {mine!r:.60}")
        print(f"{name}, {label}: {len(inputs)} inputs compared, {differences} differences so far")
    return differences


def main() -> None:
    """Runs the checks named on the command line (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checks", nargs="*", choices=[*CHECKS, []], help="default: all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=30_000)
    args = parser.parse_args()
    if not ORACLE.exists():
        raise SystemExit(
            f"build the oracles first: cargo build --release --manifest-path {HERE}/Cargo.toml"
        )
    total = sum(run(name, args.seed, args.count) for name in args.checks or CHECKS)
    print(f"{total} differences in all")
    raise SystemExit(1 if total else 0)


if __name__ == "__main__":
    main()
