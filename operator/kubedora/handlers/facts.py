"""What the scoreboard needs of each Failure and Deployment, kept in memory
(informer-fed indexes, handlers/runtime.py), so a recompute lists nothing
from the API server.

Facts are derived from spec and status the same way the Failure handler
derives its status, so a recompute never waits for a status write."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kubedora.handlers.packed import pack, unpack
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
        services=tuple(sys.intern(service) for service in where.services),
        team=_shared(where.team),
        env=_shared(where.env),
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
        service=sys.intern(spec.service),
        team=_shared(spec.team or status.team),
        env=_shared(spec.env),
        finished_at=spec.finished_at,
        name=(body.get("metadata") or {}).get("name") or "",
        version=spec.version,
        commit=git.commit_sha.lower() if git and git.commit_sha else None,
        repository=_shared(git.repository_url) if git else None,
        custom_tags=tuple(spec.custom_tags),
        outcome_failed=spec.outcome == DeploymentOutcome.FAILED,
        marked=spec.change_failure,
        marked_by_api=annotations.get(MARKED_BY_ANNOTATION) == "api",
        remediated_by=spec.remediated_by,
        source=spec.source,
        outcome=spec.outcome,
    )


def _shared(value: str | None) -> str | None:
    """One copy of a value many objects repeat (a team, an env), not one
    per object: with 100,000 objects, copies add up."""
    return None if value is None else sys.intern(value)


def _namespace_of(body: Mapping[str, Any]) -> str | None:
    namespace = (body.get("metadata") or {}).get("namespace")
    return _shared(namespace) if isinstance(namespace, str) else None


def failure_by_namespace(body: Mapping[str, Any]) -> dict[str, FailureFact] | None:
    namespace, fact = _namespace_of(body), failure_fact(body)
    return None if namespace is None or fact is None else {namespace: fact}


def deployment_in_namespace(
    body: Mapping[str, Any], fact: DeploymentFact
) -> dict[str, DeploymentFact] | None:
    """A deployment's fact under its namespace (for the scoreboard)."""
    namespace = _namespace_of(body)
    return None if namespace is None else {namespace: fact}


Group = tuple[str, str, str | None]
# What the history worker writes into a Deployment's status.
HISTORY_FIELDS = ("commits", "leadTime", "changeFailure", "rollback")
LEAD_TIME_CONDITION = "LeadTimeUnavailable"


@dataclass(frozen=True, slots=True)
class Member:
    """A deployment of one service and env, with what its status records now
    of history and its conditions (a merge patch replaces the whole list, so
    writing one condition takes all of them).

    Both are held compactly, for every Deployment: the record as a digest,
    only ever compared within this process, and the conditions packed,
    unpacked only for a write."""

    fact: DeploymentFact
    recorded: int
    packed_conditions: bytes

    @property
    def conditions(self) -> list[dict[str, Any]]:
        conditions: list[dict[str, Any]] = unpack(self.packed_conditions)
        return conditions


def recorded_history(status: Mapping[str, Any]) -> int:
    """A digest of the history part of a status, canonical: no nulls,
    conditions by type, status, reason and message only."""
    kept: dict[str, Any] = {key: status.get(key) for key in HISTORY_FIELDS}
    condition = next(
        (c for c in status.get("conditions") or () if c.get("type") == LEAD_TIME_CONDITION), None
    )
    if condition is not None:
        kept["condition"] = {k: condition.get(k) for k in ("status", "reason", "message")}
    return hash(json.dumps(_without_nulls(kept), sort_keys=True))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def deployment_in_group(
    body: Mapping[str, Any], fact: DeploymentFact
) -> dict[Group, Member] | None:
    """A deployment under its namespace, service and env (for its history)."""
    namespace = _namespace_of(body)
    if namespace is None:
        return None
    status = body.get("status") or {}
    return {
        (namespace, fact.service, fact.env): Member(
            fact=fact,
            recorded=recorded_history(status),
            packed_conditions=pack(status.get("conditions") or []),
        )
    }
