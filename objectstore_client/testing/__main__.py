"""Run the local Objectstore server: `python -m objectstore_client.testing [run]`.

Honours the real server's environment (`OS__HTTP_ADDR`, `OS__STORAGE__TYPE`,
`OS__STORAGE__PATH`, `OS__AUTH__ENFORCE`, `OS__AUTH__KEYS`, ...) so it can replace the
`objectstore` binary in a test harness; command-line flags override the environment.
Prints the URL it serves, and stops cleanly on SIGINT, SIGTERM, SIGHUP or SIGQUIT.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from objectstore_client._version import __version__
from objectstore_client.testing._config import (
    PERMISSIONS,
    SERVER_VERSIONS,
    AuthKey,
    ConfigError,
    ServerConfig,
    overlay,
)
from objectstore_client.testing._env import config_from_env, read_public_key_file
from objectstore_client.testing._server import LocalServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m objectstore_client.testing",
        description="A local Objectstore server speaking the real server's HTTP protocol.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "healthcheck", "version"),
        help="run (default) serves; healthcheck GETs /health; version prints the version",
    )
    parser.add_argument("-c", "--config", help="accepted for compatibility; YAML is not read")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default 8888; 0 picks a free one)")
    parser.add_argument(
        "--data-dir", help="keep objects in this directory (default: a temporary one)"
    )
    parser.add_argument("--memory", action="store_true", help="keep objects in memory")
    parser.add_argument(
        "--auth-key",
        action="append",
        default=[],
        metavar="KID=PUBLIC_KEY_PEM",
        help="trust this Ed25519 public key (a PEM file path) for key id KID, with every "
        "permission; repeat for more keys; enables auth",
    )
    parser.add_argument(
        "--no-enforce", action="store_true", help="verify tokens but only log failures"
    )
    parser.add_argument(
        "--semantics",
        choices=("production", "filesystem"),
        help="which backend's observable quirks to reproduce (default production)",
    )
    parser.add_argument(
        "--server-version",
        choices=SERVER_VERSIONS,
        help="which server to reproduce: current (default; today's protocol) or 0.2.0 "
        "(the public 0.2.0 release)",
    )
    parser.add_argument(
        "--extend-expiry",
        action="store_true",
        help="serve the PATCH extend-expiry endpoint (on by default with --server-version current)",
    )
    return parser


def build_config(args: argparse.Namespace, env: dict[str, str]) -> ServerConfig:
    """Defaults < `OS__*` environment < command-line flags."""
    config = config_from_env(env, ServerConfig(port=8888))
    settings: dict[str, object] = {}
    if args.host is not None:
        settings["host"] = args.host
    if args.port is not None:
        settings["port"] = args.port
    if args.data_dir is not None:
        settings["data_dir"] = Path(args.data_dir)
        settings["storage"] = "filesystem"
    if args.memory:
        settings["storage"] = "memory"
    if args.auth_key:
        keys = dict(config.auth_keys)
        for item in args.auth_key:
            kid, sep, path = item.partition("=")
            if not sep or not kid or not path:
                raise ConfigError(f"--auth-key: expected KID=PUBLIC_KEY_PEM, got {item!r}")
            pem = read_public_key_file(path, "--auth-key")
            keys[kid] = AuthKey(public_keys=(pem,), max_permissions=frozenset(PERMISSIONS))
        settings["auth_keys"] = keys
    if args.no_enforce:
        settings["enforce_auth"] = False
    if args.semantics is not None:
        settings["semantics"] = args.semantics
    if args.server_version is not None:
        settings["server_version"] = args.server_version
    if args.extend_expiry:
        settings["extend_expiry"] = True
    return overlay(config, settings)


def _healthcheck(config: ServerConfig) -> int:
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    host = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{config.port}/health", timeout=5) as reply:
            return 0 if reply.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"objectstore-local {__version__}")
        return 0
    try:
        config = build_config(args, dict(os.environ))
        if args.command == "healthcheck":
            return _healthcheck(config)
        server = LocalServer.from_config(config)
        try:
            server.start()
        except OSError as exc:
            where = f"{config.host}:{config.port}"
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise ConfigError(
                f"OS__HTTP_ADDR / --port: cannot listen on {where}: {reason}"
            ) from None
    except ConfigError as exc:
        print(f"objectstore-local: invalid configuration: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    auth = "off"
    if config.auth_active:
        auth = "enforced" if config.auth_enforced else "verified, not enforced"
    print(
        f"Objectstore local server listening on {server.url} "
        f"(server version {config.server_version}, auth {auth})",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("Objectstore local server stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
