"""Fold PagerDuty incident events into one Failure per incident.

`apply` is a pure function, and the Failure it yields depends only on the
*set* of events applied, not on their order or repetition, so duplicate and
out-of-order deliveries converge:

- the timeline is the set of `{state, at}` transitions the state events
  make, sorted by time; state and finishedAt follow from its last entry;
- startedAt is the earliest moment known (the incident's created_at);
- what the Failure says about the incident (service, teams, title,
  priority, env) comes from the latest event by occurred_at (event id
  breaks ties), whose stamp is kept in an annotation;
- the client (the tool that triggered it) is the first one seen: later
  events by people carry none.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubedora.ingest.pagerduty import (
    IncidentEvent,
    PagerDutyIncident,
    Stamp,
    service_name,
    team_names,
)
from kubedora.ingest.payload import exact_or_hashed
from kubedora.models import (
    PREFIX,
    FailureSource,
    FailureSpec,
    FailureState,
    PagerDutyContext,
    TimelineEntry,
)

# The stamp of the event the Failure's incident context was taken from.
CONTEXT_ANNOTATION = f"{PREFIX}pagerduty-context"
_NAME_MAX = 1024
# At one instant, a transition to resolved sorts after one to active.
_STATE_ORDER = {FailureState.ACTIVE: 0, FailureState.STABLE: 1, FailureState.RESOLVED: 2}


def failure_name(incident_id: str) -> str:
    """`pd-<incident id in lower case>`: PagerDuty ids are upper-case alphanumerics."""
    return exact_or_hashed("pd", incident_id, fold_case=True)


@dataclass(frozen=True)
class IncidentFailure:
    """A Failure's spec and the stamp its incident context is from."""

    spec: FailureSpec
    context: Stamp | None


def apply(
    current: IncidentFailure | None, event: IncidentEvent, env: str | None
) -> IncidentFailure | None:
    """The Failure after `event`; None when there is none to write (an event
    by reference for an incident not seen yet: it carries nothing to keep)."""
    incident = event.incident
    if incident is None:
        return current
    previous = current.spec if current is not None else None
    newer = current is None or current.context is None or event.stamp > current.context

    timeline = merged_timeline(
        previous.timeline if previous is not None else [],
        TimelineEntry(state=event.state, at=event.occurred_at) if event.state else None,
    )
    last = timeline[-1] if timeline else None
    state = last.state if last is not None else None
    started = min(
        moment
        for moment in (
            previous.started_at if previous is not None else None,
            incident.created_at,
            event.occurred_at,
        )
        if moment is not None
    )

    if newer or previous is None:
        context = _context_of(incident, event, env, previous)
    else:
        context = _keep_context(previous, event)
    spec = FailureSpec.model_validate(
        {
            # Fields the receiver does not own (tags, git, version) survive.
            **(previous.model_dump() if previous is not None else {}),
            **context,
            "started_at": started,
            "finished_at": last.at if state == FailureState.RESOLVED and last else None,
            "source": FailureSource.PAGERDUTY,
            "state": state,
            "timeline": timeline,
        }
    )
    stamps = [s for s in (current.context if current else None, event.stamp) if s is not None]
    return IncidentFailure(spec=spec, context=max(stamps))


def merged_timeline(entries: list[TimelineEntry], new: TimelineEntry | None) -> list[TimelineEntry]:
    """The set of transitions with `new` added, in time order."""
    unique = {(entry.state, entry.at) for entry in entries}
    if new is not None:
        unique.add((new.state, new.at))
    ordered = sorted(unique, key=lambda pair: (pair[1], _STATE_ORDER[pair[0]]))
    return [TimelineEntry(state=state, at=at) for state, at in ordered]


def _context_of(
    incident: PagerDutyIncident,
    event: IncidentEvent,
    env: str | None,
    previous: FailureSpec | None,
) -> dict[str, object]:
    """The fields that describe the incident, from this (latest) event."""
    service = service_name(incident)
    teams = team_names(incident)
    earlier = previous.pagerduty if previous is not None else None
    client_name, client_url = _client(earlier, event)
    return {
        # The operator attributes PagerDuty failures to catalog services and
        # teams; these raw names keep the Failure valid until it does.
        "services": [service] if service else [],
        "team": teams[0] if teams else None,
        "id": incident.id,
        "name": incident.title[:_NAME_MAX] if incident.title else None,
        "severity": incident.priority.summary if incident.priority else None,
        "env": env if env is not None else (previous.env if previous is not None else None),
        "pagerduty": PagerDutyContext(
            incident_id=incident.id,
            incident_number=incident.number,
            incident_url=incident.html_url,
            incident_title=incident.title,
            incident_key=incident.incident_key,
            service_id=incident.service.id if incident.service else None,
            service_name=service,
            service_url=incident.service.html_url if incident.service else None,
            teams=teams,
            priority=incident.priority.summary if incident.priority else None,
            urgency=incident.urgency,
            client_name=client_name,
            client_url=client_url,
            monitor_tags=earlier.monitor_tags if earlier is not None else [],
        ),
    }


def _keep_context(previous: FailureSpec, event: IncidentEvent) -> dict[str, object]:
    """An older event changes no context, but may bring the first client."""
    earlier = previous.pagerduty
    if earlier is None or earlier.client_name or earlier.client_url or event.client is None:
        return {}
    client_name, client_url = _client(earlier, event)
    return {
        "pagerduty": earlier.model_copy(
            update={"client_name": client_name, "client_url": client_url}
        )
    }


def _client(
    earlier: PagerDutyContext | None, event: IncidentEvent
) -> tuple[str | None, str | None]:
    if earlier is not None and (earlier.client_name or earlier.client_url):
        return earlier.client_name, earlier.client_url
    if event.client is None:
        return None, None
    return event.client.name, event.client.url
