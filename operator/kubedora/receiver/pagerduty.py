"""Parse PagerDuty v3 deliveries into the incident events kubedora acts on.

Plain functions over bytes: no HTTP, no Kubernetes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from kubedora.models import (
    FailureState,
    PagerDutyClient,
    PagerDutyIncident,
    PagerDutyIncidentReference,
    PagerDutyWebhook,
)
from kubedora.receiver.invalid import PayloadError, describe, is_malformed_json

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
    try:
        return PagerDutyWebhook.model_validate_json(body)
    except ValidationError as error:
        if is_malformed_json(error):
            raise PayloadError("the body is not valid JSON") from error
        raise PayloadError(describe(error)) from error


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
