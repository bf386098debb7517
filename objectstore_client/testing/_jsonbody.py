"""JSON request bodies read as axum's `Json` extractor does (protocol §4.2)."""

from __future__ import annotations

import json

from objectstore_client.testing._http import Request
from objectstore_client.testing._responses import HTTPFailure, text_error

MAX_JSON_BYTES = 2 * 1024 * 1024


def read_json_body(request: Request, limit: int = MAX_JSON_BYTES) -> object:
    """The parsed body; raises the 415 (content type), 413 (size) or 400 (syntax) failure."""
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    essence_ok = content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )
    if not essence_ok:
        raise HTTPFailure(text_error(415, "Expected request with `Content-Type: application/json`"))
    body = request.body
    data = body.read(limit + 1)
    while len(data) <= limit and (more := body.read(limit + 1 - len(data))):
        data += more
    if len(data) > limit:
        raise HTTPFailure(
            text_error(413, "Failed to buffer the request body: length limit exceeded")
        )
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPFailure(
            text_error(400, f"Failed to parse the request body as JSON: {exc}")
        ) from None
