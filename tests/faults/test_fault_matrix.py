"""Issue 11, Deliver 5: every operation under every fault, through a loopback proxy.

Each case (see `tests/faults/matrix.py`) must end in success with correct data, or in a
typed error whose `stored` flag is true to the server's storage; never wrong data, an
orphan or a hang. `python -m tests.faults.report` writes the same matrix to
docs/fault-matrix.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from objectstore_client import Client, Usecase
from objectstore_client.testing import LocalServer
from tests.faults.matrix import (
    OPERATIONS,
    USECASE,
    Operation,
    Outcome,
    prestore,
    run_case,
    upstream_of,
)
from tests.faults.proxy import FAULTS, Fault, FaultProxy
from tests.test_metrics import Recorder


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    # Cut uploads make the server log a traceback per case; they are the point here.
    logger = logging.getLogger("objectstore_client.testing")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    with LocalServer(extend_expiry=True) as local:
        yield local
    logger.setLevel(level)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.name)
def test_fault(server: LocalServer, operation: Operation, fault: Fault) -> None:
    outcome = run_case(server, operation, fault)
    assert outcome.problems == [], outcome
    if operation.name == "put_key":
        _assert_replays_overcome(fault, outcome)


def _assert_replays_overcome(fault: Fault, outcome: Outcome) -> None:
    # A check of the matrix itself: faults the client can retry past do not fail a
    # replayable put, so the matrix is not green merely because everything errors.
    if fault.name == "refuse" or fault.name.startswith("status_500"):
        assert outcome.error is not None
    else:
        assert outcome.error is None, outcome


# Operations whose faulted request the transport may replay. Not: multipart initiate and
# complete (POSTs), a resumable write (retried by its own loop, from the server's offset)
# and an unseekable stream (cannot be sent twice).
IDEMPOTENT = [
    op
    for op in OPERATIONS
    if op.name not in ("put_unseekable_stream", "multipart_initiate", "multipart_complete")
    and not op.name.startswith("resumable")
]


@pytest.mark.parametrize("operation", IDEMPOTENT, ids=lambda operation: operation.name)
def test_two_503s_then_success(server: LocalServer, operation: Operation) -> None:
    """Against a server answering 503 twice, every idempotent operation succeeds.

    The attempts show in the metrics: three requests, two retries because of a 503.
    """
    scope = {"org": "2", "case": operation.name}
    key = f"twice-{operation.name}"
    if operation.prestored:
        prestore(server, scope, key)
    fault = Fault(
        "503_twice",
        "status",
        "503, 503, then through",
        status=503,
        times=2,
        skip=operation.fault_at,
    )
    metrics = Recorder()
    with (
        FaultProxy(upstream_of(server), fault) as proxy,
        Client(proxy.url, metrics_backend=metrics, retries=2, timeout_ms=2000) as client,
    ):
        operation.run(client.session(Usecase(USECASE), **scope), key)
        assert proxy.requests == 3 + (3 if operation.name == "multipart_part" else 0)
    op = operation.metric
    attempts = metrics.named(f"storage.{op}.attempts")
    # The faulted request took three attempts; any later one (the second part) one.
    seen = [(value, tags["outcome"]) for _, value, tags, _ in attempts]
    assert seen == [(3, "success")] + [(1, "success")] * (len(seen) - 1)
    retries = metrics.named(f"storage.{op}.retries")
    assert [tags["reason"] for _, _, tags, _ in retries] == ["status_503", "status_503"]
