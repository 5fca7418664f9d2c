"""What kubedora records of the changes a Deployment shipped: the source that
reported it, its outcome, lead time from git and whether it was a change
failure, plus the DoraSource settings that drive both (git hosts, change
failure rules)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from kubedora.models.base import KubeModel, Timestamp

# Go-style durations with days and weeks, as DoraSource windows: 24h, 2d.
DURATION_PATTERN = r"^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"


class ChangeFailureReason(StrEnum):
    ROLLBACK = "rollback"
    ROLLFORWARD = "rollforward"
    API = "api"
    MANUAL = "manual"
    FAILED_ROLLOUT = "failed-rollout"


class LeadTime(KubeModel):
    """From each shipped commit's committer time to the deployment's finish."""

    first_commit_seconds: float
    median_seconds: float


class ChangeFailure(KubeModel):
    """Whether a deployment needed remediation, why, and what remediated it."""

    failed: bool
    reason: ChangeFailureReason | None = None
    # The rollforward rule that matched, the deployment rolled back to, …
    detail: str | None = None
    remediated_by: str | None = None
    remediated_at: Timestamp | None = None
    recovery_seconds: float | None = None


class Rollback(KubeModel):
    """This deployment went back to what an earlier one deployed."""

    of: str


class GitSecretRef(KubeModel):
    """One key of a Secret in the DoraSource's namespace: a token for HTTPS."""

    name: str = Field(min_length=1, max_length=253)
    key: str = Field(default="token", min_length=1, max_length=253)


class GitHost(KubeModel):
    """A host kubedora may fetch repositories from; `host` may carry a port."""

    host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-\[\]:]+$")
    secret_ref: GitSecretRef | None = None
    # The user name sent with the token (HTTP basic auth): GitHub takes
    # x-access-token, GitLab any name, Bitbucket x-token-auth.
    username: str = Field(default="x-access-token", min_length=1, max_length=253)


class GitSettings(KubeModel):
    hosts: list[GitHost] = Field(default_factory=list, max_length=100)


class ChangeFailureDefinition(StrEnum):
    # Failure events ÷ deployments (the original DORA definition).
    FAILURES = "failures"
    # Change failures ÷ (deployments - rollbacks): deployments that needed remediation.
    DEPLOYMENTS = "deployments"


class RollforwardRule(KubeModel):
    """A deployment matching any given pattern (Python regular expressions,
    searched anywhere in the text) remediates the deployment before it."""

    name: str = Field(min_length=1, max_length=253)
    version_pattern: str | None = Field(default=None, max_length=1024)
    tag_pattern: str | None = Field(default=None, max_length=1024)
    message_pattern: str | None = Field(default=None, max_length=1024)


class ChangeFailureSettings(KubeModel):
    definition: ChangeFailureDefinition = ChangeFailureDefinition.FAILURES
    rollforward_rules: list[RollforwardRule] = Field(default_factory=list, max_length=100)
    attribution_window: str = Field(default="24h", pattern=DURATION_PATTERN, min_length=2)
