"""The DoraSource kind: DORA settings and the scoreboard of one scope."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from kubedora.models.base import (
    CONDITIONS_LIST,
    SET_LIST,
    Condition,
    KubeModel,
    SecretRef,
    Timestamp,
)
from kubedora.models.changes import ChangeFailureSettings, GitSettings
from kubedora.models.failure import FailureSource

# Go-style durations with days and weeks: 30d, 12h, 1d12h, 90m.
WINDOW_PATTERN = r"^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"


class Scope(KubeModel):
    """Which failures and deployments count. Empty lists mean "all"."""

    services: list[str] = Field(default_factory=list, json_schema_extra=SET_LIST)
    teams: list[str] = Field(default_factory=list, json_schema_extra=SET_LIST)
    envs: list[str] = Field(default_factory=list, json_schema_extra=SET_LIST)


class PagerDutySettings(KubeModel):
    signing_secret_ref: SecretRef | None = None
    default_env: str | None = None
    api_token_secret_ref: SecretRef | None = None


class DoraSourceSpec(KubeModel):
    """The DORA settings of one scope: which failures count, over which window."""

    failure_sources: list[FailureSource] = Field(
        default_factory=lambda: [
            FailureSource.API,
            FailureSource.INCIDENT,
            FailureSource.PAGERDUTY,
        ],
        description="The kinds of failure that count towards the metrics.",
        json_schema_extra=SET_LIST,
    )
    window: str = Field(
        default="30d",
        pattern=WINDOW_PATTERN,
        min_length=2,
        description="How far back the metrics look, e.g. 30d, 2w, 12h.",
    )
    scope: Scope | None = None
    api_key_secret_ref: SecretRef | None = None
    pagerduty: PagerDutySettings | None = None
    git: GitSettings | None = None
    change_failure: ChangeFailureSettings | None = None


class Figures(KubeModel):
    deployments: int = 0
    failures: int = 0
    restored_failures: int = 0
    change_failure_rate: float | None = None
    median_time_to_restore_seconds: float | None = None
    # Lead time and deployment-side change failures (changeFailureRate above
    # follows spec.changeFailure.definition; both families are always here).
    median_lead_time_seconds: float | None = None
    failure_event_rate: float | None = None
    deployment_change_failure_rate: float | None = None
    change_failures: int = 0
    rollbacks: int = 0
    median_failed_deployment_recovery_seconds: float | None = None


class Dimension(StrEnum):
    SERVICE = "service"
    TEAM = "team"
    ENV = "env"


class BreakdownRow(Figures):
    dimension: Dimension
    key: str


class Display(KubeModel):
    """Human-readable figures for `kubectl get` printer columns."""

    change_failure_rate: str = "-"
    median_time_to_restore: str = "-"
    median_lead_time: str = "-"


class DoraSourceStatus(KubeModel):
    window_start: Timestamp | None = None
    window_end: Timestamp | None = None
    summary: Figures | None = None
    breakdown: list[BreakdownRow] = Field(default_factory=list)
    display: Display | None = None
    conditions: list[Condition] = Field(default_factory=list, json_schema_extra=CONDITIONS_LIST)
    observed_generation: int | None = None
