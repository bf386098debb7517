"""Large uploads: a 1 GiB multipart upload and a 300 MiB resumable one, read back and checked.

    python bench/large_uploads.py                 # 1 GiB multipart, 300 MiB resumable
    python bench/large_uploads.py --scale 0.05    # the same, 5 % of the sizes (smoke run)

The local server runs in its own process (filesystem storage in a temporary directory), so
the peak RSS reported is the client's alone. The data is hex text of seeded random bytes
(zstd shrinks it to about 55 %), generated as it is sent, never held whole in memory.

* multipart: 16 parts of 64 MiB, `compression="zstd"`: each part is compressed on its own
  into one zstd frame by `put_part`; then `complete`.
* resumable: a 300 MiB file, `put` with the usecase's zstd compression and a threshold
  below its size: the file is compressed twice (once to measure, once to send) in 8 MiB
  frames, never spooled.

Each object is downloaded, decompressed and its SHA-256 compared with the source's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zstandard
from _worker import peak_rss_mib  # bench/ is on sys.path: this script's directory

from objectstore_client import Client, Session, Usecase
from objectstore_client._resumable import FramedSource

MIB = 1024 * 1024


def text_chunks(total: int, chunk: int, seed: int) -> Iterator[bytes]:
    """`total` bytes of hex text from seeded random bytes, in pieces of `chunk` bytes."""
    rng = random.Random(seed)
    produced = 0
    while produced < total:
        size = min(chunk, total - produced)
        yield rng.randbytes((size + 1) // 2).hex().encode()[:size]
        produced += size


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "objectstore_client.testing",
            "--port",
            str(port),
            "--data-dir",
            data_dir,
            "--server-version",
            "current",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the local server did not start")


def download_sha256(session: Session, key: str) -> tuple[str, float]:
    digest = hashlib.sha256()
    started = time.monotonic()
    with session.get(key) as response:
        while chunk := response.payload.read(4 * MIB):
            digest.update(chunk)
    return digest.hexdigest(), time.monotonic() - started


def multipart(session: Session, total: int, part_size: int) -> dict[str, object]:
    source = hashlib.sha256()
    started = time.monotonic()
    upload = session.initiate_multipart_upload(key="large-multipart", compression="zstd")
    parts = []
    for number, part in enumerate(text_chunks(total, part_size, seed=1), start=1):
        source.update(part)
        parts.append(upload.put_part(part, part_number=number, content_length=len(part)))
        del part
    stored = sum(part.size for part in upload.list_parts())
    key = upload.complete(parts)
    upload_seconds = time.monotonic() - started
    readback, download_seconds = download_sha256(session, key)
    return {
        "bytes": total,
        "parts": len(parts),
        "upload_s": upload_seconds,
        "download_s": download_seconds,
        "identical": readback == source.hexdigest(),
        "stored_bytes": stored,
    }


def resumable(session: Session, total: int, directory: str) -> dict[str, object]:
    source = hashlib.sha256()
    path = Path(directory) / "resumable-source.txt"
    with path.open("wb") as file:
        for chunk in text_chunks(total, 8 * MIB, seed=2):
            source.update(chunk)
            file.write(chunk)
    # The extra cost of not spooling: the measuring pass over the file, against what
    # 0.2.x does instead (compress the whole file into a temporary file, then send that).
    with path.open("rb") as file:
        started = time.monotonic()
        FramedSource(file, total, zstd=True).close()
        measure_seconds = time.monotonic() - started
        started = time.monotonic()
        with tempfile.TemporaryFile(dir=directory) as spool:
            zstandard.ZstdCompressor().copy_stream(file, spool)
            spool.flush()
            os.fsync(spool.fileno())
        spool_seconds = time.monotonic() - started
    started = time.monotonic()
    with path.open("rb") as file:
        key = session.put(file, key="large-resumable")
    upload_seconds = time.monotonic() - started
    path.unlink()
    readback, download_seconds = download_sha256(session, key)
    with session.get(key, decompress=False) as raw:
        stored = sum(len(chunk) for chunk in iter(lambda: raw.payload.read(4 * MIB), b""))
    return {
        "bytes": total,
        "stored_bytes": stored,
        "measuring_pass_s": measure_seconds,
        "spool_0_2_x_s": spool_seconds,
        "upload_s": upload_seconds,
        "download_s": download_seconds,
        "identical": readback == source.hexdigest(),
    }


def run_phase(phase: str, scale: float) -> bool:
    multipart_total = int(1024 * MIB * scale)
    part_size = max(MIB, int(64 * MIB * scale))
    resumable_total = int(300 * MIB * scale)
    with tempfile.TemporaryDirectory(prefix="objectstore-bench-") as directory:
        server, url = start_server(os.path.join(directory, "data"))
        try:
            with Client(url, timeout_ms=120_000) as client:
                usecase = Usecase("bench", resumable_threshold_bytes=resumable_total // 2 or 1)
                session = client.session(usecase, org=1)
                before = peak_rss_mib()
                if phase == "multipart":
                    result = multipart(session, multipart_total, part_size)
                else:
                    result = resumable(session, resumable_total, directory)
        finally:
            server.terminate()
            server.wait()
    numbers = ", ".join(
        f"{name} {value:.1f}" if isinstance(value, float) else f"{name} {value}"
        for name, value in result.items()
    )
    print(f"{phase}: {numbers}; peak RSS {peak_rss_mib():.0f} MiB ({before:.0f} before)")
    return bool(result["identical"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--phase", choices=["multipart", "resumable"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return 0 if run_phase(args.phase, args.scale) else 1
    # One process per phase, so that each peak RSS is that phase's own.
    failed = 0
    for phase in ("multipart", "resumable"):
        command = [sys.executable, __file__, "--phase", phase, "--scale", str(args.scale)]
        failed |= subprocess.run(command, check=False).returncode
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
