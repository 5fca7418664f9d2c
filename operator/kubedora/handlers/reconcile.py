"""The status Failures and Deployments (kubedora.io) should have, and what to
write to get there. Pure: handlers/statuses.py feeds it bodies and writes
the changes.

A Failure's status: state, timeline, time to restore, and where it counts
(its attribution to catalog services and a team). A Deployment's: its team,
its own or the catalog team of its service."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kubedora.matching import (
    CatalogLookup,
    attribute_failure,
    deployment_team,
    where_failure_counts,
)
from kubedora.metrics import effective_state, format_duration, restore_from
from kubedora.models import (
    Condition,
    DeploymentSpec,
    DeploymentStatus,
    FailureSpec,
    FailureStatus,
    KubeModel,
    not_ready,
    ready,
)

Body = Mapping[str, Any]


def changes(previous: KubeModel, current: KubeModel) -> dict[str, Any]:
    """The top-level status fields that differ, for a merge patch (None
    removes a field). Fields others own (a Deployment's commits and lead
    time) are copied from `previous`, so they never appear here and a write
    from a stale body cannot undo theirs."""
    before, after = previous.to_wire(), current.to_wire()
    return {key: value for key, value in after.items() if before.get(key) != value}


def _invalid(
    previous: FailureStatus | DeploymentStatus,
    error: ValidationError,
    generation: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The CRD refuses most bad input; whatever slips through is reported on
    the object, not retried: retrying cannot fix a spec."""
    invalid = not_ready(
        previous,
        reason="InvalidSpec",
        message=str(error),
        observed_generation=generation,
        now=now,
    )
    return changes(previous, invalid)


@dataclass(frozen=True)
class Transition:
    """A change worth a Kubernetes Event."""

    reason: str
    message: str


# The deployment a failure most likely followed: (services, env, started) -> name.
Link = Callable[[Sequence[str], str | None, datetime], str | None]


def failure_status(
    spec: FailureSpec,
    previous: FailureStatus,
    generation: int | None,
    now: datetime,
    *,
    catalog: CatalogLookup,
    link: Link | None = None,
) -> FailureStatus:
    """The status a Failure should have, from its spec and what we observed before."""
    observed, restore = restore_from(spec, previous.timeline, now)
    attribution = attribute_failure(spec, previous.attribution, catalog)
    where = where_failure_counts(spec, attribution)
    return FailureStatus(
        state=effective_state(spec),
        time_to_restore_seconds=restore.ttr_seconds,
        restored_at=restore.restored_at,
        timeline=observed,
        attribution=attribution,
        linked_deployment=(
            link(where.services, where.env, spec.started_at)
            if link is not None
            else previous.linked_deployment
        ),
        conditions=_reconciled(previous.conditions, generation, now),
        observed_generation=generation,
    )


def _reconciled(
    conditions: Sequence[Condition], generation: int | None, now: datetime
) -> list[Condition]:
    return ready(
        conditions,
        reason="Reconciled",
        message="status reflects the current spec",
        observed_generation=generation,
        now=now,
    )


def transition(previous: FailureStatus, current: FailureStatus) -> Transition | None:
    if previous.state is None:
        return None
    was_restored = previous.time_to_restore_seconds is not None
    is_restored = current.time_to_restore_seconds is not None
    if is_restored and not was_restored:
        return Transition(
            "Restored",
            f"restored ({current.state}); time to restore "
            f"{format_duration(current.time_to_restore_seconds)}",
        )
    if was_restored and not is_restored:
        return Transition("Reopened", f"failure is {current.state} again; time to restore hidden")
    return None


@dataclass(frozen=True)
class Plan:
    """What one object needs: status fields to merge (empty: none), an Event
    to post, and for a Failure its parsed spec (None: it did not parse)."""

    changes: dict[str, Any]
    transition: Transition | None = None
    failure: FailureSpec | None = None


def failure(body: Body, now: datetime, *, catalog: CatalogLookup, link: Link | None = None) -> Plan:
    generation: int | None = body.get("metadata", {}).get("generation")
    previous = FailureStatus.model_validate(body.get("status") or {})
    try:
        parsed = FailureSpec.model_validate(body.get("spec") or {})
    except ValidationError as error:
        return Plan(_invalid(previous, error, generation, now))
    current = failure_status(parsed, previous, generation, now, catalog=catalog, link=link)
    return Plan(changes(previous, current), transition(previous, current), parsed)


def deployment_status(
    spec: DeploymentSpec,
    previous: DeploymentStatus,
    generation: int | None,
    now: datetime,
    *,
    catalog: CatalogLookup,
) -> DeploymentStatus:
    # The history worker (handlers/history.py) owns commits, lead time and
    # change failure: kept as they are, so this write never undoes its own.
    return DeploymentStatus(
        team=deployment_team(spec, catalog),
        commits=previous.commits,
        lead_time=previous.lead_time,
        change_failure=previous.change_failure,
        rollback=previous.rollback,
        conditions=_reconciled(previous.conditions, generation, now),
        observed_generation=generation,
    )


def deployment(body: Body, now: datetime, *, catalog: CatalogLookup) -> Plan:
    generation: int | None = body.get("metadata", {}).get("generation")
    previous = DeploymentStatus.model_validate(body.get("status") or {})
    try:
        parsed = DeploymentSpec.model_validate(body.get("spec") or {})
    except ValidationError as error:
        return Plan(_invalid(previous, error, generation, now))
    return Plan(
        changes(previous, deployment_status(parsed, previous, generation, now, catalog=catalog))
    )
