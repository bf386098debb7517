"""Objectstore HTTP protocol conformance suite (spec: shared/objectstore-http-api.md)."""

from __future__ import annotations
