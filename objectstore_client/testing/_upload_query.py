"""Today's query dispatch on the object routes (protocol §23.1): resumable or ordinary.

On a current server, `POST` on the collection route and `PUT`/`DELETE` on the object route
look at two query parameters before anything else, auth included: `session` selects an
existing resumable session, `upload_type=resumable` alone creates one. Every other parameter
is ignored. The 0.2.0 release ignores query strings on these routes altogether.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl

from objectstore_client.testing._responses import HTTPFailure, json_detail

UploadOp = Literal["create", "continue"]

_PARAMS = ("upload_type", "session")


def classify(query: str | None) -> UploadOp | None:
    """Which resumable operation the query asks for, `None` for an ordinary request.

    Raises:
        HTTPFailure: 400 `client error: invalid query parameters` for an `upload_type` other
            than `resumable` or a repeated `upload_type`/`session`.
    """
    if not query:
        return None
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _PARAMS:
            continue
        if name in values:
            raise _invalid(f"duplicate field `{name}`")
        values[name] = value
    if "upload_type" in values and values["upload_type"] != "resumable":
        raise _invalid(f"unknown variant `{values['upload_type']}`, expected `resumable`")
    if "session" in values:
        return "continue"
    return "create" if "upload_type" in values else None


def _invalid(cause: str) -> HTTPFailure:
    return HTTPFailure(json_detail(400, "client error: invalid query parameters", cause))
