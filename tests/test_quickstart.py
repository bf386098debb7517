"""README command 1: `python examples/quickstart.py`."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart.py"


def test_quickstart_runs_against_an_embedded_server():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBJECTSTORE_")}
    result = subprocess.run(
        [sys.executable, str(QUICKSTART)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("started a local server at http://127.0.0.1:")
    assert lines[2] == "downloaded b'Hello, world!'"
    assert lines[3].startswith("inspected  text/plain, expires ")
    assert lines[4].endswith(" (gone)")


def test_quickstart_uses_objectstore_url(objectstore_url, monkeypatch, capsys):
    monkeypatch.setenv("OBJECTSTORE_URL", objectstore_url)
    monkeypatch.delenv("OBJECTSTORE_TOKEN", raising=False)
    runpy.run_path(str(QUICKSTART), run_name="__main__")
    output = capsys.readouterr().out
    assert "started a local server" not in output
    assert "downloaded b'Hello, world!'" in output
