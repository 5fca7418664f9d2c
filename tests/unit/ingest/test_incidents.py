"""Folding incident events into one Failure: lifecycle, duplicates, order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubedora.ingest.incidents import IncidentFailure, apply, failure_name
from kubedora.ingest.pagerduty import IncidentEvent, incident_event, parse_webhook
from kubedora.metrics.restore import restore_of
from kubedora.models import FailureSource, FailureSpec, FailureState, TimelineEntry
from tests.support.receiver import encode, pd_delivery, pd_note

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def event(event_type: str, at: datetime, incident: str = "PINC1", **kwargs: Any) -> IncidentEvent:
    body = encode(pd_delivery(event_type, incident, at, created_at=T0, **kwargs))
    parsed = incident_event(parse_webhook(body))
    assert parsed is not None
    return parsed


def fold(events: Iterable[IncidentEvent], env: str | None = "prod") -> IncidentFailure | None:
    return reduce(lambda current, e: apply(current, e, env), events, None)


def spec_of(events: Iterable[IncidentEvent], env: str | None = "prod") -> FailureSpec:
    folded = fold(events, env)
    assert folded is not None
    return folded.spec


def entries(*pairs: tuple[str, datetime]) -> list[TimelineEntry]:
    return [TimelineEntry(state=FailureState(s), at=at) for s, at in pairs]


# trigger, ack, resolve, reopen, resolve: active 0-30 and 50-60 minutes.
# The priority and title change along the way, so order matters to context.
REOPENED = "Checkout down again"
LIFECYCLE = [
    event(
        "incident.triggered",
        minutes(0),
        priority="P3",
        client={"name": "Datadog", "url": "https://dd/m/1"},
    ),
    event("incident.acknowledged", minutes(5), priority="P2"),
    event("incident.resolved", minutes(30), priority="P2"),
    event("incident.reopened", minutes(50), priority="P1", title=REOPENED),
    event("incident.acknowledged", minutes(52), priority="P1", title=REOPENED),
    event("incident.resolved", minutes(60), priority="P1", title=REOPENED, teams=("Payments",)),
]


class TestLifecycle:
    def test_one_failure_with_the_whole_timeline(self) -> None:
        spec = spec_of(LIFECYCLE)
        assert spec.timeline == entries(
            ("active", minutes(0)),
            ("resolved", minutes(30)),
            ("active", minutes(50)),
            ("resolved", minutes(60)),
        )
        assert spec.state == FailureState.RESOLVED
        assert spec.finished_at == minutes(60)
        assert spec.started_at == T0
        assert spec.source == FailureSource.PAGERDUTY

    def test_time_to_restore_counts_both_active_periods(self) -> None:
        restore = restore_of(spec_of(LIFECYCLE).timeline)
        assert restore.ttr_seconds == 40 * 60

    def test_acknowledging_is_not_restoring(self) -> None:
        spec = spec_of(LIFECYCLE[:2])
        assert spec.timeline == entries(("active", minutes(0)))
        assert spec.state == FailureState.ACTIVE
        assert spec.finished_at is None

    def test_reopening_clears_the_finish(self) -> None:
        spec = spec_of(LIFECYCLE[:4])
        assert spec.state == FailureState.ACTIVE
        assert spec.finished_at is None
        assert restore_of(spec.timeline).ttr_seconds is None

    def test_incident_context(self) -> None:
        spec = spec_of(LIFECYCLE)
        assert spec.services == ["Checkout API"]
        assert spec.team == "Payments"
        assert spec.severity == "P1"
        assert spec.env == "prod"
        assert spec.id == "PINC1"
        assert spec.name == REOPENED
        context = spec.pagerduty
        assert context is not None
        assert context.incident_id == "PINC1"
        assert context.incident_url == "https://acme.pagerduty.com/incidents/PINC1"
        assert context.service_name == "Checkout API"
        assert context.teams == ["Payments"]
        assert context.priority == "P1"
        assert context.client_name == "Datadog"
        assert context.client_url == "https://dd/m/1"


class TestAtLeastOnceDelivery:
    def test_every_event_twice_changes_nothing(self) -> None:
        once = fold(LIFECYCLE)
        twice = fold(e for e in LIFECYCLE for _ in range(2))
        assert twice == once

    def test_a_repeated_event_yields_an_equal_failure(self) -> None:
        current = fold(LIFECYCLE[:3])
        assert apply(current, LIFECYCLE[2], "prod") == current


class TestOrder:
    @settings(max_examples=200, deadline=None)
    @given(st.permutations(LIFECYCLE), st.lists(st.sampled_from(LIFECYCLE), max_size=6))
    def test_any_order_with_any_duplicates_converges(
        self, shuffled: list[IncidentEvent], extra: list[IncidentEvent]
    ) -> None:
        assert fold([*shuffled, *extra]) == fold(LIFECYCLE)

    @settings(max_examples=200, deadline=None)
    @given(st.permutations(LIFECYCLE))
    def test_every_intermediate_failure_is_valid_for_the_crd(
        self, shuffled: list[IncidentEvent]
    ) -> None:
        current = None
        for e in shuffled:
            current = apply(current, e, "prod")
            assert current is not None
            spec = current.spec
            # The CRD refuses an active failure with a finish, and a finish before the start.
            assert not (spec.state == FailureState.ACTIVE and spec.finished_at is not None)
            assert spec.finished_at is None or spec.finished_at >= spec.started_at

    def test_a_late_trigger_does_not_reopen(self) -> None:
        spec = spec_of([LIFECYCLE[2], LIFECYCLE[0]])
        assert spec.state == FailureState.RESOLVED
        assert spec.finished_at == minutes(30)
        assert restore_of(spec.timeline).ttr_seconds == 30 * 60

    def test_an_older_event_does_not_revert_newer_context(self) -> None:
        raised = event("incident.priority_updated", minutes(10), priority="P1")
        older = event("incident.acknowledged", minutes(5), priority="P3")
        assert spec_of([LIFECYCLE[0], raised, older]).severity == "P1"
        assert spec_of([LIFECYCLE[0], older, raised]).severity == "P1"

    def test_the_client_of_the_trigger_survives_a_later_event_first(self) -> None:
        spec = spec_of([LIFECYCLE[1], LIFECYCLE[0]])
        assert spec.pagerduty is not None
        assert spec.pagerduty.client_name == "Datadog"


class TestContextRefresh:
    def test_later_events_refresh_title_priority_and_teams(self) -> None:
        moved = event(
            "incident.reassigned",
            minutes(7),
            title="Checkout down",
            priority=None,
            teams=("Payments", "Shop"),
        )
        spec = spec_of([LIFECYCLE[0], moved])
        assert spec.name == "Checkout down"
        assert spec.severity is None
        assert spec.team == "Payments"
        assert spec.pagerduty is not None
        assert spec.pagerduty.teams == ["Payments", "Shop"]
        assert spec.timeline == entries(("active", minutes(0)))

    def test_no_env_keeps_the_env_known(self) -> None:
        first = apply(None, LIFECYCLE[0], "prod")
        later = apply(first, LIFECYCLE[1], None)
        assert later is not None
        assert later.spec.env == "prod"

    def test_fields_the_receiver_does_not_own_survive(self) -> None:
        first = fold(LIFECYCLE[:1])
        assert first is not None
        tagged = IncidentFailure(
            spec=first.spec.model_copy(update={"custom_tags": ["region:eu"]}),
            context=first.context,
        )
        after = apply(tagged, LIFECYCLE[2], "prod")
        assert after is not None
        assert after.spec.custom_tags == ["region:eu"]

    def test_start_is_the_earliest_moment_without_created_at(self) -> None:
        delivery = pd_delivery("incident.acknowledged", "PINC1", minutes(5), created_at=T0)
        del delivery["event"]["data"]["created_at"]
        late = incident_event(parse_webhook(encode(delivery)))
        assert late is not None
        spec = spec_of([late])
        assert spec.started_at == minutes(5)
        assert spec_of([late, LIFECYCLE[0]]).started_at == T0


class TestReferenceEvents:
    NOTE = incident_event(parse_webhook(encode(pd_note("PINC1", minutes(3), event_id="n1"))))

    def test_for_an_unknown_incident_write_nothing(self) -> None:
        assert self.NOTE is not None
        assert apply(None, self.NOTE, "prod") is None

    def test_for_a_known_incident_change_nothing(self) -> None:
        assert self.NOTE is not None
        current = fold(LIFECYCLE[:2])
        assert apply(current, self.NOTE, "prod") == current


class TestNames:
    def test_lower_cased_incident_id(self) -> None:
        assert failure_name("Q2CKYRLH85UNN4") == "pd-q2ckyrlh85unn4"

    @pytest.mark.parametrize("incident", ["P_1", "p.1", "Ü1", "x" * 300, "--", "P 1"])
    def test_odd_ids_still_make_valid_distinct_names(self, incident: str) -> None:
        name = failure_name(incident)
        assert DNS_1123.match(name), name
        assert len(name) <= 253
        assert name != failure_name(incident + "x")

    def test_ids_that_clean_up_alike_stay_apart(self) -> None:
        assert failure_name("P_1") != failure_name("P-1")
