"""Parsing v3 deliveries: recorded ones, tolerated variations, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kubedora.ingest.pagerduty import IncidentEvent, Stamp, incident_event, parse_webhook
from kubedora.ingest.payload import PayloadError
from kubedora.models import FailureState
from tests.support.receiver import fixture_bytes, fixture_json


def event_of(body: bytes) -> IncidentEvent | None:
    return incident_event(parse_webhook(body))


def delivery(**event: Any) -> bytes:
    base: dict[str, Any] = fixture_json("pagerduty", "incident.triggered.json")
    base["event"].update(event)
    return json.dumps(base).encode()


class TestRecordedDeliveries:
    def test_trigger(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "incident.triggered.json"))
        assert event is not None
        assert event.event_id == "01FKZSRAPTMF55RE69G8BQHGC6"
        assert event.incident_id == "Q2CKYRLH85UNN4"
        assert event.state == FailureState.ACTIVE
        assert event.occurred_at == datetime(2025, 4, 7, 3, 47, 13, 414000, tzinfo=UTC)
        assert event.incident is not None
        assert event.incident.created_at == datetime(2025, 4, 7, 3, 47, 13, tzinfo=UTC)
        assert event.incident.service is not None
        assert event.incident.service.summary == "Webhook Tester"
        assert event.incident.teams == []
        assert event.incident.priority is None
        assert event.client is None

    def test_acknowledge_moves_no_state(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "incident.acknowledged.json"))
        assert event is not None
        assert event.state is None

    def test_resolve(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "incident.resolved.json"))
        assert event is not None
        assert event.state == FailureState.RESOLVED

    @pytest.mark.parametrize(
        "file", ["incident.annotated.json", "incident.custom_field_values.updated.json"]
    )
    def test_reference_events_name_the_incident_only(self, file: str) -> None:
        event = event_of(fixture_bytes("pagerduty", file))
        assert event is not None
        assert event.incident is None
        assert event.incident_id in {"Q2CKYRLH85UNN4", "PBAZLIU"}

    def test_priority_update_from_the_documentation(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "incident.priority_updated.json"))
        assert event is not None
        assert event.incident is not None
        assert event.incident.priority is not None
        assert event.incident.priority.summary == "P1"
        assert [t.summary for t in event.incident.teams] == ["Engineering"]
        assert event.client is not None
        assert event.client.name == "PagerDuty"

    def test_a_delivery_without_created_at(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "go-pagerduty.priority_updated.json"))
        assert event is not None
        assert event.incident is not None
        assert event.incident.created_at is None
        assert event.incident.incident_key is None

    def test_a_monitoring_tool_as_client(self) -> None:
        event = event_of(fixture_bytes("pagerduty", "incident.triggered.client.json"))
        assert event is not None
        assert event.client is not None
        assert event.client.name == "Chronosphere"
        assert event.client.url is not None
        assert event.client.url.startswith("https://example.chronosphere.io/")


class TestIgnoredTypes:
    @pytest.mark.parametrize(
        "event_type",
        ["pagey.ping", "service.updated", "incident.responder.added", "incident.brand_new_type"],
    )
    def test_are_none(self, event_type: str) -> None:
        assert event_of(delivery(event_type=event_type)) is None

    def test_the_recorded_ping(self) -> None:
        assert event_of(fixture_bytes("pagerduty", "pagey.ping.json")) is None

    def test_an_ignored_type_needs_no_incident(self) -> None:
        assert event_of(delivery(event_type="service.deleted", data=None)) is None


class TestToleratedVariations:
    def test_client_that_is_not_an_object(self) -> None:
        event = event_of(delivery(client="None"))
        assert event is not None
        assert event.client is None

    def test_null_teams_and_unknown_fields(self) -> None:
        base: dict[str, Any] = fixture_json("pagerduty", "incident.triggered.json")
        base["event"]["data"]["teams"] = None
        base["event"]["data"]["something_new"] = {"nested": [1, 2]}
        base["event"]["brand_new"] = True
        event = event_of(json.dumps(base).encode())
        assert event is not None
        assert event.incident is not None
        assert event.incident.teams == []


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (b"{not json", "not valid JSON"),
            (b"", "not valid JSON"),
            (b"[]", "Input should be an object"),
            (b"{}", "event: Field required"),
            (delivery(id=None), "event.id"),
            (delivery(occurred_at="2025-04-07T03:47:13"), "event.occurred_at"),
            (delivery(occurred_at=None), "event.occurred_at"),
            (delivery(occurred_at=1743997633), "event.occurred_at: must be an ISO 8601"),
            (delivery(event_type=""), "event.event_type"),
            (delivery(data=None), "event.data: required for incident.triggered"),
            (delivery(data={"type": "incident"}), "event.data.id: Field required"),
            (delivery(data={"id": "P1", "service": None, "teams": []}), "event.data.service"),
        ],
    )
    def test_say_which_field(self, body: bytes, detail: str) -> None:
        with pytest.raises(PayloadError) as refused:
            event_of(body)
        assert detail in refused.value.detail

    def test_a_reference_event_needs_the_incident_id(self) -> None:
        body = delivery(event_type="incident.annotated", data={"incident": {"summary": "x"}})
        with pytest.raises(PayloadError, match=r"event\.data\.incident"):
            event_of(body)


class TestStamp:
    def test_round_trips(self) -> None:
        stamp = Stamp(datetime(2025, 4, 7, 3, 47, 13, 414000, tzinfo=UTC), "01FKZ")
        assert Stamp.decode(stamp.encode()) == stamp

    def test_orders_by_time_then_id(self) -> None:
        at = datetime(2025, 1, 1, tzinfo=UTC)
        later = datetime(2025, 1, 2, tzinfo=UTC)
        assert Stamp(at, "b") < Stamp(later, "a")
        assert Stamp(at, "a") < Stamp(at, "b")

    @pytest.mark.parametrize(
        "text", ["", "garbage", "2025-01-01T00:00:00 id", "2025-01-01T00:00:00+00:00"]
    )
    def test_unreadable_is_none(self, text: str) -> None:
        assert Stamp.decode(text) is None
