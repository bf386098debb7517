"""`objectstore put`, `get`, `head` and `rm`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from objectstore_client import _validation
from objectstore_client.cli import _files, _settings
from objectstore_client.cli._errors import EXIT_OK, CliError, UsageError, describe, one_line
from objectstore_client.cli._progress import Progress, wanted
from objectstore_client.metadata import (
    ExpirationPolicy,
    Metadata,
    TimeToIdle,
    TimeToLive,
    format_expiration,
)
from objectstore_client.session import Session

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Upload:
    """One file (or stdin, `path=None`) to upload under `key` (`None`: a new UUID)."""

    path: Path | None
    key: str | None


def _policy(args: argparse.Namespace) -> ExpirationPolicy | None:
    if args.ttl is not None and args.tti is not None:
        raise UsageError("give either --ttl or --tti, not both")
    if args.ttl is not None:
        return TimeToLive(_settings.parse_duration(args.ttl, "--ttl"))
    if args.tti is not None:
        return TimeToIdle(_settings.parse_duration(args.tti, "--tti"))
    return None


def parse_metadata(items: list[str]) -> dict[str, str]:
    """`--meta NAME=VALUE` items as a mapping."""
    metadata = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--meta: expected NAME=VALUE, got {item!r}")
        metadata[name] = value
    return metadata


def _uploads(args: argparse.Namespace) -> list[Upload]:
    prefix = args.prefix or ""
    uploads: list[Upload] = []
    for source in args.sources:
        if source == "-":
            uploads.append(Upload(None, args.key or (prefix or None)))
            continue
        path = Path(source)
        if path.is_dir():
            if not args.recursive:
                raise UsageError(f"{source!r} is a directory: add --recursive (-r)")
            uploads.extend(
                Upload(file, _files.key_for(file, path, prefix)) for file in _files.walk(path)
            )
        elif path.exists():
            uploads.append(Upload(path, args.key or prefix + path.name))
        else:
            raise CliError(f"no such file or directory: {source!r}")
    if args.key and len(uploads) != 1:
        raise UsageError("--key names one object: give a single file, or use --prefix")
    return uploads


def _run_all(
    items: list[T], work: Callable[[T], R], jobs: int, label: Callable[[T], str]
) -> tuple[list[R | None], int]:
    """Runs `work` on every item, `jobs` at a time, reporting each failure on one line.

    Returns the results (`None` for failures) and the exit status: the highest of the
    failures' (a usage error outranks a failed operation), else 0.
    """
    statuses: list[int] = []

    def guarded(item: T) -> R | None:
        try:
            return work(item)
        except Exception as exc:
            message, status = describe(exc)
            statuses.append(status)
            report(f"{label(item)}: {message}")
            return None

    if len(items) == 1 or jobs <= 1:
        results = [guarded(item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(guarded, items))
    return results, max(statuses, default=EXIT_OK)


def report(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"objectstore: {one_line(message)}", file=sys.stderr, flush=True)


def put(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Uploads files, directories (with `--recursive`) or stdin; prints the keys.

    Files go through `Session.upload_file` (large ones in parallel parts, all or nothing),
    stdin through a streamed `Session.put`.
    """
    uploads = _uploads(args)
    policy = _policy(args)
    metadata = parse_metadata(args.meta or [])
    session = _settings.session(_settings.client(args, env), args, env)
    total = sum(u.path.stat().st_size for u in uploads if u.path is not None)
    unknown = any(u.path is None for u in uploads)
    label = f"put {len(uploads)} files" if len(uploads) > 1 else "put"
    progress = Progress(label, None if unknown else total, enabled=wanted() and not args.quiet)
    options: dict[str, Any] = {
        "compression": args.compression,
        "metadata": metadata,
        "expiration_policy": policy,
        "origin": args.origin,
        "filename": args.filename,
    }

    def upload(item: Upload) -> dict[str, Any]:
        if item.path is None:
            stored = session.put(
                sys.stdin.buffer,
                key=item.key,
                content_type=args.content_type,
                progress=progress.callback(),
                **options,
            )
            return {"key": stored, "source": "-"}
        with item.path.open("rb") as file:
            content_type = args.content_type or _files.content_type(file, item.path.name)
        stored = session.upload_file(
            item.path,
            item.key,
            content_type=content_type,
            progress=progress.callback(),
            **options,
        )
        return {"key": stored, "source": str(item.path)}

    results, status = _run_all(uploads, upload, args.jobs, lambda u: f"put {u.path or '-'}")
    progress.finish()
    for result in results:
        if result is not None:
            print(json.dumps(result) if args.json else result["key"], flush=True)
    return status


def _keys(args: argparse.Namespace) -> list[str]:
    keys = list(args.keys)
    if args.keys_from:
        keys.extend(_files.read_keys(args.keys_from))
    if not keys:
        raise UsageError("no keys given: name them, or use --keys-from FILE")
    return keys


def get(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Downloads objects to stdout, a file, or a directory."""
    keys = _keys(args)
    output = args.output
    to_directory = len(keys) > 1 or (
        output not in (None, "-") and (output.endswith(("/", "\\")) or Path(output).is_dir())
    )
    if len(keys) > 1 and output in (None, "-"):
        raise UsageError("several keys download to a directory: give --output DIR/")
    session = _settings.session(_settings.client(args, env), args, env)
    show = wanted() and not args.quiet
    targets: list[tuple[str, Path | None]]
    if to_directory:
        directory = Path(output)
        targets = [(key, _files.path_for(key, directory, args.strip_prefix or "")) for key in keys]
    else:
        targets = [(keys[0], None if output in (None, "-") else Path(output))]
    progress = Progress("get", None, enabled=show and len(targets) == 1)

    def fetch(item: tuple[str, Path | None]) -> bool:
        return _download(session, item[0], item[1], args.raw, progress)

    _, status = _run_all(targets, fetch, args.jobs, lambda item: f"get {item[0]}")
    progress.finish()
    return status


def _download(
    session: Session, key: str, target: Path | None, raw: bool, progress: Progress
) -> bool:
    """Writes an object to stdout, or atomically to a file (`Session.download_file`)."""
    if target is None:
        with session.get(key, decompress=not raw, progress=progress.callback()) as response:
            while chunk := response.payload.read(1 << 20):
                sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return True
    _validation.check_key(key)  # a bad key must not create directories first
    with _files.parent_directories(target):
        session.download_file(key, target, decompress=not raw, progress=progress.callback())
    return True


def metadata_document(key: str, metadata: Metadata) -> dict[str, Any]:
    """An object's metadata as a JSON-ready mapping (`head --json`, `batch`)."""
    policy = metadata.expiration_policy
    return {
        "key": key,
        "size": metadata.size,
        "content_type": metadata.content_type,
        "compression": metadata.compression,
        "expiration_policy": format_expiration(policy) if policy is not None else None,
        "time_created": metadata.time_created.isoformat() if metadata.time_created else None,
        "time_expires": metadata.time_expires.isoformat() if metadata.time_expires else None,
        "origin": metadata.origin,
        "filename": metadata.filename,
        "metadata": dict(metadata.custom),
    }


def head(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Prints objects' metadata, as aligned lines or one JSON document per key."""
    keys = _keys(args)
    session = _settings.session(_settings.client(args, env), args, env)
    results, status = _run_all(
        keys, lambda key: metadata_document(key, session.head(key)), 1, lambda k: f"head {k}"
    )
    for index, document in enumerate(result for result in results if result is not None):
        if args.json:
            print(json.dumps(document))
            continue
        if index:
            print()
        custom = document.pop("metadata")
        for name, value in document.items():
            print(f"{name.replace('_', '-'):<18} {'' if value is None else value}")
        for name, value in sorted(custom.items()):
            print(f"{'meta.' + name:<18} {value}")
    return status


def rm(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Deletes objects; every failure is reported, the others still deleted."""
    keys = _keys(args)
    session = _settings.session(_settings.client(args, env), args, env)

    def delete(key: str) -> bool:
        session.delete(key)
        return True

    _, status = _run_all(keys, delete, args.jobs, lambda key: f"rm {key}")
    return status
