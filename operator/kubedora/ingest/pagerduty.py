"""PagerDuty Generic Webhooks (v3): the payload models, and their parsing into
the incident events kubedora acts on. Plain functions over bytes: no HTTP,
no Kubernetes.

Real deliveries vary in small ways (null `client`, `priority` or
`incident_key`, empty `teams`, extra objects such as `incident_type`, any key
order), so every model ignores unknown fields and tolerates missing optional
ones: a delivery is refused only when it cannot name an event or an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from kubedora.ingest.payload import IsoTime, PayloadError, describe, parse_json
from kubedora.models import FailureState

# PagerDuty writes ISO 8601 strings; a number is not a time it sent.
PagerDutyTime = IsoTime


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
    # Its shape depends on event_type; see kubedora.ingest.pagerduty.
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


# Events whose data is the whole incident. The first three move the state;
# the others only refresh what the Failure says about the incident
# (acknowledging is not restoring: the incident stays active).
STATE_OF_EVENT: dict[str, FailureState] = {
    "incident.triggered": FailureState.ACTIVE,
    "incident.reopened": FailureState.ACTIVE,
    "incident.resolved": FailureState.RESOLVED,
}
CONTEXT_EVENTS = frozenset(
    {
        "incident.acknowledged",
        "incident.unacknowledged",
        "incident.escalated",
        "incident.delegated",
        "incident.reassigned",
        "incident.priority_updated",
    }
)
# Events whose data names the incident by reference only.
REFERENCE_EVENTS = frozenset({"incident.annotated", "incident.custom_field_values.updated"})
HANDLED_EVENTS = frozenset(STATE_OF_EVENT) | CONTEXT_EVENTS | REFERENCE_EVENTS


@dataclass(frozen=True, order=True)
class Stamp:
    """When an event happened, with its id to order events of the same instant."""

    at: datetime
    event_id: str

    def encode(self) -> str:
        return f"{self.at.isoformat()} {self.event_id}"

    @classmethod
    def decode(cls, text: str) -> Stamp | None:
        moment, _, event_id = text.partition(" ")
        try:
            at = datetime.fromisoformat(moment)
        except ValueError:
            return None
        if at.tzinfo is None or not event_id:
            return None
        return cls(at, event_id)


@dataclass(frozen=True)
class IncidentEvent:
    """One handled incident event. `incident` is None for reference events."""

    event_id: str
    event_type: str
    occurred_at: datetime
    incident_id: str
    incident: PagerDutyIncident | None
    client: PagerDutyClient | None

    @property
    def stamp(self) -> Stamp:
        return Stamp(self.occurred_at, self.event_id)

    @property
    def state(self) -> FailureState | None:
        """The state this event moves the incident to, if it moves it."""
        return STATE_OF_EVENT.get(self.event_type)


def parse_webhook(body: bytes) -> PagerDutyWebhook:
    """The v3 envelope, or PayloadError saying what is wrong with it."""
    return parse_json(PagerDutyWebhook, body)


def incident_event(webhook: PagerDutyWebhook) -> IncidentEvent | None:
    """The incident event in a delivery; None for every type kubedora ignores
    (pings, services, event types added after this was written)."""
    event = webhook.event
    if event.event_type not in HANDLED_EVENTS:
        return None
    if event.data is None:
        raise PayloadError(f"event.data: required for {event.event_type}")
    try:
        if event.event_type in REFERENCE_EVENTS:
            reference = PagerDutyIncidentReference.model_validate(event.data)
            incident_id = str(reference.incident.id)
            incident = None
        else:
            incident = PagerDutyIncident.model_validate(event.data)
            incident_id = incident.id
    except ValidationError as error:
        raise PayloadError(describe(error, "event.data")) from error
    if incident is not None and not service_name(incident) and not team_names(incident):
        # A Failure needs services or a team; every real incident has a service.
        raise PayloadError("event.data.service: an incident needs a service or a team")
    return IncidentEvent(
        event_id=event.id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        incident_id=incident_id,
        incident=incident,
        client=event.client,
    )


def service_name(incident: PagerDutyIncident) -> str | None:
    """The PagerDuty service's name (its reference's summary)."""
    return incident.service.summary if incident.service and incident.service.summary else None


def team_names(incident: PagerDutyIncident) -> list[str]:
    """The names of the incident's teams, in PagerDuty's order."""
    return [team.summary for team in incident.teams if team.summary]
