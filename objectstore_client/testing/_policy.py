"""Per-usecase expiration restrictions (protocol §9.6): which policies a write may use."""

from __future__ import annotations

from datetime import timedelta

from objectstore_client.testing._config import ServerConfig
from objectstore_client.testing._context import PolicyError
from objectstore_client.testing._duration import Policy, format_dhms, format_duration


def maximum(config: ServerConfig, usecase: str, kind: str) -> timedelta | None:
    """The longest duration the usecase allows for policy `kind`, if limited.

    Today's server has one `expiration.max` for TTL and TTI; the 0.2.0 release had one per
    kind. Each version falls back to the other's setting when its own is unset.
    """
    rules = config.usecases.get(usecase)
    if rules is None or kind == "manual":
        return None
    per_kind = rules.max_ttl if kind == "ttl" else rules.max_tti
    if config.current:
        return rules.max if rules.max is not None else per_kind
    return per_kind if per_kind is not None else rules.max


def check_policy(config: ServerConfig, usecase: str, policy: Policy) -> None:
    """Raises `PolicyError` (with the server's message) if the usecase forbids `policy`."""
    rules = config.usecases.get(usecase)
    if rules is None:
        return
    allowed = {"manual": rules.allow_manual, "ttl": rules.allow_ttl, "tti": rules.allow_tti}
    current = config.current
    if not allowed[policy.kind]:
        raise PolicyError(
            f"expiration policy '{policy.render(current=current)}' is not allowed for use case "
            f"'{usecase}'"
        )
    limit = maximum(config, usecase, policy.kind)
    if limit is not None:
        max_nanos = int(limit.total_seconds() * 1_000_000_000)
        if policy.nanos > max_nanos:
            render = format_dhms if current else format_duration
            raise PolicyError(
                f"expiration duration {render(policy.nanos)} exceeds maximum of "
                f"{render(max_nanos)} for use case '{usecase}'"
            )
