"""One benchmark worker: a single client implementation in its own process.

    python bench/_worker.py IMPL URL [KID PRIVATE_KEY_FILE]

IMPL is `ours`, `upstream` or `raw-urllib3`. `run.py` starts one worker per implementation
and auth scenario, with the interpreter that has that implementation installed (the
throwaway virtualenv for `upstream`), and drives it over stdin/stdout with one JSON document
per line:

    -> {"workload": "put_1k", "seconds": 1.0}
    <- {"ops": 1234, "elapsed": 1.0003, "bytes": 1263616, "cpu": 0.71}

`cpu` is the CPU time of the whole worker process (all its threads) during the timed part:
the client's own cost, without the server's, which runs in another process.

The first line the worker prints describes it (implementation, version, module path). It
exits when stdin closes. Only `objectstore_client` (ours or the PyPI one, whichever the
interpreter has), urllib3, zstandard and pyjwt are imported; never
`objectstore_client.testing`, which the PyPI package does not have.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

USECASE = "bench"
ORG = 1
THREADS = 8
KIB = 1024
MIB = 1024 * 1024
SEED = 20240611
# Objects that a put workload cycles through: keyed PUTs overwrite, so the in-memory server
# does not grow with the number of operations.
PUT_KEYS = 16
DELETE_BATCH = 100
PERMISSIONS = ["object.read", "object.write", "object.delete"]
USER_AGENT = "objectstore-client/raw-urllib3"

_VOCABULARY = (
    "sentry event error exception stacktrace frame module function lineno release "
    "environment production staging transaction span trace user request response "
    "attachment minidump breadcrumb project organization timestamp level fatal warning "
    "info debug python rust javascript objectstore blob storage usecase scope key"
)
_WORDS = _VOCABULARY.split()


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def text_bytes(size: int, seed: int) -> bytes:
    """Compressible, log-like text (zstd shrinks it about 4 to 6 times)."""
    rng = random.Random(seed)
    lines = []
    length = 0
    while length < size:
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))
        line = f'{{"id": {rng.randrange(10**9)}, "msg": "{words}", "n": {rng.random():.6f}}}\n'
        lines.append(line)
        length += len(line)
    return "".join(lines).encode()[:size]


class Impl:
    """The operations every implementation provides; all of them are thread-safe."""

    name = ""
    version = ""
    module_file = ""

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        pass

    def put(self, key: str, data: bytes) -> None:
        """Stores `data` under `key` (zstd-compressed on the wire)."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """Downloads and decompresses the object `key`."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Deletes the object `key`."""
        raise NotImplementedError


class Ours(Impl):
    """This repository's client, with its defaults."""

    name = "ours"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        import objectstore_client
        from objectstore_client import Client, Usecase
        from objectstore_client.auth import TokenGenerator

        token = TokenGenerator(auth[0], auth[1]) if auth else None
        self.client = Client(url, token=token)
        self.session = self.client.session(Usecase(USECASE), org=ORG)
        self.version = importlib.metadata.version("objectstore-client")
        self.module_file = objectstore_client.__file__ or ""

    def put(self, key: str, data: bytes) -> None:
        """Stores `data` under `key`."""
        self.session.put(data, key=key)

    def get(self, key: str) -> bytes:
        """Downloads `key`."""
        return self.session.get(key).payload.read()

    def delete(self, key: str) -> None:
        """Deletes `key`."""
        self.session.delete(key)


class Upstream(Impl):
    """The latest objectstore-client from PyPI, with its defaults (a pool of 1 connection)."""

    name = "upstream"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        # Imported dynamically: this is the PyPI package, whose API differs from ours, so
        # the type checker (which sees ours) must not check these calls against our types.
        package: Any = importlib.import_module("objectstore_client")
        auth_module: Any = importlib.import_module("objectstore_client.auth")
        secret_key = getattr(auth_module, "SecretKey", None) or auth_module.TokenGenerator
        token = secret_key(auth[0], auth[1]) if auth else None
        self.client = package.Client(url, token=token)
        self.session = self.client.session(package.Usecase(USECASE), org=ORG)
        self.version = importlib.metadata.version("objectstore-client")
        self.module_file = package.__file__ or ""

    def put(self, key: str, data: bytes) -> None:
        """Stores `data` under `key`."""
        self.session.put(data, key=key)

    def get(self, key: str) -> bytes:
        """Downloads `key` (0.2.x returns `None` for a missing object)."""
        result = self.session.get(key)
        if result is None:
            raise KeyError(key)
        data: bytes = result.payload.read()
        return data

    def delete(self, key: str) -> None:
        """Deletes `key`."""
        self.session.delete(key)


class RawUrllib3(Impl):
    """The same wire requests as ours, written directly against one urllib3 pool.

    zstd-compressed bodies with `Content-Encoding: zstd` and `Content-Length`, the same
    paths and `User-Agent`, and with auth an `Authorization: Bearer` JWT signed for every
    request (spec §13: header `kid`, claims `res`, `permissions`, `exp`) with a key parsed
    once. Downloads are read whole and decompressed.
    """

    name = "raw-urllib3"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        import urllib3
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.pool = urllib3.connection_from_url(
            url,
            maxsize=THREADS,
            timeout=urllib3.Timeout(connect=0.1, read=None),
            retries=urllib3.Retry(connect=3, read=0),
        )
        self.prefix = f"/v1/objects/{USECASE}/org={ORG}/"
        self.kid = auth[0] if auth else None
        self.private_key = load_pem_private_key(auth[1].encode(), None) if auth else None
        self.version = importlib.metadata.version("urllib3")
        self.module_file = urllib3.__file__ or ""
        # One compressor is not thread-safe; keep one per thread.
        self.local = threading.local()

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.private_key is not None:
            import jwt

            claims = {
                "res": {"os:usecase": USECASE, "org": str(ORG)},
                "permissions": PERMISSIONS,
                "exp": int(time.time()) + 60,
            }
            token = jwt.encode(
                claims,
                self.private_key,  # type: ignore[arg-type]
                algorithm="EdDSA",
                headers={"kid": self.kid},
            )
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _codecs(self) -> Any:
        codecs = getattr(self.local, "codecs", None)
        if codecs is None:
            import zstandard

            codecs = (
                zstandard.ZstdCompressor(write_checksum=True),
                zstandard.ZstdDecompressor(),
            )
            self.local.codecs = codecs
        return codecs

    def _check(self, response: Any, method: str) -> None:
        if response.status >= 400:
            raise RuntimeError(f"{method} failed: {response.status} {response.data[:200]!r}")

    def put(self, key: str, data: bytes) -> None:
        """PUT the compressed bytes and parse the JSON key."""
        headers = self._headers()
        headers["Content-Encoding"] = "zstd"
        body = self._codecs()[0].compress(data)
        response = self.pool.urlopen(
            "PUT", self.prefix + key, body=body, headers=headers, decode_content=False
        )
        self._check(response, "PUT")
        json.loads(response.data)["key"]

    def get(self, key: str) -> bytes:
        """GET, read the whole body, decompress it if it is zstd."""
        response = self.pool.urlopen(
            "GET", self.prefix + key, headers=self._headers(), decode_content=False
        )
        self._check(response, "GET")
        data: bytes = response.data
        if response.headers.get("content-encoding") == "zstd":
            data = self._codecs()[1].decompressobj().decompress(data)
        return data

    def delete(self, key: str) -> None:
        """DELETE."""
        response = self.pool.urlopen("DELETE", self.prefix + key, headers=self._headers())
        self._check(response, "DELETE")


IMPLS: dict[str, type[Impl]] = {"ours": Ours, "upstream": Upstream, "raw-urllib3": RawUrllib3}


class Data:
    """The payloads, the same bytes in every worker."""

    def __init__(self) -> None:
        self.small = random_bytes(KIB, SEED)
        self.big_random = random_bytes(MIB, SEED + 1)
        self.big_text = text_bytes(MIB, SEED + 2)
        self.medium = random_bytes(64 * KIB, SEED + 3)


Result = dict[str, float]


# What `prepare` has set up in this worker (one implementation per process).
_PREPARED: set[str] = set()


def prepare(what: str, setup: Callable[[], None]) -> None:
    """Runs `setup` the first time `what` is asked for: the objects a workload reads."""
    if what not in _PREPARED:
        setup()
        _PREPARED.add(what)


def _timed_loop(seconds: float, op: Callable[[int], int]) -> Result:
    """Calls `op(i)` (returning the payload bytes moved) until `seconds` have passed."""
    for i in range(3):  # warm up: connections, caches, tokens
        op(i)
    ops = 0
    moved = 0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        moved += op(ops)
        ops += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    cpu = time.process_time() - cpu
    return {"ops": ops, "elapsed": now - start, "bytes": moved, "cpu": cpu}


def _put_loop(impl: Impl, prefix: str, data: bytes, seconds: float) -> Result:
    keys = [f"{prefix}-{i}" for i in range(PUT_KEYS)]

    def op(i: int) -> int:
        impl.put(keys[i % PUT_KEYS], data)
        return len(data)

    return _timed_loop(seconds, op)


def _get_loop(impl: Impl, key: str, data: bytes, seconds: float) -> Result:
    # A key per implementation: each must read what it uploaded itself (frame layout and
    # content-size headers differ between clients), not what the last one wrote.
    key = f"{impl.name}-{key}"

    def setup() -> None:
        impl.put(key, data)
        if impl.get(key) != data:
            raise RuntimeError(f"{impl.name}: GET {key} returned other bytes")

    prepare(key, setup)

    def op(i: int) -> int:
        return len(impl.get(key))

    return _timed_loop(seconds, op)


def _delete_loop(impl: Impl, data: bytes, seconds: float) -> Result:
    """Deletes existing objects; they are uploaded in batches outside the timed part."""
    ops = 0
    elapsed = 0.0
    cpu = 0.0
    batch = 0
    while elapsed < seconds:
        keys = [f"del-{batch}-{i}" for i in range(DELETE_BATCH)]
        batch += 1
        for key in keys:
            impl.put(key, data)
        cpu_start = time.process_time()
        start = time.perf_counter()
        for key in keys:
            impl.delete(key)
            ops += 1
            if time.perf_counter() - start + elapsed >= seconds:
                break
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
    return {"ops": ops, "elapsed": elapsed, "bytes": 0, "cpu": cpu}


def _mixed_loop(impl: Impl, data: bytes, seconds: float) -> Result:
    """THREADS threads share `impl`, alternating a PUT and a GET of 64 KiB objects."""

    def setup() -> None:
        for t in range(THREADS):
            impl.put(f"mix-{t}-0", data)

    prepare("mix", setup)
    counts = [0] * THREADS
    errors: list[BaseException] = []
    # start, deadline, CPU time at start: set once every thread is ready, before any starts
    clock = [0.0, 0.0, 0.0]

    def start_clock() -> None:
        clock[2] = time.process_time()
        clock[0] = time.perf_counter()
        clock[1] = clock[0] + seconds

    barrier = threading.Barrier(THREADS + 1, action=start_clock)

    def run(t: int) -> None:
        try:
            for i in range(2):  # warm up outside the timed part
                impl.put(f"mix-{t}-{i % 4}", data)
                impl.get(f"mix-{t}-0")
            barrier.wait()
            n = 0
            deadline = clock[1]
            while time.perf_counter() < deadline:
                if n % 2:
                    impl.get(f"mix-{t}-0")
                else:
                    impl.put(f"mix-{t}-{n % 4}", data)
                n += 1
            counts[t] = n
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()  # broken if a thread failed; its error is raised below
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - clock[0]
    cpu = time.process_time() - clock[2]
    if errors:
        raise errors[0]
    ops = sum(counts)
    return {"ops": ops, "elapsed": elapsed, "bytes": ops * len(data), "cpu": cpu}


def run_workload(impl: Impl, data: Data, workload: str, seconds: float) -> Result:
    if workload == "put_1k":
        return _put_loop(impl, "put1k", data.small, seconds)
    if workload == "get_1k":
        return _get_loop(impl, "get1k", data.small, seconds)
    if workload == "put_1m_random":
        return _put_loop(impl, "put1m", data.big_random, seconds)
    if workload == "put_1m_text":
        return _put_loop(impl, "put1m", data.big_text, seconds)
    if workload == "get_1m_random":
        return _get_loop(impl, "get1m-random", data.big_random, seconds)
    if workload == "get_1m_text":
        return _get_loop(impl, "get1m-text", data.big_text, seconds)
    if workload == "delete":
        return _delete_loop(impl, data.small, seconds)
    if workload == "mixed_64k_8threads":
        return _mixed_loop(impl, data.medium, seconds)
    raise ValueError(f"unknown workload {workload!r}")


def main(argv: list[str]) -> int:
    # Upstream's pool of one connection logs a warning for every connection it discards
    # under concurrency; silence urllib3 for every implementation alike.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    impl_name, url = argv[0], argv[1]
    auth = None
    if len(argv) > 2:
        with open(argv[3], encoding="ascii") as file:
            auth = (argv[2], file.read())
    impl = IMPLS[impl_name](url, auth)
    data = Data()
    info = {
        "impl": impl_name,
        "version": impl.version,
        "module": impl.module_file,
        "python": sys.version.split()[0],
        "executable": sys.executable,
    }
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        result = run_workload(impl, data, command["workload"], float(command["seconds"]))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
