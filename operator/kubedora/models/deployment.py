"""The Deployment kind (kubedora.io): one deployment of one service."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from kubedora.models.base import CONDITIONS_LIST, Condition, GitInfo, KubeModel, Tag, Timestamp
from kubedora.models.changes import (
    ChangeFailure,
    LeadTime,
    Rollback,
)

# Datadog's rule for deployment ids.
DEPLOYMENT_ID_PATTERN = r"^[A-Za-z0-9\-_.:]{16,128}$"


class DeploymentSource(StrEnum):
    """Who saw the deployment happen."""

    # kubectl and the Datadog-compatible API.
    API = "api"
    # A rollout of an annotated apps/v1 workload, seen by the operator.
    KUBERNETES = "kubernetes"
    FLUX = "flux"
    ARGOCD = "argocd"


class DeploymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeploymentSpec(KubeModel):
    """One finished deployment of one service."""

    # Checked by the API server (CEL) so that `kubectl apply` explains a rejected object.
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.finishedAt >= self.startedAt",
                    "message": "spec.finishedAt must not be before spec.startedAt",
                    "fieldPath": ".finishedAt",
                },
            ]
        }
    )

    service: str = Field(min_length=1, description="The deployed service, as named in the catalog.")
    started_at: Timestamp = Field(description="When the deployment began (RFC 3339).")
    finished_at: Timestamp = Field(description="When the deployment finished (RFC 3339).")
    env: str | None = None
    team: str | None = None
    version: str | None = None
    id: str | None = Field(default=None, max_length=128, pattern=DEPLOYMENT_ID_PATTERN)
    git: GitInfo | None = None
    custom_tags: list[Tag] = Field(default_factory=list, max_length=100)
    source: DeploymentSource = Field(
        default=DeploymentSource.API, description="Who reported the deployment."
    )
    outcome: DeploymentOutcome = Field(
        default=DeploymentOutcome.SUCCEEDED,
        description="failed: the rollout or reconciliation did not complete.",
    )
    outcome_reason: str | None = Field(
        default=None,
        max_length=1024,
        description="Why it failed, e.g. ProgressDeadlineExceeded or ReconciliationFailed.",
    )
    change_failure: bool | None = Field(
        default=None,
        description="Marked by hand: true, a change failure; false, not one whatever "
        "the rules detect.",
    )
    remediated_by: str | None = Field(
        default=None,
        max_length=253,
        description="The Deployment (by name) that remediated this change failure.",
    )


class DeploymentStatus(KubeModel):
    team: str | None = None
    # Lead time from git: the commits shipped since the previous deployment.
    commits: int | None = None
    lead_time: LeadTime | None = None
    change_failure: ChangeFailure | None = None
    rollback: Rollback | None = None
    conditions: list[Condition] = Field(default_factory=list, json_schema_extra=CONDITIONS_LIST)
    observed_generation: int | None = None
