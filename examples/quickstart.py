"""Upload, read, inspect and delete one object.

    python examples/quickstart.py

Talks to the server at `OBJECTSTORE_URL` if that is set (with the pre-signed token in
`OBJECTSTORE_TOKEN`, if the server enforces auth); otherwise it starts the local server
of `objectstore_client.testing` in-process, so it runs with nothing else installed.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta

from objectstore_client import Client, TimeToLive, Usecase
from objectstore_client.testing import LocalServer


def main() -> None:
    url = os.environ.get("OBJECTSTORE_URL")
    with contextlib.ExitStack() as stack:
        if not url:
            url = stack.enter_context(LocalServer(storage="memory")).url
            print(f"started a local server at {url}")
        client = stack.enter_context(Client(url, token=os.environ.get("OBJECTSTORE_TOKEN") or None))
        usecase = Usecase("quickstart", expiration_policy=TimeToLive(timedelta(hours=1)))
        session = client.session(usecase, org=42, project=1337)

        key = session.put(b"Hello, world!", content_type="text/plain", origin="quickstart")
        print(f"uploaded   {key}")

        with session.get(key) as result:
            print(f"downloaded {result.payload.read()!r}")

        metadata = session.head(key)
        print(f"inspected  {metadata.content_type}, expires {metadata.time_expires:%Y-%m-%d %H:%M}")

        session.delete(key)
        gone = session.get_or_none(key) is None
        print(f"deleted    {key} ({'gone' if gone else 'still readable'})")


if __name__ == "__main__":
    main()
