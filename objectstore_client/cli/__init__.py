"""The `objectstore` command line: put, get, head, rm, url, token, batch and serve.

Run it as `objectstore ...` (the console script) or `python -m objectstore_client ...`.
`objectstore --help` and `objectstore COMMAND --help` list every option with examples;
docs/cli.md is the manual.

Why argparse and a hand-made progress bar rather than click/typer and rich: the command
line must not add a dependency to the SDK (the `cli` extra installs nothing today and
exists so that installs can name it), and a command that uploads one file should start
fast: click, typer and rich together add tens of milliseconds of imports for features
(colour, shell completion, rich tables) that a tool printing keys and JSON lines does not
need. argparse gives subcommands, `--help` and exit status 2 for usage errors, the
convention the command line follows.

Nothing here is imported by `import objectstore_client`.
"""

from __future__ import annotations

from objectstore_client.cli._main import main

__all__ = ["main"]
