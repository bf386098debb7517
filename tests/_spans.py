"""Root spans and recorded spans for tests, with whichever span API sentry-sdk has.

sentry-sdk 2.x records spans in transactions (`start_transaction`, sent as "transaction"
envelope items); 3.x removed them and streams spans ("span" items). tests/test_tracing.py
covers both modes in depth; these helpers let other tests use the one available.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import sentry_sdk


@dataclass(frozen=True)
class Recorded:
    """A finished child span, the same whichever API recorded it."""

    op: str
    name: str
    origin: str
    failed: bool
    data: dict[str, Any] = field(repr=False)


def root_span(name: str) -> AbstractContextManager[Any]:
    """A transaction (2.x) or a streamed segment span (3.x) to nest operations in."""
    # Untyped: the type checker sees one sentry-sdk version, the tests run against both.
    sdk: Any = sentry_sdk
    if hasattr(sdk, "start_transaction"):
        transaction: AbstractContextManager[Any] = sdk.start_transaction(name=name)
        return transaction
    traces: Any = importlib.import_module("sentry_sdk.traces")
    segment: AbstractContextManager[Any] = traces.start_span(name=name)
    return segment


def recorded(items: list[Any]) -> list[Recorded]:
    """The child spans in captured envelope items, in either format, in start order."""
    spans = []
    for item in items:
        if item.type == "transaction":
            spans += [
                Recorded(
                    op=span["op"],
                    name=span["description"],
                    origin=span["origin"],
                    # Older 2.x versions send the status as a tag.
                    failed="internal_error"
                    in (span.get("status"), span.get("tags", {}).get("status")),
                    data=span.get("data", {}),
                )
                for span in item.payload.json["spans"]
            ]
        elif item.type == "span":
            streamed = [span for span in item.payload.json["items"] if not span["is_segment"]]
            for span in sorted(streamed, key=lambda span: span["start_timestamp"]):
                data = {name: value["value"] for name, value in span["attributes"].items()}
                spans.append(
                    Recorded(
                        op=data["sentry.op"],
                        name=span["name"],
                        origin=data["sentry.origin"],
                        failed=span["status"] == "error",
                        data=data,
                    )
                )
    return spans
