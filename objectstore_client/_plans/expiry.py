"""Plan of `extend_expiry`: the PATCH that moves an object's deadline later (protocol §22)."""

from __future__ import annotations

from objectstore_client import _protocol, _validation
from objectstore_client._plans.request import BodyPlan, RequestPlan

__all__ = ["plan_extend_expiry"]


def plan_extend_expiry(
    key: object, at: object, from_creation: object, from_now: object
) -> RequestPlan:
    """Validates the arguments of `Session.extend_expiry` and plans its request.

    The request is idempotent: `at` and `from_creation` name the same deadline every time,
    and a replayed `from_now` counts from the replay, which is what it asks for. The answer
    (204) carries nothing to read; its errors map by status (`errors.error_class_for_status`).

    Raises:
        InvalidArgument: Not exactly one target, a naive `at`, a negative duration, or a
            bad key.
        InvalidArgumentType: A target has the wrong type.
    """
    checked_key = _validation.check_key(key)
    target = _validation.check_expiry_target(at, from_creation, from_now)
    return RequestPlan(
        "extend_expiry",
        "PATCH",
        checked_key,
        {"Content-Type": "application/json"},
        BodyPlan(_protocol.extend_expiry_body(target), "none"),
        idempotent=True,
    )
