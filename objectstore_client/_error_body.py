"""Reading the server's error bodies for messages (protocol §4.1: `{"detail", "causes"}`)."""

from __future__ import annotations

import json

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
