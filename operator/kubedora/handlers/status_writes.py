"""How the Failure and Deployment handlers write their status."""

from __future__ import annotations

from datetime import datetime

import kopf
from pydantic import ValidationError

from kubedora.models import DeploymentStatus, FailureStatus, KubeModel
from kubedora.models.conditions import not_ready


def write_if_changed(patch: kopf.Patch, previous: KubeModel, current: KubeModel) -> None:
    """On resume every object comes through again; write only what changed."""
    wire = current.to_wire()
    if wire != previous.to_wire():
        patch.status.update(wire)


def report_invalid_spec(
    patch: kopf.Patch,
    previous: FailureStatus | DeploymentStatus,
    error: ValidationError,
    generation: int | None,
    now: datetime,
) -> None:
    """The CRD refuses most bad input; whatever slips through is reported on
    the object, not retried: retrying cannot fix a spec."""
    invalid = not_ready(
        previous, reason="InvalidSpec", message=str(error), observed_generation=generation, now=now
    )
    patch.status.update(invalid.to_wire())
