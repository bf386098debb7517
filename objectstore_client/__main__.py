"""`python -m objectstore_client`: the `objectstore` command line (`objectstore_client.cli`)."""

from __future__ import annotations

import sys

from objectstore_client.cli import main

if __name__ == "__main__":
    sys.exit(main())
