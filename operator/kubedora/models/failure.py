"""The Failure kind: a production failure (incident) of one or more services."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from kubedora.models.base import CONDITIONS_LIST, Condition, GitInfo, KubeModel, Tag, Timestamp


class FailureSource(StrEnum):
    API = "api"
    INCIDENT = "incident"
    PAGERDUTY = "pagerduty"


class FailureState(StrEnum):
    ACTIVE = "active"
    STABLE = "stable"
    RESOLVED = "resolved"


class TimelineEntry(KubeModel):
    """The failure entered `state` at `at`."""

    state: FailureState
    at: Timestamp


class PagerDutyContext(KubeModel):
    """The raw PagerDuty facts the matcher attributes a failure from."""

    incident_id: str = Field(min_length=1)
    incident_number: int | None = None
    incident_url: str | None = None
    incident_title: str | None = None
    incident_key: str | None = None
    service_id: str | None = None
    service_name: str | None = None
    service_url: str | None = None
    teams: list[str] = Field(default_factory=list)
    priority: str | None = None
    urgency: str | None = None
    client_name: str | None = None
    client_url: str | None = None
    monitor_tags: list[Tag] = Field(default_factory=list)


class FailureSpec(KubeModel):
    """What failed and when. Identify it by services, a team, or both."""

    # Checked by the API server (CEL) so that `kubectl apply` explains a
    # rejected object; `has()` is false for absent and null fields alike.
    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "(has(self.services) && size(self.services) > 0)"
                    " || (has(self.team) && size(self.team) > 0)",
                    "message": "spec.services or spec.team is required",
                    "reason": "FieldValueRequired",
                },
                {
                    "rule": "!has(self.finishedAt) || self.finishedAt >= self.startedAt",
                    "message": "spec.finishedAt must not be before spec.startedAt",
                    "fieldPath": ".finishedAt",
                },
                {
                    "rule": "!has(self.finishedAt) || !has(self.state) || self.state != 'active'",
                    "message": "spec.state cannot be active while spec.finishedAt is set;"
                    " remove spec.finishedAt to reopen the failure",
                    "fieldPath": ".state",
                },
                {
                    "rule": "!has(self.source) || self.source != 'pagerduty'"
                    " || has(self.pagerduty)",
                    "message": "spec.pagerduty is required when spec.source is pagerduty",
                    "fieldPath": ".pagerduty",
                    "reason": "FieldValueRequired",
                },
            ]
        }
    )

    services: list[str] = Field(
        default_factory=list, description="The services that failed, as named in the catalog."
    )
    team: str | None = Field(default=None, description="The team that owns the failure.")
    started_at: Timestamp = Field(description="When the failure began (RFC 3339).")
    finished_at: Timestamp | None = Field(
        default=None, description="When service was restored; unset while the failure lasts."
    )
    id: str | None = Field(default=None, max_length=256)
    name: str | None = Field(default=None, max_length=1024)
    severity: str | None = None
    env: str | None = None
    version: str | None = None
    git: GitInfo | None = None
    custom_tags: list[Tag] = Field(default_factory=list, max_length=100)
    source: FailureSource = Field(
        default=FailureSource.API, description="Who reported the failure."
    )
    state: FailureState | None = Field(
        default=None, description="Incident-style state; time to restore counts active time."
    )
    timeline: list[TimelineEntry] = Field(default_factory=list)
    pagerduty: PagerDutyContext | None = None


class Attribution(KubeModel):
    """Where the failure counts: the spec's own values, or what matching found."""

    services: list[str] = Field(default_factory=list)
    team: str | None = None
    env: str | None = None
    severity: str | None = None
    custom_tags: list[str] = Field(default_factory=list)
    matched_by: str = "spec"


class FailureStatus(KubeModel):
    state: FailureState | None = None
    time_to_restore_seconds: float | None = None
    restored_at: Timestamp | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    attribution: Attribution | None = None
    # The deployment this failure most likely followed (same service and env).
    linked_deployment: str | None = None
    conditions: list[Condition] = Field(default_factory=list, json_schema_extra=CONDITIONS_LIST)
    observed_generation: int | None = None
