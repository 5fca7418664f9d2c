"""What the dashboard page lists besides the scoreboards: each namespace's
open failures and its deployments, kept small and in memory by the same
informers that feed the facts, so a page view lists nothing from the API
server but the DoraSources."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kubedora.matching import where_failure_counts
from kubedora.metrics import restore_from
from kubedora.models import DeploymentSpec, FailureSpec, FailureStatus
from kubedora.web.page import OpenFailure, RecentDeployment

# Rows of each list on the page.
PAGE_ROWS = 10


def _placed(body: Mapping[str, Any]) -> tuple[str, str] | None:
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace"), meta.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return None
    return namespace, name


def open_failure_by_namespace(body: Mapping[str, Any]) -> dict[str, OpenFailure] | None:
    """A failure not restored, under its namespace; restored ones are not kept."""
    placed = _placed(body)
    if placed is None:
        return None
    try:
        spec = FailureSpec.model_validate(body.get("spec", {}))
        status = FailureStatus.model_validate(body.get("status") or {})
    except ValidationError:
        return None
    _, restore = restore_from(spec, status.timeline, datetime.now(UTC))
    if restore.restored_at is not None:
        return None
    where = where_failure_counts(spec, status.attribution)
    namespace, name = placed
    return {
        namespace: OpenFailure(
            name=name,
            services=where.services,
            team=where.team,
            env=where.env,
            severity=spec.severity,
            started_at=spec.started_at,
        )
    }


def deployment_by_namespace(body: Mapping[str, Any]) -> dict[str, RecentDeployment] | None:
    placed = _placed(body)
    if placed is None:
        return None
    try:
        spec = DeploymentSpec.model_validate(body.get("spec", {}))
    except ValidationError:
        return None
    namespace, name = placed
    return {
        namespace: RecentDeployment(
            name=name,
            service=spec.service,
            env=spec.env,
            version=spec.version,
            finished_at=spec.finished_at,
        )
    }


def newest_failures(failures: Collection[OpenFailure]) -> list[OpenFailure]:
    return heapq.nlargest(PAGE_ROWS, failures, key=lambda f: (f.started_at, f.name))


def newest_deployments(deployments: Collection[RecentDeployment]) -> list[RecentDeployment]:
    return heapq.nlargest(PAGE_ROWS, deployments, key=lambda d: (d.finished_at, d.name))
