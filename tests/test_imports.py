"""`import objectstore_client` loads nothing heavy; each heavy dependency waits for its use.

Each check runs in a fresh interpreter: this process has imported everything already.
These are facts about `sys.modules`, not timings (bench/run.py measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Packages that take longer to import than the SDK itself, and the local server.
HEAVY = ("sentry_sdk", "jwt", "cryptography", "filetype", "urllib3", "objectstore_client.testing")


def _loaded_after(code: str) -> set[str]:
    """The heavy packages in `sys.modules` after running `code` in a fresh interpreter."""
    probe = (
        code
        + "\nimport json, sys\n"
        + f"heavy = {HEAVY!r}\n"
        + "print(json.dumps(sorted(m for m in sys.modules"
        + " if any(m == h or m.startswith(h + '.') for h in heavy))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    return {next(h for h in HEAVY if m == h or m.startswith(h + ".")) for m in loaded}


def test_importing_the_package_loads_nothing_heavy():
    assert _loaded_after("import objectstore_client") == set()


def test_errors_metadata_and_types_load_nothing_heavy():
    code = (
        "from objectstore_client import ObjectNotFound, Metadata, TimeToLive, Usecase, Scope\n"
        "from objectstore_client import Permission, SecretKey, parse_accept_encoding\n"
        "from objectstore_client.errors import raise_for_status\n"
        "Usecase('u')"
    )
    assert _loaded_after(code) == set()


def test_a_client_without_auth_or_sentry_loads_only_urllib3():
    code = (
        "from objectstore_client import Client, Usecase\n"
        "client = Client('http://127.0.0.1:9')\n"
        "session = client.session(Usecase('u'), org=1)\n"
        "session.object_url('k')"
    )
    assert _loaded_after(code) == {"urllib3"}


def test_signing_loads_jwt_and_cryptography_on_first_use():
    from objectstore_client.testing import generate_keypair

    pem = generate_keypair().private_pem
    code = (
        "from objectstore_client import Scope, TokenGenerator\n"
        f"generator = TokenGenerator('kid', {pem!r})\n"
        "generator.token_for_request('u', Scope(org=1))"
    )
    assert {"jwt", "cryptography"} <= _loaded_after(code)


def test_guessing_a_mime_type_loads_filetype_on_first_use():
    code = "from objectstore_client.utils import guess_mime_type\nguess_mime_type(b'%PDF-1.4')"
    assert "filetype" in _loaded_after(code)


@pytest.mark.parametrize(
    "statement",
    [
        "from objectstore_client import *",
        "from objectstore_client import Client, Session, GetResponse",
        "from objectstore_client.client import Client, GetResponse, Session, Usecase",
        "from objectstore_client.session import GetResponse, Session",
        "import objectstore_client; objectstore_client.Client; objectstore_client.Session",
    ],
)
def test_every_public_name_still_imports(statement):
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)


def test_lazy_names_are_the_real_classes_and_listed_by_dir():
    import objectstore_client
    from objectstore_client import client

    assert objectstore_client.Client is client.Client
    assert objectstore_client.GetResponse is client.GetResponse
    assert {"Client", "GetResponse", "Session"} <= set(dir(objectstore_client))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = objectstore_client.Nope
