"""One benchmark worker: a single client implementation in its own process.

    python bench/_worker.py IMPL URL [KID PRIVATE_KEY_FILE]

IMPL is `ours`, `upstream` or `raw-urllib3`. `run.py` starts one worker per implementation
and auth scenario, with the interpreter that has that implementation installed (the
throwaway virtualenv for `upstream`), and drives it over stdin/stdout with one JSON document
per line:

    -> {"workload": "put_1k", "seconds": 1.0}
    <- {"ops": 1234, "elapsed": 1.0003, "bytes": 1263616, "cpu": 0.71, "value": 0}

`cpu` is the CPU time of the whole worker process (all its threads) during the timed part:
the client's own cost, without the server's, which runs in another process. `value` is
the sum of a per-operation cost for workloads measured in ms or MiB (import time, peak
RSS), which run in fresh child processes (`python _worker.py IMPL URL ... --child NAME`).

Every workload is one entry of `WORKLOADS` (description, unit, function, scenarios):
adding one is adding a function and an entry; `run.py` reads the table from here.

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
import os
import random
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The usecase and organization every request goes to; OBJECTSTORE_USECASE picks another
# usecase on a server (OBJECTSTORE_URL) that does not accept "bench".
USECASE = os.environ.get("OBJECTSTORE_USECASE", "bench")
ORG = 1
THREADS = 8
KIB = 1024
MIB = 1024 * 1024
SEED = 20240611
# Objects that a put workload cycles through: keyed PUTs overwrite, so the in-memory server
# does not grow with the number of operations.
PUT_KEYS = 16
# Objects fetched by one call of the batch workload.
BATCH_KEYS = 100
DELETE_BATCH = 100
LARGE = 64 * MIB
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


def load_auth(kid: str, key_file: str) -> tuple[str, str]:
    """(kid, the Ed25519 private key PEM read from `key_file`): what the clients take."""
    with open(key_file, encoding="ascii") as file:
        return kid, file.read()


def sdk_token(auth: tuple[str, str] | None) -> Any:
    """What an SDK's `Client(token=...)` takes for `auth` (kid, private key PEM), or None.

    `SecretKey` is 0.2.x's name (ours has it too); before 0.1.14 it was `TokenGenerator`.
    """
    if auth is None:
        return None
    auth_module: Any = importlib.import_module("objectstore_client.auth")
    return (getattr(auth_module, "SecretKey", None) or auth_module.TokenGenerator)(*auth)


def bearer(kid: str, private_key: Any) -> str:
    """An `Authorization` value: a JWT for USECASE/ORG signed now (protocol §13)."""
    import jwt

    claims = {
        "res": {"os:usecase": USECASE, "org": str(ORG)},
        "permissions": PERMISSIONS,
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})
    return f"Bearer {token}"


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

    def get_chunks(self, key: str, size: int) -> int:
        """Downloads `key` reading `size` decompressed bytes at a time; returns the total."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Deletes the object `key`."""
        raise NotImplementedError

    def put_plain(self, key: str, data: bytes) -> None:
        """Stores `data` under `key` uncompressed (so that ranges address its bytes)."""
        raise NotImplementedError

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Returns the stored bytes `[start:end]` of `key`, however the client can."""
        raise NotImplementedError

    def put_zstd(self, key: str, blob: bytes) -> None:
        """Stores `blob`, zstd data compressed elsewhere, as it is (`Content-Encoding: zstd`)."""
        raise NotImplementedError

    def get_many(self, keys: list[str]) -> list[bytes]:
        """Downloads and decompresses every object of `keys`, however the client can."""
        raise NotImplementedError


class Ours(Impl):
    """This repository's client, with its defaults."""

    name = "ours"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        import objectstore_client
        from objectstore_client import Client, Usecase

        self.client = Client(url, token=sdk_token(auth))
        self.session = self.client.session(Usecase(USECASE), org=ORG)
        self.version = importlib.metadata.version("objectstore-client")
        self.module_file = objectstore_client.__file__ or ""

    def put(self, key: str, data: bytes) -> None:
        """Stores `data` under `key`."""
        self.session.put(data, key=key)

    def get(self, key: str) -> bytes:
        """Downloads `key`."""
        return self.session.get(key).payload.read()

    def get_chunks(self, key: str, size: int) -> int:
        """Reads the payload `size` bytes at a time."""
        return _read_in_chunks(self.session.get(key).payload, size)

    def delete(self, key: str) -> None:
        """Deletes `key`."""
        self.session.delete(key)

    def put_plain(self, key: str, data: bytes) -> None:
        """Stores `data` uncompressed."""
        self.session.put(data, key=key, compression="none")

    def put_zstd(self, key: str, blob: bytes) -> None:
        """Stores precompressed zstd data."""
        self.session.put(blob, key=key, precompressed="zstd")

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """One ranged GET (protocol §7)."""
        return self.session.get(key, range=(start, end)).payload.read()

    def get_many(self, keys: list[str]) -> list[bytes]:
        """One `Session.many` call: batch requests (protocol §10)."""
        from objectstore_client.batch import Get, ObjectData

        values = [result.unwrap() for result in self.session.many([Get(k) for k in keys])]
        return [value.data for value in values if isinstance(value, ObjectData)]


class Upstream(Impl):
    """The latest objectstore-client from PyPI, with its defaults (a pool of 1 connection)."""

    name = "upstream"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        # Imported dynamically: this is the PyPI package, whose API differs from ours, so
        # the type checker (which sees ours) must not check these calls against our types.
        package: Any = importlib.import_module("objectstore_client")
        self.client = package.Client(url, token=sdk_token(auth))
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

    def get_chunks(self, key: str, size: int) -> int:
        """Reads the payload `size` bytes at a time."""
        result = self.session.get(key)
        if result is None:
            raise KeyError(key)
        return _read_in_chunks(result.payload, size)

    def delete(self, key: str) -> None:
        """Deletes `key`."""
        self.session.delete(key)

    def put_plain(self, key: str, data: bytes) -> None:
        """Stores `data` uncompressed."""
        self.session.put(data, key=key, compression="none")

    def put_zstd(self, key: str, blob: bytes) -> None:
        """Stores precompressed zstd data."""
        self.session.put(blob, key=key, precompressed="zstd")

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """0.2.x has no ranges: its users stream the object and keep the slice."""
        result = self.session.get(key)
        if result is None:
            raise KeyError(key)
        payload = result.payload
        skipped = 0
        while skipped < start:
            skipped += len(payload.read(min(MIB, start - skipped)))
        data: bytes = payload.read(end - start)
        payload.close()
        return data

    def get_many(self, keys: list[str]) -> list[bytes]:
        """0.2.x has no batch API: one GET per key."""
        return [self.get(key) for key in keys]


class RawUrllib3(Impl):
    """The same wire requests as ours, written directly against one urllib3 pool.

    zstd-compressed bodies with `Content-Encoding: zstd` and `Content-Length`, the same
    paths and `User-Agent`, and with auth an `Authorization: Bearer` JWT signed for every
    request (protocol §13: header `kid`, claims `res`, `permissions`, `exp`) with a key parsed
    once. Downloads are read whole and decompressed.
    """

    name = "raw-urllib3"

    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        import urllib3
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        self.pool = urllib3.connection_from_url(
            url,
            maxsize=THREADS,
            # Not 0.1 s: urllib3 leaves the connect timeout on the socket while a body is
            # sent, and a 64 MiB upload to a busy server stalls longer than that.
            timeout=urllib3.Timeout(connect=5.0, read=None),
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
            headers["Authorization"] = bearer(self.kid or "", self.private_key)
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

    def get_chunks(self, key: str, size: int) -> int:
        """GET streamed: a zstd stream reader over the response, `size` bytes at a time."""
        response = self.pool.urlopen(
            "GET",
            self.prefix + key,
            headers=self._headers(),
            decode_content=False,
            preload_content=False,
        )
        self._check(response, "GET")
        source: Any = response
        if response.headers.get("content-encoding") == "zstd":
            source = self._codecs()[1].stream_reader(response, read_across_frames=True)
        total = _read_in_chunks(source, size)
        response.release_conn()
        return total

    def delete(self, key: str) -> None:
        """DELETE."""
        response = self.pool.urlopen("DELETE", self.prefix + key, headers=self._headers())
        self._check(response, "DELETE")

    def put_plain(self, key: str, data: bytes) -> None:
        """PUT without compression."""
        response = self.pool.urlopen("PUT", self.prefix + key, body=data, headers=self._headers())
        self._check(response, "PUT")

    def put_zstd(self, key: str, blob: bytes) -> None:
        """PUT with `Content-Encoding: zstd`."""
        headers = self._headers()
        headers["Content-Encoding"] = "zstd"
        response = self.pool.urlopen("PUT", self.prefix + key, body=blob, headers=headers)
        self._check(response, "PUT")

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """GET with `Range: bytes=start-(end-1)`."""
        headers = self._headers()
        headers["Range"] = f"bytes={start}-{end - 1}"
        response = self.pool.urlopen(
            "GET", self.prefix + key, headers=headers, decode_content=False
        )
        self._check(response, "GET")
        data: bytes = response.data
        return data

    def get_many(self, keys: list[str]) -> list[bytes]:
        """One batch request (protocol §10), built and parsed by hand, read whole."""
        boundary = "bench-" + os.urandom(8).hex()
        body = b"".join(
            f"--{boundary}\r\nx-sn-batch-operation-kind: get\r\n"
            f"x-sn-batch-operation-key: {key}\r\n\r\n\r\n".encode()
            for key in keys
        )
        headers = self._headers()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        response = self.pool.urlopen(
            "POST",
            self.prefix.replace("/v1/objects/", "/v1/objects:batch/"),
            body=body + f"--{boundary}--\r\n".encode(),
            headers=headers,
            decode_content=False,
        )
        self._check(response, "POST")
        answer = response.headers["content-type"].split("boundary=")[1].strip('"')
        delimiter = b"\r\n--" + answer.encode()
        found: dict[int, bytes] = {}
        # The body starts with the first delimiter (no CRLF before it) and ends with `--`.
        for part in (b"\r\n" + response.data).split(delimiter)[1:-1]:
            head, _, data = part[2:].partition(b"\r\n\r\n")
            fields = dict(line.split(": ", 1) for line in head.decode().lower().split("\r\n"))
            if "zstd" in fields.get("content-encoding", ""):
                data = self._codecs()[1].decompressobj().decompress(data)
            found[int(fields["x-sn-batch-operation-index"])] = data
        return [found[index] for index in range(len(keys))]


def _read_in_chunks(stream: Any, size: int) -> int:
    total = 0
    while chunk := stream.read(size):
        total += len(chunk)
    return total


IMPLS: dict[str, type[Impl]] = {"ours": Ours, "upstream": Upstream, "raw-urllib3": RawUrllib3}


class Data:
    """The payloads, the same bytes in every worker."""

    def __init__(self) -> None:
        self.small = random_bytes(KIB, SEED)
        self.big_random = random_bytes(MIB, SEED + 1)
        self.big_text = text_bytes(MIB, SEED + 2)
        self.medium = random_bytes(64 * KIB, SEED + 3)
        self._large: bytes | None = None

    @property
    def large(self) -> bytes:
        """64 MiB, half random: 32 KiB of random bytes, then 32 KiB of text, and so on."""
        if self._large is None:
            self._large = large_bytes()
        return self._large


def large_bytes() -> bytes:
    """The 64 MiB payload of the large workloads (zstd stores it at about 60%)."""
    rng = random.Random(SEED + 4)
    text = text_bytes(32 * KIB, SEED + 5)
    return b"".join(rng.randbytes(32 * KIB) + text for _ in range(LARGE // (64 * KIB)))


Result = dict[str, float]


# What `prepare` has set up in this worker (one implementation per process).
_PREPARED: set[str] = set()


def prepare(what: str, setup: Callable[[], None]) -> None:
    """Runs `setup` the first time `what` is asked for: the objects a workload reads."""
    if what not in _PREPARED:
        setup()
        _PREPARED.add(what)


def _timed_loop(seconds: float, op: Callable[[int], int], warmup: int = 3) -> Result:
    """Calls `op(i)` (returning the payload bytes moved) until `seconds` have passed."""
    for i in range(warmup):  # warm up: connections, caches, tokens
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
    return {"ops": ops, "elapsed": now - start, "bytes": moved, "cpu": cpu, "value": 0}


def _put_loop(impl: Impl, prefix: str, data: bytes, seconds: float, warmup: int = 3) -> Result:
    keys = [f"{prefix}-{i}" for i in range(PUT_KEYS if warmup > 1 else 2)]

    def op(i: int) -> int:
        impl.put(keys[i % len(keys)], data)
        return len(data)

    return _timed_loop(seconds, op, warmup)


def _get_loop(
    impl: Impl, key: str, data: bytes, seconds: float, warmup: int = 3, chunk: int = 0
) -> Result:
    # A key per implementation: each must read what it uploaded itself (frame layout and
    # content-size headers differ between clients), not what the last one wrote.
    key = f"{impl.name}-{key}"

    def setup() -> None:
        impl.put(key, data)
        if impl.get(key) != data:
            raise RuntimeError(f"{impl.name}: GET {key} returned other bytes")

    prepare(key, setup)

    def op(i: int) -> int:
        if chunk:
            return impl.get_chunks(key, chunk)
        return len(impl.get(key))

    return _timed_loop(seconds, op, warmup)


def _same_object_loop(impl: Impl, data: bytes, seconds: float, checksum: bool = False) -> Result:
    """The streamed 64 MiB GET of one object that every implementation reads alike.

    The bytes 0.2.x writes (one zstd frame from a stream compressor: no checksum, no
    content size), uploaded as they are, so that the clients' own costs are compared
    and not their write policies (ours writes checksums, which its reads then verify).
    """
    import io

    import zstandard

    key = f"{impl.name}-same64m{'-checksum' if checksum else ''}"

    def setup() -> None:
        compressor = zstandard.ZstdCompressor(write_checksum=checksum)
        blob = compressor.stream_reader(io.BytesIO(data)).read()
        impl.put_zstd(key, blob)
        if impl.get(key) != data:
            raise RuntimeError(f"{impl.name}: GET {key} returned other bytes")

    prepare(key, setup)
    return _timed_loop(seconds, lambda i: impl.get_chunks(key, MIB), warmup=1)


def _range_loop(impl: Impl, data: bytes, seconds: float) -> Result:
    """1 MiB at a different offset each time, from an object stored uncompressed."""
    key = f"{impl.name}-range"

    def setup() -> None:
        impl.put_plain(key, data)

    prepare(key, setup)
    span = len(data) - MIB
    offsets = [(i * 7_919 * 4_096) % span for i in range(64)]

    def op(i: int) -> int:
        start = offsets[i % len(offsets)]
        chunk = impl.get_range(key, start, start + MIB)
        if chunk != data[start : start + MIB]:
            raise RuntimeError(f"{impl.name}: range at {start} returned other bytes")
        return len(chunk)

    return _timed_loop(seconds, op, warmup=2)


def _many_loop(impl: Impl, data: bytes, seconds: float) -> Result:
    """GETs of BATCH_KEYS objects of 1 KiB in one call; every operation is counted."""
    keys = [f"{impl.name}-many-{i}" for i in range(BATCH_KEYS)]

    def setup() -> None:
        for key in keys:
            impl.put(key, data)

    prepare(f"{impl.name}-many", setup)

    def op(i: int) -> int:
        got = impl.get_many(keys)
        if got != [data] * len(keys):
            raise RuntimeError(f"{impl.name}: a batch returned other bytes")
        return len(keys) * len(data)

    result = _timed_loop(seconds, op, warmup=2)
    # One call does BATCH_KEYS operations: the throughput is in operations.
    result["ops"] *= BATCH_KEYS
    return result


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
    return {"ops": ops, "elapsed": elapsed, "bytes": 0, "cpu": cpu, "value": 0}


def _mixed_loop(impl: Impl, data: bytes, seconds: float, small: bool = False) -> Result:
    """THREADS threads share `impl`, alternating a PUT and a GET of 64 KiB objects.

    With `small`, each operation is instead a PUT, a GET and a DELETE of 1 KiB.
    """

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
                if small:
                    _small_round_trip(impl, f"small-{t}", data)
                elif n % 2:
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
    return {"ops": ops, "elapsed": elapsed, "bytes": ops * len(data), "cpu": cpu, "value": 0}


def _small_round_trip(impl: Impl, key: str, data: bytes) -> None:
    impl.put(key, data)
    if impl.get(key) != data:
        raise RuntimeError(f"{impl.name}: GET {key} returned other bytes")
    impl.delete(key)


def _small_loop(impl: Impl, data: bytes, seconds: float) -> Result:
    def op(i: int) -> int:
        _small_round_trip(impl, "small", data)
        return len(data)

    return _timed_loop(seconds, op)


# --- measured in fresh child processes -------------------------------------------------

# What each implementation imports to be usable (raw-urllib3: what its code needs).
IMPORT_STATEMENT = {
    "ours": "import objectstore_client",
    "upstream": "import objectstore_client",
    "raw-urllib3": "import json, urllib3, zstandard",
}


def _child(impl: Impl, what: str, seconds: float, extra: list[str]) -> Result:
    """Runs `what` in fresh child processes (same interpreter and arguments) for `seconds`.

    Each child prints one number, its cost; `value` is their sum and `ops` their count.
    At least one child runs.
    """
    ops = 0
    total = 0.0
    start = time.perf_counter()
    command = [sys.executable, __file__, *ARGV, "--child", what, *extra]
    if what == "import":
        # Nothing but the import: the worker module's own imports would pre-load some.
        command = [
            sys.executable,
            "-c",
            "import time; start = time.perf_counter(); "
            f"{IMPORT_STATEMENT[impl.name]}; print((time.perf_counter() - start) * 1000)",
        ]
    while ops == 0 or time.perf_counter() - start < seconds:
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise RuntimeError(f"{impl.name}: child {what} failed: {child.stderr[-2000:]}")
        total += float(child.stdout.split()[-1])
        ops += 1
    elapsed = time.perf_counter() - start
    return {"ops": ops, "elapsed": elapsed, "bytes": 0, "cpu": 0.0, "value": total}


def child_rss(impl: Impl) -> float:
    """Peak RSS in MiB of this process after a 64 MiB round trip (put, get whole, delete)."""
    data = large_bytes()
    key = f"rss-{impl.name}-{os.getpid()}"
    impl.put(key, data)
    if impl.get(key) != data:
        raise RuntimeError(f"{impl.name}: GET {key} returned other bytes")
    impl.delete(key)
    return peak_rss_mib()


def peak_rss_mib() -> float:
    """This process's own peak RSS in MiB: `VmHWM`, the high-water mark of its memory map.

    Not `ru_maxrss`: Linux carries a parent's peak RSS into a child across fork and exec
    (`signal->maxrss`, recorded from the old memory map at exec), so a child started by a
    worker holding 270 MiB reported at least that, whatever it used itself.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Workload:
    """One line of the results: what an operation is, and how it is measured."""

    description: str
    unit: str
    """`ops/s` or `MiB/s` (higher is better), `ms` or `MiB` (a cost: lower is better)."""
    run: Callable[[Impl, Data, float], Result]
    scenarios: tuple[str, ...] = ("no auth", "auth")
    """The scenarios it runs in (large and one-off workloads only with auth)."""


AUTH_ONLY = ("auth",)

WORKLOADS: dict[str, Workload] = {
    "put_1k": Workload(
        "put 1 KiB", "ops/s", lambda impl, data, s: _put_loop(impl, "put1k", data.small, s)
    ),
    "get_1k": Workload(
        "get 1 KiB", "ops/s", lambda impl, data, s: _get_loop(impl, "get1k", data.small, s)
    ),
    "small_1k": Workload(
        "1 KiB put+get+delete, 1 thread",
        "ops/s",
        lambda impl, data, s: _small_loop(impl, data.small, s),
    ),
    "small_1k_8threads": Workload(
        "1 KiB put+get+delete, 8 threads",
        "ops/s",
        lambda impl, data, s: _mixed_loop(impl, data.small, s, small=True),
    ),
    "put_1m_random": Workload(
        "put 1 MiB random",
        "MiB/s",
        lambda impl, data, s: _put_loop(impl, "put1m", data.big_random, s),
    ),
    "put_1m_text": Workload(
        "put 1 MiB text (compressible)",
        "MiB/s",
        lambda impl, data, s: _put_loop(impl, "put1m", data.big_text, s),
    ),
    "get_1m_random": Workload(
        "get 1 MiB random",
        "MiB/s",
        lambda impl, data, s: _get_loop(impl, "get1m-random", data.big_random, s),
    ),
    "get_1m_text": Workload(
        "get 1 MiB text (compressible)",
        "MiB/s",
        lambda impl, data, s: _get_loop(impl, "get1m-text", data.big_text, s),
    ),
    "delete": Workload("delete", "ops/s", lambda impl, data, s: _delete_loop(impl, data.small, s)),
    "mixed_64k_8threads": Workload(
        "8 threads, put+get 64 KiB",
        "ops/s",
        lambda impl, data, s: _mixed_loop(impl, data.medium, s),
    ),
    "get_range_1m": Workload(
        "get 1 MiB range of a 16 MiB object",
        "MiB/s",
        lambda impl, data, s: _range_loop(impl, data.large[: 16 * MIB], s),
        AUTH_ONLY,
    ),
    "many_get_1k": Workload(
        f"get {BATCH_KEYS} x 1 KiB in one call",
        "ops/s",
        lambda impl, data, s: _many_loop(impl, data.small, s),
    ),
    "put_64m": Workload(
        "put 64 MiB (half random)",
        "MiB/s",
        lambda impl, data, s: _put_loop(impl, "put64m", data.large, s, warmup=1),
        AUTH_ONLY,
    ),
    "get_64m": Workload(
        "get 64 MiB, read() whole",
        "MiB/s",
        lambda impl, data, s: _get_loop(impl, "get64m", data.large, s, warmup=1),
        AUTH_ONLY,
    ),
    "get_64m_stream": Workload(
        "get 64 MiB, read(1 MiB) to the end",
        "MiB/s",
        lambda impl, data, s: _get_loop(impl, "get64m", data.large, s, warmup=1, chunk=MIB),
        AUTH_ONLY,
    ),
    "get_64m_stream_same": Workload(
        "get 64 MiB, read(1 MiB), one object written alike",
        "MiB/s",
        lambda impl, data, s: _same_object_loop(impl, data.large, s),
        AUTH_ONLY,
    ),
    "get_64m_stream_same_checksum": Workload(
        "get 64 MiB, read(1 MiB), one object written alike, with a checksum",
        "MiB/s",
        lambda impl, data, s: _same_object_loop(impl, data.large, s, checksum=True),
        AUTH_ONLY,
    ),
    "import": Workload(
        "import time (fresh interpreter)",
        "ms",
        lambda impl, data, s: _child(impl, "import", s, []),
        AUTH_ONLY,
    ),
    "rss_64m": Workload(
        "peak RSS, 64 MiB put + get + delete",
        "MiB",
        lambda impl, data, s: _child(impl, "rss", s, []),
        AUTH_ONLY,
    ),
}
"""Every workload, in the order of the results table."""


def run_workload(impl: Impl, data: Data, workload: str, seconds: float) -> Result:
    return WORKLOADS[workload].run(impl, data, seconds)


# The arguments this worker was started with (IMPL URL [KID KEYFILE]); children get them.
ARGV: list[str] = []


def main(argv: list[str]) -> int:
    # Upstream's pool of one connection logs a warning for every connection it discards
    # under concurrency; silence urllib3 for every implementation alike.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    child = None
    if "--child" in argv:
        position = argv.index("--child")
        argv, child = argv[:position], argv[position + 1]
    ARGV[:] = argv
    impl_name, url = argv[0], argv[1]
    auth = load_auth(argv[2], argv[3]) if len(argv) > 2 else None
    impl = IMPLS[impl_name](url, auth)
    if child == "rss":
        print(child_rss(impl))
        return 0
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
