"""PagerDuty Generic Webhooks (v3): the envelope and the parts of an incident
the receiver reads.

Real deliveries vary in small ways (null `client`, `priority` or
`incident_key`, empty `teams`, extra objects such as `incident_type`, any key
order), so every model ignores unknown fields and tolerates missing optional
ones: a delivery is refused only when it cannot name an event or an incident.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator


def _not_a_number(value: object) -> object:
    # pydantic would read a number as Unix time; PagerDuty writes ISO 8601
    # strings, so a number is not a time it sent.
    if isinstance(value, int | float):
        raise ValueError("must be an ISO 8601 date-time string")  # noqa: TRY004
    return value


PagerDutyTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]


class _PagerDutyModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PagerDutyReference(_PagerDutyModel):
    """A `*_reference` object: a service, team, priority, user or incident."""

    id: str | None = None
    type: str | None = None
    summary: str | None = None
    html_url: str | None = None


class PagerDutyClient(_PagerDutyModel):
    """Where the event came from, e.g. the monitoring tool that triggered it."""

    name: str | None = None
    url: str | None = None


class PagerDutyIncident(_PagerDutyModel):
    """`event.data` of the incident events that carry the whole incident."""

    id: str = Field(min_length=1)
    number: int | None = None
    html_url: str | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: PagerDutyTime | None = None
    title: str | None = None
    service: PagerDutyReference | None = None
    teams: list[PagerDutyReference] = Field(default_factory=list)
    priority: PagerDutyReference | None = None
    urgency: str | None = None

    @field_validator("teams", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class PagerDutyIncidentReference(_PagerDutyModel):
    """`event.data` of notes and custom field changes: the incident by reference."""

    incident: PagerDutyReference

    @field_validator("incident")
    @classmethod
    def _needs_an_id(cls, value: PagerDutyReference) -> PagerDutyReference:
        if not value.id:
            raise ValueError("the incident reference has no id")
        return value


class PagerDutyEvent(_PagerDutyModel):
    id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    resource_type: str | None = None
    occurred_at: PagerDutyTime
    client: PagerDutyClient | None = None
    # Its shape depends on event_type; see kubedora.receiver.pagerduty.
    data: dict[str, Any] | None = None

    @field_validator("client", mode="before")
    @classmethod
    def _not_an_object_means_none(cls, value: object) -> object:
        # Some integrations send a string where an object belongs; the
        # client is context only, never a reason to refuse a delivery.
        return value if isinstance(value, dict) else None


class PagerDutyWebhook(_PagerDutyModel):
    """One v3 delivery: a single event in an envelope."""

    event: PagerDutyEvent
