"""`objectstore url` and `objectstore token`: access for consumers that hold no key."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from objectstore_client.auth import Permission
from objectstore_client.cli import _settings
from objectstore_client.cli._errors import EXIT_OK, UsageError


def url(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Prints an object's URL: plain, with a read-only token, or presigned."""
    if args.presign and args.token_valid is not None:
        raise UsageError("give either --presign or --token-valid, not both")
    if args.presign or args.token_valid is not None:
        _settings.signing_key(args, env, "url --presign/--token-valid")
    session = _settings.session(_settings.client(args, env), args, env)
    if args.presign:
        duration = _settings.parse_duration(args.valid or "1h", "--valid")
        print(session.presigned_object_url(args.method, args.key, duration))
    elif args.token_valid is not None:
        validity = _settings.parse_duration(args.token_valid, "--token-valid")
        print(session.object_url(args.key, token_validity=validity))
    else:
        print(session.object_url(args.key))
    return EXIT_OK


def parse_permissions(text: str) -> list[Permission]:
    """`read,write` (or `object.read,...`) as `Permission`s."""
    permissions = []
    for item in text.split(","):
        name = item.strip().lower()
        if not name:
            continue
        full = name if name.startswith("object.") else f"object.{name}"
        try:
            permissions.append(Permission(full))
        except ValueError:
            raise UsageError(
                f"--permissions: unknown permission {item.strip()!r} (read, write, delete)"
            ) from None
    if not permissions:
        raise UsageError("--permissions: name at least one of read, write, delete")
    return permissions


def token(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Prints a token for the usecase and scope, signed with the key file's key."""
    _settings.signing_key(args, env, "token")
    permissions = parse_permissions(args.permissions) if args.permissions else None
    expiry = None
    if args.expires is not None:
        seconds = _settings.parse_duration(args.expires, "--expires").total_seconds()
        expiry = max(1, int(-(-seconds // 1)))
    session = _settings.session(_settings.client(args, env), args, env)
    print(session.mint_token(permissions, expiry))
    return EXIT_OK
