"""One timed transfer in a process of its own, for bench/transfers.py and bench/batch.py.

    python _transfer_worker.py IMPL OP URL KEY PATH [CONFIG_JSON [WARM_BYTES [AUTH_JSON]]]

IMPL is `ours` (this repository, run with the repository on sys.path), `0.2.10` (run
with the pinned virtualenv's interpreter, so `objectstore_client` is the PyPI release) or
`raw-urllib3` (urllib3 and zstandard used directly: what a user could write instead of
an SDK, one streamed request each way; see `raw_upload` and `raw_download`).
OP is `upload`, `download` or `delete` (`ours` only: the untimed clean-up on a server of
`OBJECTSTORE_URL`). AUTH_JSON, `["KID", "PRIVATE_KEY_FILE"]`, signs the requests
(`_worker.sdk_token` for the SDKs, `_worker.bearer` for raw urllib3). The usecase is
`_worker.USECASE` (`OBJECTSTORE_USECASE`, default `bench`), the organization 1.
An upload or download prints one JSON line: seconds, the CPU seconds of the transfer
(all threads of the process: a much steadier number than time on a shared machine),
split into user and system time, its minor page faults, and the process's peak RSS in
MiB (`VmHWM`, imports included; see `_worker.peak_rss_mib`).

WARM_BYTES > 0: before the timer starts, write and delete a scratch file of that many
bytes beside PATH, so the transfer finds the machine's free pages warm. On a VM whose
balloon device reports free pages to the host (virtio-balloon free page reporting, as on
the machine of bench/README.md), memory freed more than a second or two earlier has been
handed back, and touching it again costs about 1.7 s of system time per GiB: whichever
transfer came first after a pause paid for it (see bench/transfers.py).
"""

from __future__ import annotations

import json
import mmap
import os
import resource
import shutil
import sys
import time
from typing import Any

from _worker import ORG, USECASE, bearer, load_auth, peak_rss_mib, sdk_token


def warm_up(scratch: str, size: int) -> None:
    """Writes `size` bytes to `scratch` and deletes it (before its writeback starts)."""
    # An anonymous mapping, not a bytes object: freeing a large malloc'd block would raise
    # glibc's mmap threshold and change how the timed transfer's memory is allocated.
    with mmap.mmap(-1, 8 * 1024 * 1024) as block, open(scratch, "wb", buffering=0) as file:
        for _ in range(0, size, len(block)):
            file.write(block)
    os.unlink(scratch)


# Where the SDKs' sessions keep their objects.
RAW_PREFIX = f"/v1/objects/{USECASE}/org={ORG}/"


def raw_upload(pool: Any, key: str, path: str, headers: dict[str, str]) -> None:
    """One PUT of the file, compressed as one zstd stream while it is sent, chunked.

    As 0.2.10's `put` of a file does, without an SDK (but with frame checksums, as ours).
    """
    import zstandard

    with open(path, "rb") as file:
        reader = zstandard.ZstdCompressor(write_checksum=True).stream_reader(file)
        pieces = iter(lambda: reader.read(1024 * 1024), b"")
        response = pool.urlopen(
            "PUT",
            RAW_PREFIX + key,
            body=pieces,
            headers={**headers, "Content-Encoding": "zstd"},
            chunked=True,
        )
    if response.status != 200:
        raise RuntimeError(f"PUT failed: {response.status} {response.data[:200]!r}")


def raw_download(pool: Any, key: str, path: str, headers: dict[str, str]) -> None:
    """One GET, decoded as it arrives (frame checksums verified) into the file."""
    import zstandard

    response = pool.urlopen(
        "GET", RAW_PREFIX + key, headers=headers, preload_content=False, decode_content=False
    )
    if response.status != 200:
        raise RuntimeError(f"GET failed: {response.status}")
    source: Any = response
    if response.headers.get("content-encoding") == "zstd":
        source = zstandard.ZstdDecompressor().stream_reader(response, read_across_frames=True)
    with open(path, "wb") as file:
        shutil.copyfileobj(source, file, 1024 * 1024)
    response.release_conn()


def main() -> None:
    impl, op, url, key, path = sys.argv[1:6]
    config = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    warm = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    auth = load_auth(*json.loads(sys.argv[8])) if len(sys.argv) > 8 else None
    if impl == "raw-urllib3":
        import urllib3

        pool = urllib3.connection_from_url(url, timeout=urllib3.Timeout(connect=5.0, read=60.0))
        headers: dict[str, str] = {}
        if auth is not None:
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            headers["Authorization"] = bearer(auth[0], load_pem_private_key(auth[1].encode(), None))
    else:
        from objectstore_client import Client, Usecase

        session = Client(url, token=sdk_token(auth)).session(Usecase(USECASE), org=ORG)
    if op == "delete":
        session.delete(key)
        return
    if warm > 0:
        warm_up(f"{path}.warm", warm)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if impl == "raw-urllib3":
        (raw_upload if op == "upload" else raw_download)(pool, key, path, headers)
    elif impl == "ours":
        from objectstore_client.transfers import TransferConfig

        settings = TransferConfig(**config)
        if op == "upload":
            session.upload_file(path, key, config=settings)
        else:
            session.download_file(key, path, config=settings)
    elif op == "upload":
        # 0.2.10's documented way to upload a file: put the open file.
        with open(path, "rb") as file:
            session.put(file, key=key)
    else:
        # 0.2.10's get, streamed to a file.
        result = session.get(key)
        with open(path, "wb") as file:
            shutil.copyfileobj(result.payload, file, 1024 * 1024)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user = usage.ru_utime - before.ru_utime
    system = usage.ru_stime - before.ru_stime
    peak = peak_rss_mib()
    outcome = {
        "seconds": seconds,
        "cpu_seconds": user + system,
        "user_seconds": user,
        "sys_seconds": system,
        "minor_faults": usage.ru_minflt - before.ru_minflt,
        "peak_rss_mib": peak,
    }
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
