"""One timed transfer in a process of its own, for bench/transfers.py and bench/batch.py.

    python _transfer_worker.py IMPL OP URL KEY PATH [CONFIG_JSON]

IMPL is `ours` (this repository, run with the repository on sys.path) or `0.2.10` (run
with the pinned virtualenv's interpreter, so `objectstore_client` is the PyPI release).
OP is `upload` or `download`. Prints one JSON line: seconds, the CPU seconds of the
transfer (all threads of the process: a much steadier number than time on a shared
machine), and the process's peak RSS in MiB (`ru_maxrss`, imports included).
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time


def main() -> None:
    impl, op, url, key, path = sys.argv[1:6]
    config = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    from objectstore_client import Client, Usecase

    client = Client(url)
    session = client.session(Usecase("bench"), org=1)
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
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
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak = usage.ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
