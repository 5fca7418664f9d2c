"""What the scoreboard needs of each Failure and Deployment, kept in memory
(informer-fed indexes, handlers/runtime.py), so a recompute lists nothing
from the API server.

Facts are derived from spec and status the same way the Failure handler
derives its status, so a recompute never waits for a status write."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kubedora.matching import SPEC
from kubedora.metrics.dora import DeploymentFact, FailureFact
from kubedora.metrics.restore import observe, restore_of, timeline_of
from kubedora.models import DeploymentSpec, DeploymentStatus, FailureSpec, FailureStatus


def failure_fact(body: Mapping[str, Any]) -> FailureFact | None:
    try:
        spec = FailureSpec.model_validate(body.get("spec", {}))
        status = FailureStatus.model_validate(body.get("status") or {})
    except ValidationError:
        # Reported on the object by its handler; it cannot be counted.
        return None
    # Until the handler has written its observed timeline, observe it here
    # too; once written, observe() returns it unchanged.
    observed = [] if spec.timeline else observe(status.timeline, spec, datetime.now(UTC))
    restore = restore_of(timeline_of(spec, observed))
    attribution = status.attribution
    if attribution is not None and attribution.matched_by != SPEC:
        # Matched to the catalog: count it where its status says.
        services, team, env = attribution.services, attribution.team, attribution.env
    else:
        # The spec's own values; a team the catalog filled in counts as
        # deployments' do, until the spec names one itself.
        catalog_team = attribution.team if attribution is not None else None
        services, team, env = spec.services, spec.team or catalog_team, spec.env
    return FailureFact(
        source=spec.source,
        services=tuple(services),
        team=team,
        env=env,
        started_at=spec.started_at,
        restored_at=restore.restored_at,
        ttr_seconds=restore.ttr_seconds,
    )


def deployment_fact(body: Mapping[str, Any]) -> DeploymentFact | None:
    try:
        spec = DeploymentSpec.model_validate(body.get("spec", {}))
        status = DeploymentStatus.model_validate(body.get("status") or {})
    except ValidationError:
        return None
    return DeploymentFact(
        service=spec.service,
        team=spec.team or status.team,
        env=spec.env,
        finished_at=spec.finished_at,
    )


def _namespace_of(body: Mapping[str, Any]) -> str | None:
    namespace: str | None = (body.get("metadata") or {}).get("namespace")
    return namespace


def failure_by_namespace(body: Mapping[str, Any]) -> dict[str, FailureFact] | None:
    namespace, fact = _namespace_of(body), failure_fact(body)
    return None if namespace is None or fact is None else {namespace: fact}


def deployment_by_namespace(body: Mapping[str, Any]) -> dict[str, DeploymentFact] | None:
    namespace, fact = _namespace_of(body), deployment_fact(body)
    return None if namespace is None or fact is None else {namespace: fact}
