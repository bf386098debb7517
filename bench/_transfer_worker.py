"""One timed transfer in a process of its own, for bench/transfers.py and bench/batch.py.

    python _transfer_worker.py IMPL OP URL KEY PATH [CONFIG_JSON [WARM_BYTES]]

IMPL is `ours` (this repository, run with the repository on sys.path) or `0.2.10` (run
with the pinned virtualenv's interpreter, so `objectstore_client` is the PyPI release).
OP is `upload` or `download`. Prints one JSON line: seconds, the CPU seconds of the
transfer (all threads of the process: a much steadier number than time on a shared
machine), split into user and system time, its minor page faults, and the process's
peak RSS in MiB (`VmHWM`, imports included; see `_worker.peak_rss_mib`).

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

from _worker import peak_rss_mib


def warm_up(scratch: str, size: int) -> None:
    """Writes `size` bytes to `scratch` and deletes it (before its writeback starts)."""
    # An anonymous mapping, not a bytes object: freeing a large malloc'd block would raise
    # glibc's mmap threshold and change how the timed transfer's memory is allocated.
    with mmap.mmap(-1, 8 * 1024 * 1024) as block, open(scratch, "wb", buffering=0) as file:
        for _ in range(0, size, len(block)):
            file.write(block)
    os.unlink(scratch)


def main() -> None:
    impl, op, url, key, path = sys.argv[1:6]
    config = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    warm = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    from objectstore_client import Client, Usecase

    client = Client(url)
    session = client.session(Usecase("bench"), org=1)
    if warm > 0:
        warm_up(f"{path}.warm", warm)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if impl == "ours":
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
