"""PagerDuty's REST API, parsed: pages of `GET /incidents` and the alerts of
`GET /incidents/{id}/alerts`, turned into what the webhook path already
understands, and the date windows a backfill reads. Pure: no HTTP.

A listed incident says when it was created and, once resolved, when it was
resolved (`resolved_at`, else `last_status_change_at`); it does not say
whether it was reopened or acknowledged in between. `history_events` gives
those two moments as the `incident.triggered` and `incident.resolved`
events a webhook would have sent, so `incidents.apply` folds them into the
same Failure, merged with whatever webhooks wrote."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from kubedora.ingest.pagerduty import (
    IncidentEvent,
    PagerDutyIncident,
    PagerDutyTime,
)
from kubedora.ingest.payload import parse_json
from kubedora.models import TAG_PATTERN

# PagerDuty refuses a since/until range over 6 months; 180 days is under
# any six calendar months (the shortest span 181 days).
MAX_WINDOW = timedelta(days=180)
# Classic pagination: a request with offset + limit over this is refused.
OFFSET_CAP = 10_000
PAGE_LIMIT = 100


class _RestModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestIncident(PagerDutyIncident):
    """One incident of `GET /incidents`, the fields kubedora reads: a webhook
    incident's, with the REST API's number, resolution and last change."""

    incident_number: int | None = None
    created_at: PagerDutyTime
    resolved_at: PagerDutyTime | None = None
    last_status_change_at: PagerDutyTime | None = None

    @property
    def resolved(self) -> datetime | None:
        """When it was resolved; None while it is open."""
        if self.status != "resolved":
            return None
        return self.resolved_at or self.last_status_change_at or self.created_at


class IncidentsPage(_RestModel):
    """The answer of `GET /incidents` (classic pagination)."""

    incidents: list[RestIncident]
    limit: int
    offset: int
    total: int | None = None
    more: bool = False


class Alert(_RestModel):
    id: str | None = None
    created_at: PagerDutyTime | None = None
    body: dict[str, Any] | None = None

    @field_validator("body", mode="before")
    @classmethod
    def _not_an_object_means_none(cls, value: object) -> object:
        return value if isinstance(value, dict) else None


class AlertsPage(_RestModel):
    alerts: list[Alert]


def parse_incidents(body: bytes) -> IncidentsPage:
    """A page of incidents, or PayloadError saying what is wrong with it."""
    return parse_json(IncidentsPage, body)


def parse_alerts(body: bytes) -> AlertsPage:
    return parse_json(AlertsPage, body)


# Sorts before any id PagerDuty gives (upper-case letters and digits), so
# that at one instant a webhook's own event is the newer context.
_HISTORY_PREFIX = "!history"


def history_events(incident: RestIncident) -> list[IncidentEvent]:
    """The events a webhook subscription would have sent for what the listing
    shows: triggered at created_at and, when resolved, resolved then."""
    shaped = PagerDutyIncident(
        id=incident.id,
        number=incident.incident_number,
        html_url=incident.html_url,
        status=incident.status,
        incident_key=incident.incident_key,
        created_at=incident.created_at,
        title=incident.title,
        service=incident.service,
        teams=incident.teams,
        priority=incident.priority,
        urgency=incident.urgency,
    )
    moments = [("incident.triggered", incident.created_at)]
    resolved = incident.resolved
    if resolved is not None:
        moments.append(("incident.resolved", max(resolved, incident.created_at)))
    return [
        IncidentEvent(
            event_id=f"{_HISTORY_PREFIX}:{incident.id}:{event_type}",
            event_type=event_type,
            occurred_at=at,
            incident_id=incident.id,
            incident=shaped,
            client=None,
        )
        for event_type, at in moments
    ]


# --- monitor tags -------------------------------------------------------------------

MONITOR_KEYS = ("service", "env", "team")
_MAX_TAGS = 50
# What a Failure accepts as a tag (models.base.Tag); anything else is dropped.
_TAG = re.compile(TAG_PATTERN)
_TAG_LENGTH = 512


def monitor_tags(alerts: Sequence[Alert]) -> list[str]:
    """`service:`, `env:` and `team:` tags of the incident's alerts, first
    alert first: the body's details (and CEF details) under those keys, and
    a `tags` entry of `key:value` pairs (a list, or comma-separated) as the
    Datadog integration sends them. A multi-alert group gives every alert's
    values; matching then takes all services, and a team or env only when
    the alerts agree on one."""
    ordered = sorted(alerts, key=lambda a: a.created_at or datetime.max.replace(tzinfo=UTC))
    found: dict[str, str] = {}
    for alert in ordered:
        for details in _details(alert.body or {}):
            for tag in _tags_in(details):
                if _TAG.fullmatch(tag) and len(tag) <= _TAG_LENGTH:
                    found.setdefault(tag.casefold(), tag)
    return list(found.values())[:_MAX_TAGS]


def _details(body: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    details = body.get("details")
    if isinstance(details, Mapping):
        yield details
    cef = body.get("cef_details")
    if isinstance(cef, Mapping) and isinstance(cef.get("details"), Mapping):
        yield cef["details"]


def _tags_in(details: Mapping[str, Any]) -> Iterable[str]:
    for key in MONITOR_KEYS:
        for value in _values(details.get(key)):
            yield f"{key}:{value}"
    raw = details.get("tags")
    pairs = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    for pair in pairs:
        if not isinstance(pair, str) or ":" not in pair:
            continue
        key, _, value = pair.partition(":")
        if key.strip().casefold() in MONITOR_KEYS and value.strip():
            yield f"{key.strip().casefold()}:{value.strip()}"


def _values(raw: object) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    return [text for item in items if isinstance(item, str | int) and (text := str(item).strip())]


# --- date windows -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Window:
    """Incidents created in [since, until)."""

    since: datetime
    until: datetime

    def params(self) -> dict[str, str]:
        """Both ends with an explicit UTC offset, and time_zone=UTC: without
        them PagerDuty reads the times in the account's time zone."""
        return {"since": _utc(self.since), "until": _utc(self.until), "time_zone": "UTC"}

    @property
    def span(self) -> timedelta:
        return self.until - self.since


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(since: datetime, until: datetime, *, longest: timedelta = MAX_WINDOW) -> list[Window]:
    """[since, until) cut into consecutive windows of at most `longest`,
    oldest first, on whole seconds (the API reads no finer)."""
    start, end = _whole(since), _whole(until)
    cut: list[Window] = []
    while start < end:
        stop = min(end, start + longest)
        cut.append(Window(start, stop))
        start = stop
    return cut


def split(window: Window, total: int, *, most: int) -> list[Window]:
    """A window holding `total` incidents, cut into equal spans that each
    hold about `most` if incidents were spread evenly (a dense part is cut
    again when its own first page says so). A window of one second is
    never cut: it is what the API can tell apart."""
    seconds = int(window.span.total_seconds())
    parts = min(max(2, math.ceil(total / max(1, most))), seconds)
    if parts < 2:
        return [window]
    step = seconds / parts
    bounds = [window.since + timedelta(seconds=round(step * i)) for i in range(parts)]
    bounds.append(window.until)
    return [Window(a, b) for a, b in itertools.pairwise(bounds) if a < b]


def _whole(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
