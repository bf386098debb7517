"""Reading the server's error bodies for messages (protocol §4.1: `{"detail", "causes"}`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import urllib3

MAX_DETAIL_CHARS = 300
"""Error bodies are echoed into messages; a huge HTML page from a proxy must not be."""


def json_detail(body: str) -> str | None:
    """The `detail` string of a JSON error body, or `None` if the body has none."""
    if not body.startswith("{"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    detail = parsed.get("detail") if isinstance(parsed, dict) else None
    return detail if isinstance(detail, str) else None


def body_text(response: urllib3.BaseHTTPResponse) -> str:
    """The rest of an error response's body as text; "" if it cannot be read."""
    # Imported here: `import objectstore_client` does without urllib3 (a response exists,
    # so this only looks it up).
    import urllib3

    try:
        return (response.data or b"").decode("utf-8", "replace")
    except (urllib3.exceptions.HTTPError, OSError):
        # The body is a courtesy; the status alone is the error.
        return ""
