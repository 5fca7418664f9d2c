"""The DoraSource kind: DORA settings and the scoreboard of one scope."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from kubedora.models.backfill import DEFAULT_API_URL, BackfillSettings, BackfillStatus
from kubedora.models.base import (
    CONDITIONS_LIST,
    SET_LIST,
    Condition,
    KubeModel,
    SecretRef,
    Timestamp,
)
from kubedora.models.changes import ChangeFailureSettings, GitSettings
from kubedora.models.deployment import DeploymentSource
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
    api_token_secret_ref: SecretRef | None = Field(
        default=None, description="A Secret holding the PagerDuty REST API token."
    )
    api_url: str = Field(
        default=DEFAULT_API_URL,
        alias="apiURL",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="PagerDuty's REST API (EU accounts: https://api.eu.pagerduty.com).",
    )
    backfill: BackfillSettings | None = Field(
        default=None, description="Read the incident history once; removing it stops a backfill."
    )


class FluxSettings(KubeModel):
    """The Flux notification-controller route (`POST /hooks/flux`)."""

    # The `token` of a `generic-hmac` Provider: X-Signature must then verify.
    signing_secret_ref: SecretRef | None = None
    # The env of a Flux deployment whose event metadata carries none.
    default_env: str | None = None


class ArgoCDSettings(KubeModel):
    """The Argo CD notifications route (`POST /hooks/argocd`)."""

    # The env of an Argo CD deployment whose body carries none.
    default_env: str | None = None


class TrendSettings(KubeModel):
    """How status.trend slices time: `buckets` buckets of `bucket` each,
    the newest ending now."""

    bucket: str = Field(
        default="7d",
        pattern=WINDOW_PATTERN,
        min_length=2,
        description="The length of one trend bucket, e.g. 7d, 1d, 12h.",
    )
    buckets: int = Field(
        default=12,
        ge=0,
        le=104,
        description="How many buckets status.trend holds, oldest first; 0 turns trends off.",
    )


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
    trend: TrendSettings | None = None
    git: GitSettings | None = None
    change_failure: ChangeFailureSettings | None = None
    deployment_sources: list[DeploymentSource] = Field(
        default_factory=lambda: list(DeploymentSource),
        description="The sources of deployments that count towards the metrics.",
        json_schema_extra=SET_LIST,
    )
    flux: FluxSettings | None = None
    argocd: ArgoCDSettings | None = None


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
    # Deployment frequency: deployments / window days (unrounded), and its band.
    deployments_per_day: float | None = None
    # A metrics.Band value. A plain string in the schema: a nullable
    # enum becomes a CEL rule per breakdown row, over the API server's
    # cost budget; only the operator writes status.
    deployment_frequency: str | None = Field(
        default=None, description="The DORA band: elite, high, medium or low (see the README)."
    )


class Dimension(StrEnum):
    SERVICE = "service"
    TEAM = "team"
    ENV = "env"


class BreakdownRow(Figures):
    dimension: Dimension
    key: str


class TrendPoint(KubeModel):
    """The figures of one trend bucket. A bucket without any failure,
    restore or deployment has only its start: no data is not zero."""

    start: Timestamp
    deployments: int | None = None
    failures: int | None = None
    restored_failures: int | None = None
    change_failure_rate: float | None = None
    median_time_to_restore_seconds: float | None = None
    deployments_per_day: float | None = None
    median_lead_time_seconds: float | None = None

    @model_serializer(mode="wrap")
    def _absent_not_null(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent on the wire: inside a list, a null would be stored as null.
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class RowTrend(KubeModel):
    """The trend of one breakdown row (the busiest rows of each dimension)."""

    dimension: Dimension
    key: str
    points: list[TrendPoint] = Field(default_factory=list)


class Display(KubeModel):
    """Human-readable figures for `kubectl get` printer columns."""

    change_failure_rate: str = "-"
    median_time_to_restore: str = "-"
    median_lead_time: str = "-"
    # e.g. "high (2.3/week)": the band and the rate behind it.
    deployment_frequency: str = "-"


class DoraSourceStatus(KubeModel):
    window_start: Timestamp | None = None
    window_end: Timestamp | None = None
    summary: Figures | None = None
    breakdown: list[BreakdownRow] = Field(default_factory=list)
    display: Display | None = None
    trend: list[TrendPoint] = Field(default_factory=list)
    breakdown_trend: list[RowTrend] = Field(default_factory=list)
    conditions: list[Condition] = Field(default_factory=list, json_schema_extra=CONDITIONS_LIST)
    observed_generation: int | None = None
    backfill: BackfillStatus | None = None
