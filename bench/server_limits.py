"""The local server under connection pressure, with 256 file descriptors (issue 8 item 5).

    python bench/server_limits.py                 # 30 s of load, then 5 s of slow heads only
    python bench/server_limits.py --seconds 10    # shorter

One server process (`LocalServer` with its defaults, filesystem storage; `--max-connections`
overrides its connection cap) runs with RLIMIT_NOFILE = 256. Against it, for `--seconds`:

- 300 well-behaved clients (threads): each sends GETs of 1 KiB objects and PUTs of 1 KiB
  over keep-alive connections (a new connection every 20 requests); a 503 makes it close
  the connection, wait 50-250 ms and send the same request again, as a polite client does;
- 100 slow-header clients: each opens a connection, sends a request line and then one
  header line per second, never finishing the head; when the server closes the connection,
  it waits 0.5 s and opens another.

Then a quiet phase (`--quiet-seconds`): the well-behaved clients stop, the slow ones go on.
For each phase the table shows what the well-behaved clients got (every request must get an
HTTP answer: "errors" counts requests that got none, i.e. a reset, a refused or timed-out
connection), latencies, and the server process's CPU time read from /proc/<pid>/stat
(a server spinning on accept() would use a whole core in the quiet phase).

Loopback only; bounded: 400 client threads, `--seconds` + `--quiet-seconds` + start-up.
Linux only (RLIMIT_NOFILE via preexec_fn, /proc for CPU time).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

FD_LIMIT = 256
WELL_BEHAVED = 300
SLOW = 100
REQUESTS_PER_CONNECTION = 20
OBJECTS = 16
PAYLOAD = os.urandom(1024)

_SERVER = """
import sys, time
from objectstore_client.testing import LocalServer
cap = int(sys.argv[1]) if len(sys.argv) > 1 else None
server = LocalServer(port=0, max_connections=cap).start()
print(server.port, server.max_connections, flush=True)
sys.stdin.read()
server.stop()
"""


@dataclass
class Tally:
    """What the well-behaved clients saw in one phase."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    gave_up: int = 0  # requests still being retried (after 503s) when the phase ended
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class SlowTally:
    """What happened to the slow-header connections."""

    opened: int = 0
    closed_by_server: int = 0
    rejected_503: int = 0
    lifetimes: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _limit_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _well_behaved(port: int, index: int, stop: threading.Event, tally: Tally) -> None:
    rng = random.Random(index)
    conn: http.client.HTTPConnection | None = None
    used = 0
    while not stop.is_set():
        if rng.random() < 0.8:
            method, path, body = "GET", f"/v1/objects/bench/_/obj-{rng.randrange(OBJECTS)}", None
        else:
            method, path, body = "PUT", f"/v1/objects/bench/_/client-{index}", PAYLOAD
        while True:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                used = 0
            started = time.monotonic()
            try:
                conn.request(method, path, body=body)
                reply = conn.getresponse()
                reply.read()
            except (OSError, http.client.HTTPException) as exc:
                with tally.lock:
                    tally.errors[type(exc).__name__] += 1
                conn.close()
                conn = None
                break
            with tally.lock:
                tally.statuses[reply.status] += 1
                tally.latencies.append(time.monotonic() - started)
            used += 1
            if reply.status == 503:
                conn.close()
                conn = None
                if stop.wait(rng.uniform(0.05, 0.25)):
                    with tally.lock:
                        tally.gave_up += 1
                    break
                continue
            if reply.will_close or used >= REQUESTS_PER_CONNECTION:
                conn.close()
                conn = None
            break
    if conn is not None:
        conn.close()


def _slow_header(port: int, stop: threading.Event, tally: SlowTally) -> None:
    while not stop.is_set():
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            stop.wait(0.5)
            continue
        opened = time.monotonic()
        with tally.lock:
            tally.opened += 1
        closed = False
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
            line = 0
            while not stop.is_set():
                sock.settimeout(1.0)
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    sock.sendall(b"x-slow-%d: y\r\n" % line)
                    line += 1
                    continue
                if data.startswith(b"HTTP/1.1 503"):
                    with tally.lock:
                        tally.rejected_503 += 1
                if not data:
                    closed = True
                    break
        except OSError:
            closed = True
        finally:
            sock.close()
        if closed:
            with tally.lock:
                tally.closed_by_server += 1
                tally.lifetimes.append(time.monotonic() - opened)
            stop.wait(0.5)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(phase: str, seconds: float, tally: Tally, cpu: float, fds: int) -> str:
    answered = sum(tally.statuses.values())
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    server_errors = (
        sum(n for status, n in tally.statuses.items() if status >= 500) - tally.statuses[503]
    )
    errors = sum(tally.errors.values())
    p50 = _percentile(tally.latencies, 0.5) * 1000
    p99 = _percentile(tally.latencies, 0.99) * 1000
    return (
        f"| {phase} | {seconds:.0f} | {answered} | {ok} | {tally.statuses[503]} | "
        f"{server_errors} | {errors} | "
        f"{tally.gave_up} | {p50:.1f} | {p99:.1f} | {cpu:.2f} | {100 * cpu / seconds:.0f} % | "
        f"{fds} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load phase (default 30)")
    parser.add_argument("--quiet-seconds", type=float, default=5.0, help="slow-only phase")
    parser.add_argument(
        "--max-connections",
        type=int,
        help="override the server's connection cap (default: its own, from the fd limit); "
        "a cap above the fd limit makes accept() run out of descriptors",
    )
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        print("needs Linux (/proc, RLIMIT_NOFILE)", file=sys.stderr)
        return 2

    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SERVER,
            *([str(args.max_connections)] * bool(args.max_connections)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # without a cap, every EMFILE in a handler logs a traceback
        text=True,
        preexec_fn=_limit_fds,
    )
    assert server.stdout is not None
    assert server.stdin is not None
    port_text, cap_text = server.stdout.readline().split()
    port = int(port_text)
    try:
        for i in range(OBJECTS):
            setup = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            setup.request("PUT", f"/v1/objects/bench/_/obj-{i}", body=PAYLOAD)
            assert setup.getresponse().status == 200
            setup.close()

        load, quiet = Tally(), Tally()
        slow = SlowTally()
        stop_load, stop_slow = threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=_slow_header, args=(port, stop_slow, slow), daemon=True)
            for _ in range(SLOW)
        ]
        threads += [
            threading.Thread(target=_well_behaved, args=(port, i, stop_load, load), daemon=True)
            for i in range(WELL_BEHAVED)
        ]
        cpu0 = _cpu_seconds(server.pid)
        start = time.monotonic()
        for thread in threads:
            thread.start()
        peak_fds = 0
        while time.monotonic() - start < args.seconds:
            time.sleep(0.5)
            peak_fds = max(peak_fds, _fd_count(server.pid))
        stop_load.set()
        for thread in threads[SLOW:]:
            thread.join(60)
        cpu1 = _cpu_seconds(server.pid)
        load_seconds = time.monotonic() - start

        quiet_start = time.monotonic()
        quiet_fds = 0
        while time.monotonic() - quiet_start < args.quiet_seconds:
            time.sleep(0.5)
            quiet_fds = max(quiet_fds, _fd_count(server.pid))
        cpu2 = _cpu_seconds(server.pid)
        quiet_seconds = time.monotonic() - quiet_start
        stop_slow.set()
        for thread in threads[:SLOW]:
            thread.join(10)

        print(
            f"server: LocalServer, RLIMIT_NOFILE={FD_LIMIT}, connection cap "
            f"{cap_text}; clients: {WELL_BEHAVED} well-behaved + {SLOW} slow-header\n"
        )
        print(
            "| phase | s | answered | 2xx | 503 | other 5xx | errors | unfinished | p50 ms "
            "| p99 ms | server CPU s | CPU | peak fds |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        print(_row("load", load_seconds, load, cpu1 - cpu0, peak_fds))
        print(_row("slow heads only", quiet_seconds, quiet, cpu2 - cpu1, quiet_fds))
        lifetimes = slow.lifetimes
        print(
            f"\nslow-header connections: {slow.opened} opened, {slow.closed_by_server} closed "
            f"by the server ({slow.rejected_503} of them with a 503 at once), median "
            f"lifetime {statistics.median(lifetimes) if lifetimes else float('nan'):.1f} s"
        )
        if load.errors:
            print(f"errors by type: {dict(load.errors)}")
        server_errors = sum(n for status, n in load.statuses.items() if status >= 500)
        failed = bool(load.errors) or server_errors > load.statuses[503]
        failed = failed or not any(200 <= status < 300 for status in load.statuses)
        return 1 if failed else 0
    finally:
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        server.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
