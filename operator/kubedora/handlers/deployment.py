"""Keep a Deployment's (kubedora.io) status current: its team is its own, or
the catalog team of its service."""

from __future__ import annotations

from datetime import datetime

import kopf
from pydantic import ValidationError

from kubedora.handlers.status_writes import report_invalid_spec, write_if_changed
from kubedora.matching import CatalogLookup, deployment_team
from kubedora.models import ConditionStatus, DeploymentSpec, DeploymentStatus
from kubedora.models.conditions import set_condition


def next_status(
    spec: DeploymentSpec,
    previous: DeploymentStatus,
    generation: int | None,
    now: datetime,
    *,
    catalog: CatalogLookup,
) -> DeploymentStatus:
    return DeploymentStatus(
        team=deployment_team(spec, catalog),
        conditions=set_condition(
            previous.conditions,
            type="Ready",
            status=ConditionStatus.TRUE,
            reason="Reconciled",
            message="status reflects the current spec",
            observed_generation=generation,
            now=now,
        ),
        observed_generation=generation,
    )


async def reconcile(
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
    try:
        parsed = DeploymentSpec.model_validate(dict(spec))
    except ValidationError as error:
        report_invalid_spec(patch, previous, error, generation, now)
        return
    write_if_changed(
        patch, previous, next_status(parsed, previous, generation, now, catalog=catalog)
    )
