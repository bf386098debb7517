"""A faithful local Objectstore server, for tests and for the quickstart.

The real server is a Rust service. This package implements its HTTP protocol
(docs/protocol.md) in pure Python so that the SDK's tests, the README
quickstart and *your* test suite can talk to a real server over loopback HTTP.

Start it in one of three ways:

* `python -m objectstore_client.testing` (honours the real server's `OS__*` environment);
* `with LocalServer() as server: ... server.url` in-process, in a background thread;
* the pytest fixtures `objectstore_server` / `objectstore_usecase` (installed automatically
  through the `pytest11` entry point).

Server versions: `server_version="current"` (the default, also of the pytest fixtures and the
CLI's `--server-version`) speaks today's Objectstore (the "current:" rules of docs/protocol.md):
HEAD 200 with `content-length` and `x-sn-size`, sized GETs, whole-second timestamps, d/h/m/s
durations, percent-coded metadata values, `filename*`, gzip, PATCH extend-expiry, one
`expiration.max` per usecase, and today's error texts. `server_version="0.2.0"` reproduces the
public 0.2.0 release (HEAD 204, humantime durations, raw metadata values, ...). The version
axis is independent of `semantics` below, except that today's filesystem backend enforces
expiry, renews TTI and answers 204 to deleting a missing key, as production does.

Fidelity: the server follows the **production** backends (GCS/BigTable) where docs/protocol.md says
the backends differ. Where the real server's *filesystem* backend behaves differently, this
is the list (protocol §19 items 6, 7, 18); pass `semantics="filesystem"` to get those quirks:

* DELETE of a missing key: production 204 (idempotent); filesystem 500 with a JSON i/o error,
  also as a 500 part in a batch (§6.5, §10.3).
* Expiry: production treats expired objects as missing (404 on GET/HEAD, 404 batch parts) and
  bumps TTI deadlines on reads with the debounce of §9.3; filesystem serves expired objects
  forever and never bumps TTI (§9.2, §9.3).
* Multipart (§11.2, §11.3): part etags are `"etag-<part>-<declared length>"` including the
  quotes, and an unknown upload id on part upload or list is a 500 while abort of an unknown
  upload is a 204. docs/protocol.md documents only the filesystem backend here, so both modes
  do this.

Unlike the filesystem backend, object keys never become file paths: no key, scope or usecase
(empty, `.`, `..`, `%2F`, absolute-looking) can read or write outside the storage directory,
`a` and `a/b` coexist, and writes are atomic (a reader never sees a half-written object).

Resumable uploads (current only, protocol §23): a session's bytes are staged in memory, or
under `<data_dir>/resumable/` with filesystem storage, so a server restarted on a data
directory you gave it still knows its sessions; the completing chunk publishes the object in
one atomic write with the metadata of the create request. `resumable_granularity` sets the
granularity sessions announce (default 0, as the real filesystem backend).

Connection limits (both versions; docs/protocol.md is silent, so these are our choices): at most
`max_connections` open connections (default: half the free file descriptors, at most 1024),
one more gets a 503 and is closed; a request head must be complete within `header_timeout`
(10 s); idle keep-alive connections close after `keepalive_timeout` (30 s); and when
`accept()` runs out of descriptors the server waits instead of spinning.
"""

from __future__ import annotations

from objectstore_client.testing._config import (
    AuthKey,
    ConfigError,
    Killswitch,
    ServerConfig,
    UsecasePolicy,
)
from objectstore_client.testing._keys import KeyPair, generate_keypair
from objectstore_client.testing._server import LocalServer

__all__ = [
    "AuthKey",
    "ConfigError",
    "KeyPair",
    "Killswitch",
    "LocalServer",
    "ServerConfig",
    "UsecasePolicy",
    "generate_keypair",
]
