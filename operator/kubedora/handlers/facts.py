"""What the scoreboard needs of each Failure and Deployment, kept in memory
(informer-fed indexes, handlers/runtime.py), so a recompute lists nothing
from the API server.

Facts are derived from spec and status the same way the Failure handler
derives its status, so a recompute never waits for a status write."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kubedora.k8s.objects import MARKED_BY_ANNOTATION
from kubedora.matching import where_failure_counts
from kubedora.metrics import DeploymentFact, FailureFact, restore_from
from kubedora.models import (
    DeploymentOutcome,
    DeploymentSpec,
    DeploymentStatus,
    FailureSpec,
    FailureStatus,
)


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
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    git = spec.git
    return DeploymentFact(
        service=spec.service,
        team=spec.team or status.team,
        env=spec.env,
        finished_at=spec.finished_at,
        name=(body.get("metadata") or {}).get("name") or "",
        version=spec.version,
        commit=git.commit_sha.lower() if git and git.commit_sha else None,
        repository=git.repository_url if git else None,
        custom_tags=tuple(spec.custom_tags),
        outcome_failed=spec.outcome == DeploymentOutcome.FAILED,
        marked=spec.change_failure,
        marked_by_api=annotations.get(MARKED_BY_ANNOTATION) == "api",
        remediated_by=spec.remediated_by,
        source=spec.source,
        outcome=spec.outcome,
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


Group = tuple[str, str, str | None]
# What the history worker writes into a Deployment's status.
HISTORY_FIELDS = ("commits", "leadTime", "changeFailure", "rollback")
LEAD_TIME_CONDITION = "LeadTimeUnavailable"


@dataclass(frozen=True, slots=True)
class Member:
    """A deployment of one service and env, with what its status records now
    of history (canonical JSON, to compare with what it should record)."""

    fact: DeploymentFact
    recorded: str
    conditions: tuple[Mapping[str, Any], ...]


def recorded_history(status: Mapping[str, Any]) -> str:
    """The history part of a status, canonical: no nulls, conditions by
    type, status, reason and message only."""
    kept: dict[str, Any] = {key: status.get(key) for key in HISTORY_FIELDS}
    condition = next(
        (c for c in status.get("conditions") or () if c.get("type") == LEAD_TIME_CONDITION), None
    )
    if condition is not None:
        kept["condition"] = {k: condition.get(k) for k in ("status", "reason", "message")}
    return json.dumps(_without_nulls(kept), sort_keys=True)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def deployment_by_group(body: Mapping[str, Any]) -> dict[Group, Member] | None:
    namespace, fact = _namespace_of(body), deployment_fact(body)
    if namespace is None or fact is None:
        return None
    status = body.get("status") or {}
    return {
        (namespace, fact.service, fact.env): Member(
            fact=fact,
            recorded=recorded_history(status),
            conditions=tuple(status.get("conditions") or ()),
        )
    }
