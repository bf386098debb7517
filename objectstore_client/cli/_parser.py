"""The `objectstore` command line's options, help texts and examples."""

from __future__ import annotations

import argparse

from objectstore_client._version import __version__

_MAIN_EPILOG = """\
settings (flags win over the environment):
  --url        OBJECTSTORE_URL       server URL (default http://127.0.0.1:8888)
  --usecase    OBJECTSTORE_USECASE   usecase name, e.g. attachments
  --scope      OBJECTSTORE_SCOPE     scope, e.g. org=42,project=1337 (order matters)
  --token      OBJECTSTORE_TOKEN     a pre-signed token (JWT)
  --key-file   OBJECTSTORE_KEY_FILE  an Ed25519 private key (PKCS#8 PEM) to sign tokens
  --kid        OBJECTSTORE_KID       the key id the server trusts that key under

exit status: 0 success; 1 an operation failed (missing object, refused request,
unreachable server, unreadable or unwritable file); 2 bad command line or settings.

examples:
  objectstore serve --port 8888 &
  export OBJECTSTORE_USECASE=attachments OBJECTSTORE_SCOPE=org=42,project=1337
  objectstore put report.pdf                       # key: report.pdf
  objectstore put -r ./logs --prefix logs/         # every file, keys logs/<path>
  echo hello | objectstore put - --key greeting --ttl 1d
  objectstore get greeting                         # to stdout
  objectstore get report.pdf -o copy.pdf
  objectstore head report.pdf --json
  objectstore rm greeting report.pdf
  objectstore url report.pdf --presign --valid 1h --key-file key.pem --kid my-kid
"""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--url", help="server URL (OBJECTSTORE_URL; default http://127.0.0.1:8888)")
    group.add_argument("-u", "--usecase", help="usecase name (OBJECTSTORE_USECASE)")
    group.add_argument(
        "-s",
        "--scope",
        action="append",
        metavar="NAME=VALUE[,...]",
        help="scope, in order; repeat or separate with commas (OBJECTSTORE_SCOPE)",
    )
    group.add_argument("--token", help="a pre-signed token (OBJECTSTORE_TOKEN)")
    group.add_argument(
        "--key-file", help="Ed25519 private key PEM to sign tokens with (OBJECTSTORE_KEY_FILE)"
    )
    group.add_argument("--kid", help="key id of --key-file (OBJECTSTORE_KID)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="socket read/write timeout")


def _jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-j", "--jobs", type=int, default=8, help="transfers at a time (default 8)")


def _keys(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("keys", nargs="*", metavar="KEY", help=f"keys to {verb}")
    parser.add_argument(
        "--keys-from", metavar="FILE", help="also read keys from FILE, one per line (- is stdin)"
    )


def _subparser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    examples: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The parser of `objectstore` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="objectstore",
        description="Store, fetch and share objects in Objectstore, or run a local server.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"objectstore {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    put = _subparser(
        commands,
        "put",
        "upload files, directories (--recursive) or stdin (-); prints each stored key",
        "  objectstore put photo.jpg                   # key photo.jpg, type image/jpeg\n"
        "  objectstore put data.bin --key a/b --ttl 30d --meta owner=me\n"
        "  objectstore put -r ./site --prefix site/ --json\n"
        "  tar c . | objectstore put - --key backup.tar   # stdin\n"
        "  cat notes.txt | objectstore put -              # a new UUID key\n",
    )
    put.add_argument("sources", nargs="+", metavar="PATH", help="files, directories, or -")
    put.add_argument("-k", "--key", help="the key (one source); default: the file name")
    put.add_argument("-p", "--prefix", help="prepended to every key (directories: + path)")
    put.add_argument("-r", "--recursive", action="store_true", help="upload directories")
    put.add_argument("--ttl", metavar="DURATION", help="expire this long after upload (30d)")
    put.add_argument("--tti", metavar="DURATION", help="expire after this long unread (7d)")
    put.add_argument(
        "-m", "--meta", action="append", metavar="NAME=VALUE", help="custom metadata; repeat"
    )
    put.add_argument(
        "-t", "--content-type", help="media type; default guessed from the bytes and name"
    )
    put.add_argument(
        "--compression", choices=("zstd", "none"), help="on the wire and stored (default zstd)"
    )
    put.add_argument("--filename", help="file name served in Content-Disposition")
    put.add_argument("--origin", help="where the payload came from (e.g. an IP address)")
    put.add_argument("--json", action="store_true", help="print JSON lines {key, source}")
    put.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _jobs(put)

    get = _subparser(
        commands,
        "get",
        "download objects to stdout, a file, or a directory (written atomically)",
        "  objectstore get greeting                     # to stdout\n"
        "  objectstore get report.pdf -o report.pdf\n"
        "  objectstore get a b c -o out/                # out/a out/b out/c\n"
        "  objectstore put -r logs --prefix l/ | objectstore get --keys-from - "
        "-o copy/ --strip-prefix l/\n",
    )
    _keys(get, "download")
    get.add_argument(
        "-o", "--output", help="file, or directory (ends in / or exists); default stdout"
    )
    get.add_argument("--strip-prefix", help="remove this prefix from keys for file paths")
    get.add_argument(
        "--raw", action="store_true", help="write the stored bytes (zstd stays compressed)"
    )
    get.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _jobs(get)

    head = _subparser(
        commands,
        "head",
        "print objects' metadata",
        "  objectstore head report.pdf\n  objectstore head a b --json | jq .size\n",
    )
    _keys(head, "describe")
    head.add_argument("--json", action="store_true", help="one JSON document per key")

    rm = _subparser(
        commands,
        "rm",
        "delete objects",
        "  objectstore rm a b c\n  objectstore rm --keys-from old-keys.txt\n",
    )
    _keys(rm, "delete")
    _jobs(rm)

    url = _subparser(
        commands,
        "url",
        "print an object's URL: plain, with a read-only token, or presigned",
        "  objectstore url report.pdf\n"
        "  objectstore url report.pdf --token-valid 5m --key-file k.pem --kid my-kid\n"
        "  objectstore url report.pdf --presign --valid 1h --key-file k.pem --kid my-kid\n",
    )
    url.add_argument("key", metavar="KEY")
    url.add_argument(
        "--token-valid", metavar="DURATION", help="embed a read-only token valid this long"
    )
    url.add_argument("--presign", action="store_true", help="a presigned URL (no token)")
    url.add_argument("--method", default="GET", choices=("GET", "HEAD"), help="for --presign")
    url.add_argument("--valid", metavar="DURATION", help="--presign validity (default 1h, max 7d)")

    token = _subparser(
        commands,
        "token",
        "mint a token for the usecase and scope, signed with --key-file",
        "  objectstore token --key-file k.pem --kid my-kid -u attachments -s org=42\n"
        "  objectstore token --permissions read --expires 10m ...\n",
    )
    token.add_argument(
        "--permissions", metavar="LIST", help="read,write,delete (default: all three)"
    )
    token.add_argument("--expires", metavar="DURATION", help="validity (default 60s)")

    batch = _subparser(
        commands,
        "batch",
        "run a JSON-lines file of put/get/head/delete operations",
        '  printf \'%s\\n\' \'{"op": "put", "key": "a", "data": "hi"}\' '
        '\'{"op": "head", "key": "a"}\' | objectstore batch -\n'
        "  objectstore batch ops.jsonl > results.jsonl\n",
    )
    batch.add_argument("file", metavar="FILE", help="JSON lines, one operation each (- is stdin)")

    commands.add_parser(
        "serve",
        help="run the local Objectstore server (every flag of python -m "
        "objectstore_client.testing; see objectstore serve --help)",
        add_help=False,
    )
    return parser
