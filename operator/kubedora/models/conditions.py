"""Keep a conditions list the way kubebuilder controllers do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, Self, TypeVar

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


READY = "Ready"


def ready(
    conditions: Sequence[Condition],
    *,
    reason: str,
    message: str,
    observed_generation: int | None,
    now: datetime,
) -> list[Condition]:
    """The conditions with Ready=True for this reason: the status is current."""
    return set_condition(
        conditions,
        type=READY,
        status=ConditionStatus.TRUE,
        reason=reason,
        message=message,
        observed_generation=observed_generation,
        now=now,
    )


S = TypeVar("S", bound="Conditioned")


class Conditioned(Protocol):
    """A status with kubebuilder conditions (our three kinds' statuses)."""

    conditions: list[Condition]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's copy with updates."""


def not_ready(
    previous: S, *, reason: str, message: str, observed_generation: int | None, now: datetime
) -> S:
    """The previous status, but Ready=False for this reason: the last good
    figures stay for readers, and the condition says why they are not current."""
    return previous.model_copy(
        update={
            "conditions": set_condition(
                previous.conditions,
                type=READY,
                status=ConditionStatus.FALSE,
                reason=reason,
                message=message,
                observed_generation=observed_generation,
                now=now,
            ),
            "observed_generation": observed_generation,
        }
    )
