"""What the dashboard page lists besides the scoreboards: each namespace's
open failures (kept by the same informers that feed the facts) and its
newest deployments (read from the scoreboard's facts), so a page view lists
nothing from the API server but the DoraSources."""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kubedora.matching import where_failure_counts
from kubedora.metrics import DeploymentFact, restore_from
from kubedora.models import FailureSpec, FailureStatus
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


def newest_failures(failures: Collection[OpenFailure]) -> list[OpenFailure]:
    return heapq.nlargest(PAGE_ROWS, failures, key=lambda f: (f.started_at, f.name))


def newest_deployments(deployments: Collection[DeploymentFact]) -> list[RecentDeployment]:
    newest = heapq.nlargest(PAGE_ROWS, deployments, key=lambda d: (d.finished_at, d.name))
    return [RecentDeployment(d.name, d.service, d.env, d.version, d.finished_at) for d in newest]
