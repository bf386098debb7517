"""`objectstore`'s entry point: parse, dispatch, and turn expected failures into exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from objectstore_client.cli._errors import EXIT_FAILED, EXIT_USAGE, describe, one_line

Command = Callable[[argparse.Namespace, Mapping[str, str]], int]


def _commands() -> dict[str, Command]:
    from objectstore_client.cli import _access, _batch, _objects

    return {
        "put": _objects.put,
        "get": _objects.get,
        "head": _objects.head,
        "rm": _objects.rm,
        "url": _access.url,
        "token": _access.token,
        "batch": _batch.batch,
    }


def _serve(argv: Sequence[str]) -> int:
    # The local server's own parser owns its flags, so `serve` never falls behind them.
    from objectstore_client.testing.__main__ import main as serve_main

    return serve_main(list(argv))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Runs `objectstore` with `argv` (default `sys.argv[1:]`); returns the exit status.

    Expected failures (bad input, missing objects, refused requests, network errors,
    file errors) print one line on stderr and return 1 or 2; see `_errors`.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    environment = os.environ if env is None else env
    if arguments[:1] == ["serve"]:
        return _serve(arguments[1:])
    from objectstore_client.cli._parser import build_parser

    args = build_parser().parse_args(arguments)
    try:
        return _commands()[args.command](args, environment)
    except KeyboardInterrupt:
        print("objectstore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `objectstore get big | head`: the reader left; not an error worth a message.
        _silence_stdout()
        return EXIT_FAILED
    except Exception as exc:
        message, status = describe(exc)
        print(f"objectstore: {one_line(message)}", file=sys.stderr)
        return status if status in (EXIT_FAILED, EXIT_USAGE) else EXIT_FAILED


def _silence_stdout() -> None:
    # Python would report the broken pipe again while flushing stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
