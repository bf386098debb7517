"""Session.many against the same operations issued one by one with our own put/get.

    python bench/batch.py                 # 2,500 operations, 5 rounds (about 1 minute)
    python bench/batch.py --ops 500 --rounds 1
    OBJECTSTORE_URL=http://host:8888 OBJECTSTORE_AUTH_KID=kid \
        OBJECTSTORE_AUTH_KEY_FILE=private.pem python bench/batch.py   # against another server

The operations (seeded, the same every run): 40 % puts of new objects, 30 % gets of
existing ones, 10 % gets of missing keys, 10 % heads, 10 % deletes of existing objects.
Object sizes are log-uniform from 1 KiB to 2 MiB (median about 45 KiB); contents are
log-like JSON lines with a random number each (zstd shrinks them several times). Both
ways run against the local server in its own process (objects in memory), with our
client's defaults; before each
timed run the objects the operations expect are (re)created and the ones they create are
removed, untimed. Every result of both ways is checked: get data, stored keys, 404s for
missing keys, head sizes. Prints, per round, ops/s and the CPU seconds of the client
process (all its threads) and of the server process over the timed part; then the median
of the per-round ratios (one by one / many) of time and of CPU, and the load average.

With `OBJECTSTORE_URL` set, both ways go to that server instead (auth and usecase as in
run.py: `OBJECTSTORE_AUTH_KID` with `OBJECTSTORE_AUTH_KEY_FILE`, and `OBJECTSTORE_USECASE`,
default `bench`); the server's CPU is not measured (the CPU ratio is the client's alone),
and the objects the bench wrote are deleted at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import run  # noqa: E402 (bench/run.py: the server process)
from _worker import USECASE, load_auth, sdk_token  # noqa: E402

from objectstore_client import Client, ObjectNotFound, Session, Usecase  # noqa: E402
from objectstore_client.batch import Delete, Get, Head, ObjectData, Operation, Put  # noqa: E402

LINE = b'{"level":"info","logger":"sentry.api","msg":"request served","path":"/api/0/","ms":'


def payload(rng: random.Random, size: int) -> bytes:
    lines = bytearray()
    while len(lines) < size:
        lines += LINE + str(rng.randrange(10**6)).encode() + b"}\n"
    return bytes(lines[:size])


def build(count: int, seed: int) -> tuple[list[Operation], dict[str, bytes]]:
    """The operations, and the objects that must exist before they run."""
    rng = random.Random(seed)
    operations: list[Operation] = []
    existing: dict[str, bytes] = {}
    for index in range(count):
        size = int(math.exp(rng.uniform(math.log(1024), math.log(2 * 1024 * 1024))))
        roll = rng.random()
        if roll < 0.4:
            operations.append(Put(payload(rng, size), key=f"new/{index}"))
        elif roll < 0.7:
            existing[f"old/{index}"] = payload(rng, size)
            operations.append(Get(f"old/{index}"))
        elif roll < 0.8:
            operations.append(Get(f"missing/{index}"))
        elif roll < 0.9:
            existing[f"old/{index}"] = payload(rng, size)
            operations.append(Head(f"old/{index}"))
        else:
            existing[f"old/{index}"] = payload(rng, size)
            operations.append(Delete(f"old/{index}"))
    return operations, existing


def prepare(session: Session, operations: list[Operation], existing: dict[str, bytes]) -> None:
    """Untimed: the objects read exist, the objects written do not."""
    session.many([Put(data, key=key) for key, data in existing.items()]).error_for_failures()
    created = [Delete(op.key) for op in operations if isinstance(op, Put) and op.key]
    session.many(created).error_for_failures()


def cleanup(session: Session, operations: list[Operation], existing: dict[str, bytes]) -> None:
    """Untimed, on another server: deletes every object the bench wrote."""
    written = [op.key for op in operations if isinstance(op, Put) and op.key]
    session.many([Delete(key) for key in [*existing, *written]]).error_for_failures()


def check(operation: Operation, value: object, error: object, existing: dict[str, bytes]) -> None:
    """Raises if an operation's outcome is not the expected one (asserts could be off)."""
    if isinstance(operation, Put):
        good = error is None and value == operation.key
    elif isinstance(operation, Get) and operation.key.startswith("missing/"):
        good = isinstance(error, ObjectNotFound)
    elif isinstance(operation, Get):
        good = error is None and value == existing[operation.key]
    else:
        good = error is None
    if not good:
        raise SystemExit(f"wrong result for {operation!r:.120}: {value!r:.80} {error!r}")


class Clock:
    """Wall time, this process's CPU time and the server process's CPU time, from `start`."""

    def __init__(self, server_pid: int | None) -> None:
        self._stat = f"/proc/{server_pid}/stat" if server_pid is not None else None

    def _server_cpu(self) -> float:
        if self._stat is None:  # another server's: not measured
            return math.nan
        try:
            with open(self._stat) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # not Linux: no server CPU
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        """Starts measuring."""
        self._started = (time.perf_counter(), time.process_time(), self._server_cpu())

    def stop(self) -> tuple[float, float, float]:
        """(wall, client CPU, server CPU) seconds since `start`."""
        now = (time.perf_counter(), time.process_time(), self._server_cpu())
        wall, client, server = (end - begin for end, begin in zip(now, self._started, strict=True))
        return wall, client, server


Timing = tuple[float, float, float]


def nansum(values: tuple[float, ...]) -> float:
    return sum(value for value in values if not math.isnan(value))


def cpu(timing: Timing) -> str:
    server = "n/a" if math.isnan(timing[2]) else f"{timing[2]:.2f} s"
    return f"client {timing[1]:.2f} s, server {server}"


def batched(
    session: Session, operations: list[Operation], existing: dict[str, bytes], clock: Clock
) -> Timing:
    clock.start()
    results = session.many(operations)
    timing = clock.stop()
    for operation, result in zip(operations, results, strict=True):
        value = result.value.data if isinstance(result.value, ObjectData) else result.value
        check(operation, value, result.error, existing)
    return timing


def one_by_one(
    session: Session, operations: list[Operation], existing: dict[str, bytes], clock: Clock
) -> Timing:
    outcomes: list[tuple[object, object]] = []
    clock.start()
    for operation in operations:
        try:
            if isinstance(operation, Put):
                outcomes.append((session.put(operation.contents, key=operation.key), None))
            elif isinstance(operation, Get):
                with session.get(operation.key) as got:
                    outcomes.append((got.payload.read(), None))
            elif isinstance(operation, Head):
                outcomes.append((session.head(operation.key), None))
            else:
                session.delete(operation.key)
                outcomes.append((None, None))
        except ObjectNotFound as exc:
            outcomes.append((None, exc))
    timing = clock.stop()
    for operation, (value, error) in zip(operations, outcomes, strict=True):
        check(operation, value, error, existing)
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    operations, existing = build(args.ops, args.seed)
    moved = [len(cast(bytes, op.contents)) for op in operations if isinstance(op, Put)]
    moved += [
        len(existing[op.key]) for op in operations if isinstance(op, Get) and op.key in existing
    ]
    payload_mib = sum(moved) / 2**20
    load_before = os.getloadavg()
    external = run.external_server()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        server = None if external else run.Server(Path(tmp), "batch", None)
        url = external[1] if external else cast(run.Server, server).url
        auth = load_auth(*external[2]) if external and external[2] else None
        clock = Clock(server.process.pid if server else None)
        ratios, cpu_ratios = [], []
        try:
            with Client(url, token=sdk_token(auth)) as client:
                session = client.session(Usecase(USECASE), org=1)
                for round_number in range(args.rounds):
                    timings: dict[str, Timing] = {}
                    # Alternate which goes first, so drift hits both alike.
                    order = (
                        ("many", "one by one") if round_number % 2 == 0 else ("one by one", "many")
                    )
                    for way in order:
                        prepare(session, operations, existing)
                        run_way = batched if way == "many" else one_by_one
                        timings[way] = run_way(session, operations, existing, clock)
                    many, single = timings["many"], timings["one by one"]
                    ratios.append(single[0] / many[0])
                    # nansum: on another server only the client's CPU is known.
                    cpu_ratios.append(nansum(single[1:]) / nansum(many[1:]))
                    print(
                        f"round {round_number + 1}: many {args.ops / many[0]:.0f} ops/s"
                        f" ({many[0]:.2f} s; CPU {cpu(many)}), one by one"
                        f" {args.ops / single[0]:.0f} ops/s ({single[0]:.2f} s; CPU {cpu(single)}):"
                        f" {ratios[-1]:.2f}x, every result checked"
                    )
                if external:
                    cleanup(session, operations, existing)
        finally:
            if server is not None:
                server.stop()
    load_after = os.getloadavg()
    print(
        f"{args.ops} operations, {payload_mib:.0f} MiB of payload put or got; median ratio"
        f" {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f});"
        f" CPU ({'client' if external else 'client + server'}) ratio"
        f" {statistics.median(cpu_ratios):.2f}x"
        f" (range {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}); load average"
        f" {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
