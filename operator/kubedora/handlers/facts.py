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

from kubedora.matching import where_failure_counts
from kubedora.metrics import DeploymentFact, FailureFact, restore_from
from kubedora.models import DeploymentSpec, DeploymentStatus, FailureSpec, FailureStatus


def failure_fact(body: Mapping[str, Any]) -> FailureFact | None:
    try:
        spec = FailureSpec.model_validate(body.get("spec", {}))
        status = FailureStatus.model_validate(body.get("status") or {})
    except ValidationError:
        # Reported on the object by its handler; it cannot be counted.
        return None
    # Until the handler has written its observed timeline, observe it here
    # too; once written, it comes back unchanged.
    _, restore = restore_from(spec, status.timeline, datetime.now(UTC))
    where = where_failure_counts(spec, status.attribution)
    return FailureFact(
        source=spec.source,
        services=where.services,
        team=where.team,
        env=where.env,
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
        source=spec.source,
        commit_sha=spec.git.commit_sha if spec.git else None,
        version=spec.version,
        outcome=spec.outcome,
        name=str((body.get("metadata") or {}).get("name") or ""),
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
