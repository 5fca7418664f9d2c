"""Keep a Deployment's (kubedora.io) status current."""

from __future__ import annotations

from datetime import datetime

import kopf
from pydantic import ValidationError

from kubedora.models import ConditionStatus, DeploymentSpec, DeploymentStatus
from kubedora.models.conditions import set_condition


def next_status(
    spec: DeploymentSpec, previous: DeploymentStatus, generation: int | None, now: datetime
) -> DeploymentStatus:
    return DeploymentStatus(
        team=spec.team,
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
    *, spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, patch: kopf.Patch, now: datetime
) -> None:
    generation: int | None = meta.get("generation")
    previous = DeploymentStatus.model_validate(dict(status))
    try:
        parsed = DeploymentSpec.model_validate(dict(spec))
    except ValidationError as error:
        conditions = set_condition(
            previous.conditions,
            type="Ready",
            status=ConditionStatus.FALSE,
            reason="InvalidSpec",
            message=str(error),
            observed_generation=generation,
            now=now,
        )
        patch.status.update(
            previous.model_copy(
                update={"conditions": conditions, "observed_generation": generation}
            ).to_wire()
        )
        return
    wire = next_status(parsed, previous, generation, now).to_wire()
    # On resume every object comes through again; write only what changed.
    if wire != previous.to_wire():
        patch.status.update(wire)
