"""Keep the status of Failures and Deployments (kubedora.io) current.

A Failure's status: state, timeline, time to restore, and where it counts
(its attribution to catalog services and a team). A Deployment's: its team,
its own or the catalog team of its service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import kopf
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

_Spec = TypeVar("_Spec", FailureSpec, DeploymentSpec)


def write_if_changed(patch: kopf.Patch, previous: KubeModel, current: KubeModel) -> None:
    """On resume every object comes through again; write only what changed."""
    wire = current.to_wire()
    if wire != previous.to_wire():
        patch.status.update(wire)


def _spec_or_report(
    model: type[_Spec],
    spec: kopf.Spec,
    patch: kopf.Patch,
    previous: FailureStatus | DeploymentStatus,
    generation: int | None,
    now: datetime,
) -> _Spec | None:
    """The parsed spec. The CRD refuses most bad input; whatever slips
    through is reported on the object (None), not retried: retrying cannot
    fix a spec."""
    try:
        return model.model_validate(dict(spec))
    except ValidationError as error:
        invalid = not_ready(
            previous,
            reason="InvalidSpec",
            message=str(error),
            observed_generation=generation,
            now=now,
        )
        patch.status.update(invalid.to_wire())
        return None


def parsed_or_none(model: type[_Spec], spec: kopf.Spec) -> _Spec | None:
    """The parsed spec, or None when it does not parse (reported elsewhere)."""
    try:
        return model.model_validate(dict(spec))
    except ValidationError:
        return None


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


async def failure(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    now: datetime,
    catalog: CatalogLookup,
    link: Link | None = None,
) -> None:
    generation: int | None = meta.get("generation")
    previous = FailureStatus.model_validate(dict(status))
    parsed = _spec_or_report(FailureSpec, spec, patch, previous, generation, now)
    if parsed is None:
        return
    current = failure_status(parsed, previous, generation, now, catalog=catalog, link=link)
    write_if_changed(patch, previous, current)
    change = transition(previous, current)
    if change is not None:
        kopf.event(body, type="Normal", reason=change.reason, message=change.message)


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


async def deployment(
    *,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    now: datetime,
    catalog: CatalogLookup,
) -> None:
    generation: int | None = meta.get("generation")
    previous = DeploymentStatus.model_validate(dict(status))
    parsed = _spec_or_report(DeploymentSpec, spec, patch, previous, generation, now)
    if parsed is None:
        return
    write_if_changed(
        patch, previous, deployment_status(parsed, previous, generation, now, catalog=catalog)
    )
