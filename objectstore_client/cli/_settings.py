"""Where the command line finds its server, credentials, usecase and scope.

Flags win over the environment: `--url`/`OBJECTSTORE_URL`, `--token`/`OBJECTSTORE_TOKEN`,
`--key-file`/`OBJECTSTORE_KEY_FILE` with `--kid`/`OBJECTSTORE_KID`,
`--usecase`/`OBJECTSTORE_USECASE`, `--scope`/`OBJECTSTORE_SCOPE`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import timedelta

from objectstore_client import _duration
from objectstore_client.auth import SecretKey, TokenGenerator
from objectstore_client.cli._errors import UsageError
from objectstore_client.client import Client
from objectstore_client.session import Session
from objectstore_client.usecase import Usecase

DEFAULT_URL = "http://127.0.0.1:8888"
"""Where `objectstore serve` listens by default."""


def setting(args: argparse.Namespace, env: Mapping[str, str], name: str) -> str | None:
    """A flag's value, else its `OBJECTSTORE_*` variable's, else `None`."""
    value = getattr(args, name, None)
    if value is None:
        value = env.get(f"OBJECTSTORE_{name.upper()}") or None
    return value if isinstance(value, str) or value is None else str(value)


def parse_scope(items: list[str]) -> dict[str, str]:
    """`org=42,project=1337` (or several `-s NAME=VALUE`) as an ordered mapping."""
    scope: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise UsageError(f"--scope: expected NAME=VALUE[,NAME=VALUE...], got {item!r}")
            if name.strip() in scope:
                raise UsageError(f"--scope: {name.strip()!r} is given twice")
            scope[name.strip()] = value.strip()
    return scope


def parse_duration(text: str, flag: str) -> timedelta:
    """A duration such as `30d`, `12h`, `1h 30m` or `90s`."""
    try:
        return _duration.parse_timedelta(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc} (e.g. 30d, 12h, 1h30m, 90s)") from None


def read_key_file(path: str) -> str:
    """The PEM text of a private key file; unreadable files are a usage error."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read key file {path!r}: {reason}") from None


def token_provider(args: argparse.Namespace, env: Mapping[str, str]) -> TokenGenerator | str | None:
    """A `SecretKey` from the key file and kid, a static token, or nothing."""
    key_file = setting(args, env, "key_file")
    token = setting(args, env, "token")
    if key_file is None:
        return token
    if getattr(args, "token", None) is not None and getattr(args, "key_file", None) is not None:
        raise UsageError("give either --token or --key-file, not both")
    kid = setting(args, env, "kid")
    if not kid:
        raise UsageError(f"key file {key_file!r} needs a key id: --kid or OBJECTSTORE_KID")
    pem = read_key_file(key_file)
    try:
        return SecretKey(kid, pem)
    except ValueError as exc:
        raise UsageError(f"key file {key_file!r}: {exc}") from None


def signing_key(args: argparse.Namespace, env: Mapping[str, str], purpose: str) -> TokenGenerator:
    """The `SecretKey` that `purpose` needs to sign with."""
    provider = token_provider(args, env)
    if not isinstance(provider, TokenGenerator):
        raise UsageError(
            f"{purpose} signs with a private key: give --key-file and --kid "
            "(or OBJECTSTORE_KEY_FILE and OBJECTSTORE_KID)"
        )
    return provider


def client(args: argparse.Namespace, env: Mapping[str, str]) -> Client:
    """A `Client` for the configured server and credentials."""
    url = setting(args, env, "url") or DEFAULT_URL
    timeout = getattr(args, "timeout", None)
    return Client(
        url,
        token=token_provider(args, env),
        timeout_ms=None if timeout is None else timeout * 1000,
    )


def session(client_: Client, args: argparse.Namespace, env: Mapping[str, str]) -> Session:
    """A `Session` for the configured usecase and scope."""
    name = setting(args, env, "usecase")
    if not name:
        raise UsageError("a usecase is required: --usecase NAME or OBJECTSTORE_USECASE")
    scope_items = list(getattr(args, "scope", None) or [])
    if not scope_items and env.get("OBJECTSTORE_SCOPE"):
        scope_items = [env["OBJECTSTORE_SCOPE"]]
    scope = parse_scope(scope_items)
    try:
        usecase = Usecase(name)
    except ValueError as exc:
        raise UsageError(f"--usecase {name!r}: {exc}") from None
    try:
        return client_.session(usecase, **scope)
    except ValueError as exc:
        raise UsageError(f"--scope: {exc}") from None
