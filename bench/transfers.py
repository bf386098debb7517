"""upload_file / download_file of a 1 GiB file against objectstore-client 0.2.10 and urllib3.

    python bench/transfers.py                  # 1 GiB, 6 rounds (about 5-10 minutes on 2 cores)
    python bench/transfers.py --no-upgrade     # skip pip once bench/.venv-0.2.10 exists
    python bench/transfers.py --size-mib 256   # smaller file, quicker
    python bench/transfers.py --part-size-mib 16 --concurrency 2   # other settings
    python bench/transfers.py --text logs      # varied log lines instead of one repeated
    OBJECTSTORE_URL=http://host:8888 OBJECTSTORE_AUTH_KID=kid \
        OBJECTSTORE_AUTH_KEY_FILE=private.pem python bench/transfers.py   # another server

Makes a file of SIZE bytes (the first half random, the second half log-like text: one line
repeated, or with `--text logs` lines whose fields vary) and starts the local server in its
own process (run.py's: objects in memory). Per round, side by side (who goes first rotates
from round to round, and the number of rounds is a multiple of 3, so each goes first
equally often): uploads the file with our `upload_file`, with 0.2.10's `put` of the open
file and with raw urllib3 (one PUT, compressed as one zstd stream while sent, chunked),
then downloads each object with our `download_file`, with 0.2.10's `get` streamed to a
file and with raw urllib3 (one GET decoded as it arrives). Every transfer runs in a fresh
process of its own, so its peak RSS (imports included) is its own. Every downloaded file's
sha256 is checked against the source. 0.2.10 lives in bench/.venv-0.2.10 (created by pip,
via run.py's helper).

With `OBJECTSTORE_URL` set, every transfer goes to that server instead (auth and usecase
as in run.py: `OBJECTSTORE_AUTH_KID` with `OBJECTSTORE_AUTH_KEY_FILE`, and
`OBJECTSTORE_USECASE`, default `bench`); its CPU is not measured, and the three objects
are deleted at the end.

Fairness, so that no transfer pays for another's leftovers: before every timed transfer
the machine's dirty pages are written back (`os.sync()`, untimed), and the worker writes
and deletes a scratch file of twice the size (untimed) so that the transfer finds warm
free pages. On a VM whose balloon reports free pages to the host (the bench machine), a
page freed more than a second or two ago costs about 1.7 s of system time per GiB to
touch again; without the warm-up, whichever download ran first after the uploads paid
2-4 s for it (`--no-warm` shows it). With the warm-up the first still paid 0.3-0.5 s more
in some runs, so an untimed download runs before the timed ones. Prints one line per
transfer (with the user and system CPU of the client, and the server's CPU during it) and
a table of medians; ratios are medians of the per-round ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402 (bench/run.py: the virtualenv helper and the server process)

VENV = BENCH / ".venv-0.2.10"
WORKER = BENCH / "_transfer_worker.py"
IMPLS = ("ours", "0.2.10", "raw-urllib3")
MIB = 1024 * 1024


def make_file(path: Path, size: int, text: str = "repetitive") -> str:
    """Writes half random bytes, half text; returns their sha256.

    The text is one log line repeated ("repetitive", which zstd compresses at several
    GB/s), or log lines whose fields vary ("logs": 16 different MiB in turn, further apart
    than zstd's window, compressing about 6 times at a few hundred MB/s, as real logs do).
    """
    digest = hashlib.sha256()
    line = b'{"level":"info","msg":"request served","path":"/api/0/projects/","ms":12}\n'
    if text == "repetitive":
        blocks = [(line * (MIB // len(line) + 1))[:MIB]]
    else:
        rng = random.Random(1)
        blocks = []
        for _ in range(16):
            lines = bytearray()
            while len(lines) < MIB:
                lines += b'{"level":"%s","msg":"request served","path":"/api/0/projects/%d/",' % (
                    rng.choice((b"info", b"warning", b"debug")),
                    rng.randrange(10**6),
                )
                lines += b'"ms":%d,"trace":"%032x"}\n' % (rng.randrange(5000), rng.getrandbits(128))
            blocks.append(bytes(lines[:MIB]))
    with path.open("wb") as file:
        written = 0
        while written < size:
            take = min(MIB, size - written)
            if written < size // 2:
                chunk = os.urandom(take)
            else:
                chunk = blocks[(written // MIB) % len(blocks)][:take]
            file.write(chunk)
            digest.update(chunk)
            written += take
    return digest.hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a running process used so far, from /proc; NaN if None."""
    if pid is None:
        return math.nan
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BenchServer:
    """The server the transfers go to: the local one in its own process, or `OBJECTSTORE_URL`."""

    def __init__(self, work: Path) -> None:
        external = run.external_server()
        self._local: run.Server | None = None
        self.pid: int | None = None
        # Worker arguments after WARM_BYTES: [] or [AUTH_JSON].
        self.auth: list[str] = []
        if external:
            self.url = external[1]
            self.auth = [json.dumps(external[2])] if external[2] else []
        else:
            self._local = run.Server(work, "transfers", None)
            self.url = self._local.url
            self.pid = self._local.process.pid

    def stop(self) -> None:
        """Stops the local server; on another server, deletes the objects the bench wrote."""
        if self._local is not None:
            self._local.stop()
            return
        for impl in IMPLS:
            transfer("ours", "delete", self, f"transfers-{impl}", Path("-"), {}, 0)


def transfer(
    impl: str, op: str, server: BenchServer, key: str, path: Path, config: dict[str, int], warm: int
) -> dict[str, Any]:
    python = str(VENV / "bin" / "python") if impl == "0.2.10" else sys.executable
    env = run._clean_env()
    if impl == "ours":
        env["PYTHONPATH"] = str(BENCH.parent)
    arguments = [impl, op, server.url, key, str(path), json.dumps(config), str(warm), *server.auth]
    out = subprocess.run(
        [python, str(WORKER), *arguments],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{impl} {op} failed:\n{out.stderr[-3000:]}")
    if op == "delete":
        return {}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--rounds", type=int, default=6, help="a multiple of 3: each goes first as often"
    )
    parser.add_argument("--part-size-mib", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--no-upgrade", action="store_true", help="skip pip")
    parser.add_argument(
        "--text",
        choices=("repetitive", "logs"),
        default="repetitive",
        help="the second half of the file: one log line repeated, or log lines that vary",
    )
    parser.add_argument(
        "--no-sync", action="store_true", help="no os.sync() before transfers (shows why it is)"
    )
    parser.add_argument(
        "--no-warm",
        action="store_true",
        help="no warm-up before transfers nor untimed download (shows why they are)",
    )
    args = parser.parse_args()
    if args.rounds < 3 or args.rounds % len(IMPLS):
        parser.error("--rounds must be a multiple of 3, so each goes first equally often")
    version = run.ensure_upstream(
        not args.no_upgrade, venv=VENV, requirement="objectstore-client==0.2.10"
    )
    config: dict[str, int] = {}
    if args.part_size_mib:
        config["part_size"] = args.part_size_mib * MIB
    if args.concurrency:
        config["max_concurrency"] = args.concurrency
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="bench-transfers-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        expected = make_file(source, size, args.text)
        server = BenchServer(work)
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        try:
            for round_number in range(args.rounds):
                # Rotate who goes first, so that drift hits all alike.
                turn = round_number % len(IMPLS)
                impls = IMPLS[turn:] + IMPLS[:turn]
                for op in ("upload", "download"):
                    if op == "download" and not args.no_warm:
                        # An untimed download first: the first download after the uploads
                        # still paid more system time than the second (see the README).
                        scratch = work / "untimed.bin"
                        transfer("ours", op, server, "transfers-ours", scratch, config, 0)
                        scratch.unlink()
                    for impl in impls:
                        # One key per implementation, overwritten every round: the
                        # server holds two objects, not two per round.
                        key = f"transfers-{impl}"
                        target = source if op == "upload" else work / f"out-{impl}.bin"
                        synced = time.perf_counter()
                        if not args.no_sync:
                            os.sync()  # no transfer pays for another's writeback
                        synced = time.perf_counter() - synced
                        server_before = process_cpu(server.pid)
                        warm = 0 if args.no_warm else 2 * size
                        result = transfer(impl, op, server, key, target, config, warm)
                        result["server_cpu_seconds"] = process_cpu(server.pid) - server_before
                        result["sync_seconds"] = synced
                        if op == "download":
                            result["sha256_ok"] = sha256(target) == expected
                            target.unlink()
                        result["mib_s"] = size / MIB / result["seconds"]
                        results.setdefault((impl, op), []).append(result)
                        line = " ".join(
                            f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
                            for name, value in result.items()
                        )
                        print(f"round {round_number + 1} {impl:6} {op:8} {line}", flush=True)
        finally:
            server.stop()
    sync = "no sync" if args.no_sync else "os.sync() before each transfer"
    sync += ", no warm-up" if args.no_warm else ", warm-up of 2x the size"
    print(
        f"\n{args.size_mib} MiB file, {args.rounds} rounds, {sync}; objectstore-client"
        f" {version} as the baseline; {config}; server {server.url}"
    )
    print(
        "| transfer | ours MiB/s | 0.2.10 MiB/s | raw-urllib3 MiB/s | ours ÷ 0.2.10 (median,"
        " range) | ours ÷ raw (median, range) | CPU s ours / 0.2.10 / raw | server CPU s"
        " ours / 0.2.10 / raw | peak RSS MiB ours / 0.2.10 / raw |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for op in ("upload", "download"):
        runs = {impl: results[(impl, op)] for impl in IMPLS}

        def ratio(other: str, op_runs: dict[str, list[dict[str, Any]]] = runs) -> str:
            pairs = zip(op_runs["ours"], op_runs[other], strict=True)
            ratios = [a["mib_s"] / b["mib_s"] for a, b in pairs]
            return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"

        def medians(name: str, op_runs: dict[str, list[dict[str, Any]]] = runs) -> str:
            values = [statistics.median(r[name] for r in op_runs[impl]) for impl in IMPLS]
            # NaN: the server's CPU, not measured on another server.
            return " / ".join("n/a" if math.isnan(value) else f"{value:.2f}" for value in values)

        speeds = " | ".join(
            f"{statistics.median(r['mib_s'] for r in runs[impl]):.0f}" for impl in IMPLS
        )
        peaks = " / ".join(f"{max(r['peak_rss_mib'] for r in runs[impl]):.0f}" for impl in IMPLS)
        print(
            f"| {op} | {speeds} | {ratio('0.2.10')} | {ratio('raw-urllib3')}"
            f" | {medians('cpu_seconds')} | {medians('server_cpu_seconds')} | {peaks} |"
        )
    checks = [r["sha256_ok"] for op in ("download",) for impl in IMPLS for r in results[(impl, op)]]
    print(f"sha256 of every download matches the source: {all(checks)}")


if __name__ == "__main__":
    main()
