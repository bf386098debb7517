"""Defects found reviewing `Session.many` / `iter_many` (real HTTP on loopback)."""

from __future__ import annotations

import io

from objectstore_client.batch import Put
from objectstore_client.progress import Progress


def test_progress_never_reports_more_bytes_done_than_total(session):
    reports: list[Progress] = []
    results = session.many(
        [Put(b"a" * 10, key="p/small"), Put(io.BytesIO(b"x" * 1000), key="p/stream")],
        progress=reports.append,
    )
    results.error_for_failures()
    print([(r.bytes_done, r.bytes_total) for r in reports])
    for report in reports:
        assert report.bytes_total is None or report.bytes_done <= report.bytes_total
