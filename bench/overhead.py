"""Our client's own CPU cost per operation, without network, server or noise from them.

    python bench/overhead.py                    # table: ours vs raw urllib3, per operation
    python bench/overhead.py --profile get_1k   # cProfile of ours for one case

`run.py` measures whole requests against a real server, on a VM whose speed drifts; a
difference of 50 µs per request is hard to see there. Here both sides talk to the same
canned urllib3 pool, whose `urlopen` returns a prepared `urllib3.HTTPResponse` (the
server's real headers, a zstd body or a JSON key) without any socket. What remains is the
work each side does around urllib3: for ours, `Session` validation, paths, headers,
metrics and tracing hooks, upload bodies, `Payload` and `Metadata`; for raw-urllib3, the
minimum (compress, send, parse the key; or read, decompress). Ours and raw are timed in
alternation, many times; the table shows medians, and the medians of the paired
differences and ratios, which move much less than the times themselves when the VM's speed
drifts. Use this to check a change to the client's hot path; use `run.py` for the numbers
users see.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import urllib3
import zstandard
from urllib3.connectionpool import HTTPConnectionPool

from objectstore_client import Client, Usecase

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _worker import Data

PATH = "/v1/objects/bench/org=1/k"
# What the local server answers, header for header.
GET_HEADERS = {
    "server": "objectstore/0.1.0",
    "content-type": "application/octet-stream",
    "content-encoding": "zstd",
    "x-sn-time-created": "2026-01-01T12:00:00.000000Z",
    "accept-ranges": "bytes",
    "date": "Thu, 01 Jan 2026 12:00:00 GMT",
    "transfer-encoding": "chunked",
}
PUT_HEADERS = {
    "server": "objectstore/0.1.0",
    "content-type": "application/json",
    "content-length": "11",
    "date": "Thu, 01 Jan 2026 12:00:00 GMT",
}
KEY_BODY = b'{"key":"k"}'


class CannedPool(HTTPConnectionPool):
    """A pool that answers every request from memory, reading any upload body first."""

    stored = b""

    def urlopen(  # type: ignore[override]
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Any = None,
        preload_content: bool = True,
        decode_content: bool = True,
        **kwargs: Any,
    ) -> urllib3.BaseHTTPResponse:
        """Returns the canned answer to `method`."""
        if method == "GET":
            return urllib3.HTTPResponse(
                body=io.BytesIO(self.stored),
                headers=GET_HEADERS,
                status=200,
                preload_content=preload_content,
                decode_content=False,
            )
        if body is not None and not isinstance(body, bytes | bytearray | memoryview):
            body.read()
        if method == "DELETE":
            return urllib3.HTTPResponse(
                body=io.BytesIO(b""), headers={}, status=204, preload_content=preload_content
            )
        return urllib3.HTTPResponse(
            body=io.BytesIO(KEY_BODY),
            headers=PUT_HEADERS,
            status=200,
            preload_content=preload_content,
            decode_content=False,
        )


def cases(pool: CannedPool) -> dict[str, tuple[bytes, Callable[[], object], Callable[[], object]]]:
    """Returns the cases: name -> (stored bytes, ours, raw-urllib3)."""
    session = Client("http://127.0.0.1:1", pool=pool).session(Usecase("bench"), org=1)
    compressor = zstandard.ZstdCompressor(write_checksum=True)
    decompressor = zstandard.ZstdDecompressor()
    headers = {"User-Agent": "objectstore-client/raw-urllib3"}
    upload_headers = headers | {"Content-Encoding": "zstd"}

    def raw_get() -> bytes:
        response = pool.urlopen("GET", PATH, headers=headers, decode_content=False)
        data: bytes = response.data
        if response.headers.get("content-encoding") == "zstd":
            data = decompressor.decompressobj().decompress(data)
        return data

    def raw_put(data: bytes) -> str:
        body = compressor.compress(data)
        response = pool.urlopen("PUT", PATH, body=body, headers=upload_headers)
        key: str = json.loads(response.data)["key"]
        return key

    def raw_delete() -> None:
        pool.urlopen("DELETE", PATH, headers=headers)

    data = Data()
    result: dict[str, tuple[bytes, Callable[[], object], Callable[[], object]]] = {}
    for name, payload in (
        ("1k", data.small),
        ("64k", data.medium),
        ("1m_random", data.big_random),
        ("1m_text", data.big_text),
    ):
        stored = compressor.compress(payload)
        result[f"get_{name}"] = (
            stored,
            lambda: session.get("k").payload.read(),
            raw_get,
        )
        result[f"put_{name}"] = (
            stored,
            lambda payload=payload: session.put(payload, key="k"),  # type: ignore[misc]
            lambda payload=payload: raw_put(payload),  # type: ignore[misc]
        )
    result["delete"] = (b"", lambda: session.delete("k"), raw_delete)
    return result


def paired(
    ours: Callable[[], object], raw: Callable[[], object], number: int, repeat: int
) -> tuple[list[float], list[float]]:
    """Times `number` calls of each, alternating, `repeat` times; microseconds per call."""
    ours_times, raw_times = [], []
    for index in range(repeat):
        # Alternate which goes first, so that neither always follows the other.
        first, second = (ours, raw) if index % 2 == 0 else (raw, ours)
        first_time = timeit.timeit(first, number=number) / number * 1e6
        second_time = timeit.timeit(second, number=number) / number * 1e6
        ours_time, raw_time = (
            (first_time, second_time) if index % 2 == 0 else (second_time, first_time)
        )
        ours_times.append(ours_time)
        raw_times.append(raw_time)
    return ours_times, raw_times


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--profile", metavar="CASE", help="print a cProfile of ours for CASE")
    parser.add_argument("--repeat", type=int, default=21, help="alternating repeats")
    args = parser.parse_args(argv)
    pool = CannedPool("127.0.0.1", 1)
    all_cases = cases(pool)
    if args.profile:
        stored, ours, _ = all_cases[args.profile]
        pool.stored = stored
        number = 3000 if len(stored) < 100_000 else 100
        profile = cProfile.Profile()
        profile.runcall(lambda: [ours() for _ in range(number)])
        print(f"{number} calls of ours, {args.profile}:")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return 0
    print(
        "| case | ours µs/op | raw-urllib3 µs/op | ours extra µs/op | ours ÷ raw |\n"
        "|---|--:|--:|--:|--:|"
    )
    for name, (stored, ours, raw) in all_cases.items():
        pool.stored = stored
        if name.startswith("get"):
            decoded = zstandard.ZstdDecompressor().decompressobj().decompress(stored)
            if ours() != decoded or raw() != decoded:
                raise SystemExit(f"{name}: a download returned other bytes")
        number = 1000 if len(stored) < 100_000 else 20
        ours_times, raw_times = paired(ours, raw, number, args.repeat)
        extra = statistics.median(o - r for o, r in zip(ours_times, raw_times, strict=True))
        ratio = statistics.median(o / r for o, r in zip(ours_times, raw_times, strict=True))
        print(
            f"| {name} | {statistics.median(ours_times):.1f} "
            f"| {statistics.median(raw_times):.1f} | {extra:+.1f} | {ratio:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
