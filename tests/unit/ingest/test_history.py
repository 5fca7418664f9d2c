"""PagerDuty's REST history: incidents into the webhook path's events, alerts
into monitor tags, and the date windows a backfill reads."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from kubedora.ingest import incidents
from kubedora.ingest.history import (
    MAX_WINDOW,
    Alert,
    history_events,
    monitor_tags,
    parse_incidents,
    split,
    windows,
)
from kubedora.ingest.pagerduty import incident_event, parse_webhook
from kubedora.models import FailureState
from tests.support.pagerduty import Incident
from tests.support.receiver import encode, pd_delivery

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def rest(incident: Incident) -> bytes:
    page = {"incidents": [incident.as_json()], "limit": 100, "offset": 0, "more": False}
    return json.dumps(page).encode()


def test_a_resolved_incident_is_one_active_period_from_creation_to_resolution() -> None:
    page = parse_incidents(
        rest(Incident("PABC", 7, T0, "resolved", resolved_at=T0 + timedelta(minutes=42)))
    )
    (incident,) = page.incidents
    failure = None
    for event in history_events(incident):
        failure = incidents.apply(failure, event, "prod")
    assert failure is not None
    spec = failure.spec
    assert [(e.state, e.at) for e in spec.timeline] == [
        (FailureState.ACTIVE, T0),
        (FailureState.RESOLVED, T0 + timedelta(minutes=42)),
    ]
    assert spec.finished_at == T0 + timedelta(minutes=42)
    assert spec.pagerduty is not None
    assert spec.pagerduty.incident_number == 7
    assert spec.pagerduty.service_url == "https://acme.pagerduty.com/service-directory/PCHECKO"


def test_an_acknowledged_incident_stays_active() -> None:
    (incident,) = parse_incidents(rest(Incident("PACK", 1, T0, "acknowledged"))).incidents
    events = history_events(incident)
    assert [e.event_type for e in events] == ["incident.triggered"]


def test_history_and_webhooks_converge_in_any_order() -> None:
    (incident,) = parse_incidents(
        rest(Incident("PABC", 7, T0, "resolved", resolved_at=T0 + timedelta(hours=1)))
    ).incidents
    reopened = incident_event(
        parse_webhook(
            encode(
                pd_delivery(
                    "incident.reopened",
                    "PABC",
                    T0 + timedelta(hours=2),
                    created_at=T0,
                    priority="P1",
                )
            )
        )
    )
    assert reopened is not None
    events = [*history_events(incident), reopened]
    one = None
    for event in events:
        one = incidents.apply(one, event, "prod")
    other = None
    for event in reversed(events):
        other = incidents.apply(other, event, "prod")
    assert one is not None
    assert one == other
    assert one.spec.state == FailureState.ACTIVE
    # The webhook is newer: its context (priority P1) wins over the listing's P2.
    assert one.spec.severity == "P1"


def test_monitor_tags_from_details_and_datadog_style_tags() -> None:
    first = Alert(
        created_at=T0,
        body={"details": {"service": ["checkout", "cart"], "tags": "env:prod, team:payments,x:y"}},
    )
    second = Alert(
        created_at=T0 + timedelta(minutes=1),
        body={"cef_details": {"details": {"service": "search", "team": "growth"}}},
    )
    assert monitor_tags([second, first]) == [
        "service:checkout",
        "service:cart",
        "env:prod",
        "team:payments",
        "service:search",
        "team:growth",
    ]
    assert monitor_tags([Alert(body={"details": "not an object"})]) == []
    assert monitor_tags([Alert(body={"details": {"tags": ["service:a", "bad", "team:"]}})]) == [
        "service:a"
    ]


def test_windows_cover_the_range_in_spans_of_at_most_six_months() -> None:
    start = T0 - timedelta(days=730, microseconds=5)
    cut = windows(start, T0)
    assert cut[0].since == start.replace(microsecond=0)
    assert cut[-1].until == T0
    assert all(w.span <= MAX_WINDOW for w in cut)
    assert all(a.until == b.since for a, b in itertools.pairwise(cut))
    assert cut[0].params() == {
        "since": "2023-03-02T11:59:59Z",
        "until": "2023-08-29T11:59:59Z",
        "time_zone": "UTC",
    }


def test_split_cuts_a_crowded_window_and_never_below_a_second() -> None:
    (window,) = windows(T0, T0 + timedelta(days=90))
    parts = split(window, 11_000, most=10_000)
    assert len(parts) == 2
    assert parts[0].since == window.since
    assert parts[-1].until == window.until
    (tiny,) = windows(T0, T0 + timedelta(seconds=1))
    assert split(tiny, 50_000, most=10_000) == [tiny]
