"""Concurrency: 8 threads put/get/delete 1 MiB objects on shared keys; no error, no torn read."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator

import pytest
import urllib3

from objectstore_client.testing import LocalServer

SIZE = 1 << 20
THREADS = 8
KEYS = 4  # few keys, so readers and writers of the same object really overlap
# The bar: 30 s against the default (directory) storage; memory storage gets a third.
SECONDS = float(os.environ.get("OBJECTSTORE_STRESS_SECONDS", "30"))
SHARE = {"filesystem": 1.0, "memory": 1 / 3}


def _payload(rng: random.Random) -> bytes:
    body = rng.randbytes(SIZE - 32)
    return hashlib.sha256(body).digest() + body


@pytest.fixture(params=["filesystem", "memory"])
def server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    with LocalServer(storage=request.param) as server:
        yield server


@pytest.mark.slow
def test_concurrent_put_get_delete_never_tears(server: LocalServer) -> None:
    pool = urllib3.PoolManager(maxsize=THREADS, retries=False)
    errors: list[str] = []
    counts = {"put": 0, "get": 0, "delete": 0, "missing": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS * SHARE[server.config.storage]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline and not errors:
            url = f"{server.url}/v1/objects/stress/_/key-{rng.randrange(KEYS)}"
            op = rng.choice(("put", "put", "get", "get", "get", "delete"))
            try:
                if op == "put":
                    reply = pool.request("PUT", url, body=_payload(rng))
                    ok = reply.status == 200
                elif op == "delete":
                    reply = pool.request("DELETE", url)
                    ok = reply.status == 204
                else:
                    reply = pool.request("GET", url)
                    if reply.status == 404:
                        with lock:
                            counts["missing"] += 1
                        continue
                    data = reply.data
                    ok = reply.status == 200 and len(data) == SIZE
                    ok = ok and hashlib.sha256(data[32:]).digest() == data[:32]
                if not ok:
                    errors.append(f"{op} {url}: {reply.status} ({len(reply.data)} bytes)")
                with lock:
                    counts[op] += 1
            except Exception as exc:  # any transport error is a failure of the server
                errors.append(f"{op} {url}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{server.config.storage}: {counts} in {SECONDS * SHARE[server.config.storage]:.0f} s")
    assert errors == []
    # The run must have exercised every operation, including reads racing writes.
    assert counts["put"] > 20, counts
    assert counts["get"] > 20, counts
    assert counts["delete"] > 5, counts
