"""Objectstore HTTP protocol conformance suite (spec: docs/protocol.md)."""

from __future__ import annotations
