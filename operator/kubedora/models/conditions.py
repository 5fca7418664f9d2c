"""Keep a conditions list the way kubebuilder controllers do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kubedora.models.base import Condition, ConditionStatus


def set_condition(
    conditions: Sequence[Condition],
    *,
    type: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    observed_generation: int | None,
    now: datetime,
) -> list[Condition]:
    """Replace the condition of that type. lastTransitionTime moves only when
    the status changes, so watchers can tell a flap from a refresh."""
    previous = next((c for c in conditions if c.type == type), None)
    transition = previous.last_transition_time if previous and previous.status == status else now
    updated = Condition(
        type=type,
        status=status,
        reason=reason,
        message=message,
        observed_generation=observed_generation,
        last_transition_time=transition,
    )
    return (
        [updated if c.type == type else c for c in conditions]
        if previous
        else [
            *conditions,
            updated,
        ]
    )
