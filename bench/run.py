"""Benchmark our client against raw urllib3 and the latest objectstore-client from PyPI.

    python bench/run.py                 # full run (5 rounds, ~5 minutes on 2 cores)
    python bench/run.py --quick         # smoke run (~1 minute), README left alone
    python bench/run.py --rounds 9      # more rounds for tighter medians
    OBJECTSTORE_URL=http://host:8888 OBJECTSTORE_AUTH_KID=kid \
        OBJECTSTORE_AUTH_KEY_FILE=private.pem python bench/run.py   # against another server

What it does (bench/README.md explains why):

1. Makes sure the throwaway virtualenv `bench/.venv-upstream` has the latest
   `objectstore-client` from PyPI (created and upgraded with pip; never a dependency of ours).
2. Starts the local server (`python -m objectstore_client.testing`) as two separate
   processes: one without auth, one enforcing auth with an Ed25519 key generated now.
   With `OBJECTSTORE_URL` set, uses that server instead, in one scenario: "auth" if
   `OBJECTSTORE_AUTH_KID` and `OBJECTSTORE_AUTH_KEY_FILE` (an Ed25519 private key in PEM)
   are set, else "no auth". `OBJECTSTORE_USECASE` names the usecase (default `bench`).
3. Starts one worker process (`bench/_worker.py`) per implementation and scenario: `ours`
   and `raw-urllib3` with this interpreter, `upstream` with the virtualenv's.
4. For each round, for each scenario and workload, runs every implementation in turn for a
   fixed time, rotating the order of implementations from round to round.
5. Prints the medians and ratios as a Markdown table, writes it into bench/README.md between
   the result markers, and dumps every number to bench/results-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _worker import WORKLOADS  # noqa: E402  (the one table of workloads)

WORKER = BENCH / "_worker.py"
README = BENCH / "README.md"
VENV = BENCH / ".venv-upstream"
VENV_PYTHON = VENV / "bin" / "python"
UPSTREAM_PACKAGE = "objectstore-client"
START_MARKER = "<!-- results:start -->"
END_MARKER = "<!-- results:end -->"
KID = "bench"

IMPLS = ("ours", "raw-urllib3", "upstream")
SCENARIOS = ("no auth", "auth")
MIB = 1024 * 1024
# Units of costs (lower is better); the others are throughputs.
COST_UNITS = ("ms", "MiB")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the upstream virtualenv ----------------------------------------------------------------


def ensure_upstream(upgrade: bool, venv: Path = VENV, requirement: str = UPSTREAM_PACKAGE) -> str:
    """Creates or upgrades the virtualenv with PyPI's latest release; returns its version.

    `venv` and `requirement` (e.g. `objectstore-client==0.2.10`) let other benchmarks
    keep a pinned release in a virtualenv of their own.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating {venv.relative_to(BENCH.parent)} ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        upgrade = True
    if upgrade:
        log(f"pip install --upgrade {requirement} (from PyPI) ...")
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--upgrade", requirement],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_clean_env(),
        )
        if pip.returncode != 0:
            log(pip.stdout)
            if not _upstream_version(python):
                raise SystemExit("could not install objectstore-client into the virtualenv")
            log("pip failed; measuring the release already installed in the virtualenv")
    version = _upstream_version(python)
    if not version:
        raise SystemExit(f"{UPSTREAM_PACKAGE} is not installed in {venv}")
    return version


def _upstream_version(python: Path = VENV_PYTHON) -> str:
    probe = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m; print(m.version({UPSTREAM_PACKAGE!r}))",
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=tempfile.gettempdir(),
    )
    return probe.stdout.strip() if probe.returncode == 0 else ""


def _clean_env() -> dict[str, str]:
    """The environment without anything that would put our package on another sys.path."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


# --- processes -------------------------------------------------------------------------------


class Server:
    """The local server in its own process (its own GIL), stopped with SIGTERM."""

    def __init__(self, workdir: Path, name: str, auth_key_file: Path | None) -> None:
        command = [sys.executable, "-m", "objectstore_client.testing", "--port", "0", "--memory"]
        if auth_key_file is not None:
            command += ["--auth-key", f"{KID}={auth_key_file}"]
        self.stderr = open(workdir / f"server-{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first)
        if match is None:
            self.stop()
            raise SystemExit(f"the {name} server did not start: {first!r}")
        self.url = match.group(1)
        # Keep reading so that the server can never block on a full pipe.
        threading.Thread(target=_drain, args=(self.process.stdout,), daemon=True).start()

    def stop(self) -> None:
        """Stops the server process."""
        _stop(self.process)
        self.stderr.close()


class Worker:
    """One implementation in one scenario, in its own process, driven over stdin/stdout."""

    def __init__(
        self, workdir: Path, impl: str, scenario: str, url: str, auth: Sequence[str]
    ) -> None:
        self.impl = impl
        python = str(VENV_PYTHON) if impl == "upstream" else sys.executable
        self.log_path = workdir / f"worker-{impl}-{scenario.replace(' ', '-')}.log"
        self.stderr = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [python, str(WORKER), impl, url, *auth],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=_clean_env(),
            cwd=tempfile.gettempdir(),  # nothing importable in the working directory
        )
        self.info: dict[str, Any] = json.loads(self._read_line())

    def _read_line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(10)
            tail = self.log_path.read_text()[-3000:]
            raise SystemExit(f"worker {self.impl} died (exit {self.process.returncode}):\n{tail}")
        return line

    def run(self, workload: str, seconds: float) -> dict[str, float]:
        """Runs one timed workload; returns ops, elapsed seconds and payload bytes moved."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"workload": workload, "seconds": seconds}) + "\n")
        self.process.stdin.flush()
        result: dict[str, float] = json.loads(self._read_line())
        return result

    def stop(self) -> None:
        """Closes stdin, which ends the worker."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        _stop(self.process)
        self.stderr.close()


def _drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- measuring -------------------------------------------------------------------------------


def measure(
    workers: dict[tuple[str, str], Worker],
    rounds: int,
    seconds: float,
    slices: int,
    workloads: Sequence[str],
    scenarios: Sequence[str],
) -> list[dict[str, Any]]:
    """Returns one sample per (round, scenario, workload, implementation).

    A sample is the sum of `slices` runs of `seconds / slices` each. The slices of the three
    implementations alternate (A B C, B C A, C A B, ...; the first order also rotates from
    round to round), so that a slowdown of the machine, which on a shared 2-core VM comes
    and goes within seconds, hits all three alike.
    """
    samples: list[dict[str, Any]] = []
    plan = [
        (scenario, workload)
        for scenario in scenarios
        for workload in workloads
        if scenario in WORKLOADS[workload].scenarios or len(scenarios) == 1
    ]
    total = rounds * len(plan)
    done = 0
    started = time.monotonic()
    for round_index in range(rounds):
        log(f"round {round_index + 1}/{rounds}")
        for scenario, workload in plan:
            sums = {
                impl: {"ops": 0.0, "elapsed": 0.0, "bytes": 0.0, "cpu": 0.0, "value": 0.0}
                for impl in IMPLS
            }
            for slice_index in range(slices):
                shift = (round_index + slice_index) % len(IMPLS)
                for impl in IMPLS[shift:] + IMPLS[:shift]:
                    result = workers[(impl, scenario)].run(workload, seconds / slices)
                    for name, total_so_far in sums[impl].items():
                        sums[impl][name] = total_so_far + float(result[name])
            for impl in IMPLS:
                samples.append(
                    {
                        "round": round_index,
                        "scenario": scenario,
                        "workload": workload,
                        "impl": impl,
                        **sums[impl],
                    }
                )
            done += 1
        elapsed = time.monotonic() - started
        log(f"  {done}/{total} workloads measured, {elapsed:.0f}s elapsed")
    return samples


def throughput(sample: dict[str, Any], unit: str) -> float:
    """The sample's number in `unit`: a throughput, or a cost per operation."""
    if unit in COST_UNITS:
        return float(sample["value"]) / max(float(sample["ops"]), 1.0)
    if unit == "MiB/s":
        return float(sample["bytes"]) / MIB / float(sample["elapsed"])
    return float(sample["ops"]) / float(sample["elapsed"])


def cpu_per_op(sample: dict[str, Any]) -> float:
    """Client CPU time per operation, in microseconds."""
    return float(sample["cpu"]) / max(float(sample["ops"]), 1.0) * 1e6


def summarize(samples: list[dict[str, Any]], workloads: Sequence[str]) -> list[dict[str, Any]]:
    """Medians per implementation, and medians of the per-round (paired) ratios."""
    rows = []
    for scenario in SCENARIOS:
        for workload in workloads:
            if not any(s["scenario"] == scenario and s["workload"] == workload for s in samples):
                continue
            unit = WORKLOADS[workload].unit
            row: dict[str, Any] = {"scenario": scenario, "workload": workload, "unit": unit}
            runs = {
                impl: sorted(
                    (
                        s
                        for s in samples
                        if s["scenario"] == scenario
                        and s["workload"] == workload
                        and s["impl"] == impl
                    ),
                    key=lambda s: int(s["round"]),
                )
                for impl in IMPLS
            }
            for impl in IMPLS:
                values = [throughput(s, unit) for s in runs[impl]]
                row[impl] = statistics.median(values)
                row[f"{impl} runs"] = values
                row[f"{impl} cpu"] = statistics.median(cpu_per_op(s) for s in runs[impl])
                row[f"{impl} cpu runs"] = [cpu_per_op(s) for s in runs[impl]]
            for other, label in (("raw-urllib3", "raw"), ("upstream", "upstream")):
                ratios = [
                    a / b for a, b in zip(row["ours runs"], row[f"{other} runs"], strict=True)
                ]
                row[f"ours/{label}"] = statistics.median(ratios)
                row[f"ours/{label} runs"] = ratios
                row[f"ours/{label} spread"] = _spread(ratios)
                cpu_ratios = [
                    a / b if b else float("nan")
                    for a, b in zip(row["ours cpu runs"], row[f"{other} cpu runs"], strict=True)
                ]
                row[f"cpu ours/{label}"] = statistics.median(cpu_ratios)
                row[f"cpu ours/{label} runs"] = cpu_ratios
            rows.append(row)
    return rows


def _spread(values: Sequence[float]) -> float:
    """(max - min) / median."""
    median = statistics.median(values)
    return (max(values) - min(values)) / median if median else 0.0


# --- reporting -------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _ratio(row: dict[str, Any], name: str) -> str:
    runs = row[f"{name} runs"]
    return f"{row[name]:.2f} ({min(runs):.2f}-{max(runs):.2f})"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    server = meta.get("server") or "the local server (in-memory), one process per scenario"
    lines = [
        f"Measured {meta['date']} on {meta['machine']}.",
        "",
        f"- ours: objectstore-client {meta['ours_version']} (this repository, urllib3 "
        f"{meta['urllib3_ours']}); upstream: objectstore-client {meta['upstream_version']} "
        f"(PyPI latest, urllib3 {meta['urllib3_upstream']}); raw-urllib3: urllib3 "
        f"{meta['urllib3_ours']}.",
        f"- Server: {server}.",
        f"- {meta['rounds']} rounds; in each, every implementation runs every workload for "
        f"{meta['seconds']:g} s in {meta['slices']} slices interleaved with the others'.",
        f"- Command: `{meta['command']}` ({meta['duration_seconds'] / 60:.1f} minutes)",
        "",
        "Throughput, median of the rounds (higher is better). Ratios: median of the per-round "
        "ratios ours ÷ other, with their range in parentheses; above 1.00 ours is faster.",
        "",
        "| workload | auth | unit | ours | raw-urllib3 | upstream | ours ÷ raw | ours ÷ upstream |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    throughputs = [row for row in rows if row["unit"] not in COST_UNITS]
    costs = [row for row in rows if row["unit"] in COST_UNITS]
    for row in throughputs:
        lines.append(_row(row, with_unit=True))
    if costs:
        lines += [
            "",
            "Costs, median of the rounds (lower is better): import time in a fresh interpreter "
            "(raw-urllib3: `import json, urllib3, zstandard`), and the peak RSS of a process "
            "that does one 64 MiB round trip. Ratios as above, but here *below* 1.00 ours "
            "costs less.",
            "",
            "| what | auth | unit | ours | raw-urllib3 | upstream | ours ÷ raw | ours ÷ upstream |",
            "|---|---|---|--:|--:|--:|--:|--:|",
        ]
        lines += [_row(row, with_unit=True) for row in costs]
    lines += [
        "",
        "Client CPU time per operation in µs (lower is better): the CPU time of the whole "
        "client process, all threads, during the timed part; the server runs in another "
        "process. Ratios as above, but here *below* 1.00 ours is cheaper.",
        "",
        "| workload | auth | ours | raw-urllib3 | upstream | ours ÷ raw | ours ÷ upstream |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in throughputs:
        lines.append(
            f"| {WORKLOADS[row['workload']].description} | {row['scenario']} "
            f"| {_number(row['ours cpu'])} | {_number(row['raw-urllib3 cpu'])} "
            f"| {_number(row['upstream cpu'])} | {_ratio(row, 'cpu ours/raw')} "
            f"| {_ratio(row, 'cpu ours/upstream')} |"
        )
    lines += [
        "",
        "Upstream runs with its defaults, as its users get it: its pool keeps 1 connection, "
        "so in the 8-thread workloads most requests open and close a connection of their own.",
    ]
    return "\n".join(lines)


def _row(row: dict[str, Any], *, with_unit: bool) -> str:
    unit = f" {row['unit']} |" if with_unit else ""
    return (
        f"| {WORKLOADS[row['workload']].description} | {row['scenario']} |{unit} "
        f"{_number(row['ours'])} | {_number(row['raw-urllib3'])} "
        f"| {_number(row['upstream'])} | {_ratio(row, 'ours/raw')} "
        f"| {_ratio(row, 'ours/upstream')} |"
    )


def update_readme(table: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    block = f"{START_MARKER}\n{table}\n{END_MARKER}"
    if START_MARKER in text and END_MARKER in text:
        head, _, rest = text.partition(START_MARKER)
        _, _, tail = rest.partition(END_MARKER)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    README.write_text(text)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, nproc {os.cpu_count()}, {platform.system()}, Python {platform.python_version()}"


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, help="rounds (default 5; 2 with --quick)")
    parser.add_argument("--seconds", type=float, help="time per measurement (default 0.8)")
    parser.add_argument(
        "--slices", type=int, help="interleaved slices per measurement (default 4; 2 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 rounds of 0.3 s, README unchanged"
    )
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the table into bench/README.md (default: yes, except with --quick)",
    )
    parser.add_argument(
        "--no-upgrade",
        dest="upgrade",
        action="store_false",
        help="measure the objectstore-client already in the virtualenv, without pip",
    )
    parser.add_argument(
        "--workloads", help=f"comma-separated subset of: {', '.join(WORKLOADS)}", default=""
    )
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.seconds is None:
        args.seconds = 0.3 if args.quick else 0.8
    if args.slices is None:
        args.slices = 2 if args.quick else 4
    if args.readme is None:
        args.readme = not args.quick
    if args.rounds < 1 or args.seconds <= 0 or args.slices < 1:
        parser.error("--rounds, --seconds and --slices must be positive")
    args.workloads = [w for w in args.workloads.split(",") if w] or list(WORKLOADS)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    upstream_version = ensure_upstream(args.upgrade)
    external = external_server()
    scenarios = [external[0]] if external else list(SCENARIOS)
    servers: list[Server] = []
    workers: dict[tuple[str, str], Worker] = {}
    with tempfile.TemporaryDirectory(prefix="objectstore-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if external:
                scenario, url, auth = external
                log(f"server ({scenario}): {url} (OBJECTSTORE_URL)")
                for impl in IMPLS:
                    workers[(impl, scenario)] = Worker(workdir, impl, scenario, url, auth)
            else:
                public_key, private_key = _keypair(workdir)
                for scenario in SCENARIOS:
                    authed = scenario == "auth"
                    name = scenario.replace(" ", "-")
                    server = Server(workdir, name, public_key if authed else None)
                    servers.append(server)
                    log(f"server ({scenario}): {server.url}")
                    auth = [KID, str(private_key)] if authed else []
                    for impl in IMPLS:
                        workers[(impl, scenario)] = Worker(
                            workdir, impl, scenario, server.url, auth
                        )
            check_workers(workers, upstream_version)
            samples = measure(
                workers, args.rounds, args.seconds, args.slices, args.workloads, scenarios
            )
        finally:
            for worker in workers.values():
                worker.stop()
            for server in servers:
                server.stop()

    now = datetime.datetime.now(datetime.UTC).astimezone()
    infos = {impl: workers[(impl, scenarios[0])].info for impl in IMPLS}
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine_description(),
        "ours_version": infos["ours"]["version"],
        "upstream_version": upstream_version,
        "urllib3_ours": importlib.metadata.version("urllib3"),
        "urllib3_upstream": _venv_package_version("urllib3"),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "slices": args.slices,
        "command": shlex.join(["python", "bench/run.py", *argv]),
        "server": f"{external[1]} (OBJECTSTORE_URL)" if external else None,
        "workers": infos,
        "duration_seconds": round(time.monotonic() - started, 1),
    }
    rows = summarize(samples, args.workloads)
    table = markdown(rows, meta)
    print(table)
    results = BENCH / f"results-{now.strftime('%Y%m%d-%H%M%S')}.json"
    results.write_text(json.dumps({"meta": meta, "rows": rows, "samples": samples}, indent=1))
    log(f"raw numbers: {results.relative_to(BENCH.parent)}")
    if args.readme:
        update_readme(table)
        log(f"table written to {README.relative_to(BENCH.parent)}")
    log(f"total time {meta['duration_seconds']:.0f}s")
    return 0


def external_server() -> tuple[str, str, list[str]] | None:
    """(scenario, URL, worker auth arguments) of the server in `OBJECTSTORE_URL`, if set."""
    url = os.environ.get("OBJECTSTORE_URL")
    if not url:
        return None
    kid = os.environ.get("OBJECTSTORE_AUTH_KID")
    key_file = os.environ.get("OBJECTSTORE_AUTH_KEY_FILE")
    if bool(kid) != bool(key_file):
        raise SystemExit("set both OBJECTSTORE_AUTH_KID and OBJECTSTORE_AUTH_KEY_FILE, or neither")
    if kid and key_file:
        return "auth", url, [kid, str(Path(key_file).resolve())]
    return "no auth", url, []


def _keypair(workdir: Path) -> tuple[Path, Path]:
    """Writes a new Ed25519 key pair for the local auth server; returns (public, private)."""
    # Imported here: the benchmark needs our package installed in this interpreter.
    from objectstore_client.testing import generate_keypair

    keypair = generate_keypair()
    public_key = workdir / "bench.public.pem"
    public_key.write_text(keypair.public_pem)
    private_key = workdir / "bench.private.pem"
    private_key.write_text(keypair.private_pem)
    return public_key, private_key


def check_workers(workers: dict[tuple[str, str], Worker], upstream_version: str) -> None:
    """Fails if a worker imported the wrong objectstore_client."""
    ours_dir = str(BENCH.parent / "objectstore_client")
    for (impl, _), worker in workers.items():
        module = str(worker.info["module"])
        if impl == "ours" and not module.startswith(ours_dir):
            raise SystemExit(f"'ours' imported {module}, not this repository's package")
        if impl == "upstream" and (
            not module.startswith(str(VENV)) or worker.info["version"] != upstream_version
        ):
            raise SystemExit(f"'upstream' imported {module} ({worker.info['version']})")


def _venv_package_version(name: str) -> str:
    probe = subprocess.run(
        [str(VENV_PYTHON), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd=tempfile.gettempdir(),
    )
    return probe.stdout.strip() or "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
