"""The Datadog-compatible API as plain functions: timestamps, bodies, names, specs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kubedora.ingest.datadog import (
    deployment_name,
    deployment_spec,
    failure_name,
    failure_spec,
    from_unix,
    parse_deployment,
    parse_failure,
)
from kubedora.ingest.payload import PayloadError
from kubedora.models import FailureSource, FailureState, GitInfo
from tests.support.receiver import fixture_bytes

INSTANT = datetime(2023, 11, 14, 11, 17, 28, tzinfo=UTC)


def body(**attributes: Any) -> bytes:
    return json.dumps({"data": {"attributes": attributes}}).encode()


def deployment(**overrides: Any) -> bytes:
    return body(
        **{"service": "checkout", "started_at": 1699960648, "finished_at": 1699961048, **overrides}
    )


def failure(**overrides: Any) -> bytes:
    return body(**{"services": ["checkout"], "env": "prod", "started_at": 1699960648, **overrides})


class TestTimestamps:
    @pytest.mark.parametrize(
        "value", [1699960648, 1699960648000, 1699960648000000, 1699960648000000000]
    )
    def test_seconds_millis_micros_and_nanos_are_told_apart(self, value: int) -> None:
        assert from_unix(value) == INSTANT

    def test_sub_second_precision_is_kept_to_the_microsecond(self) -> None:
        assert from_unix(1699960648123456789) == INSTANT.replace(microsecond=123456)
        assert from_unix(1699960648123) == INSTANT.replace(microsecond=123000)

    def test_an_integral_float_is_an_integer(self) -> None:
        assert from_unix(1699960648000.0) == INSTANT

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            (True, "integer"),
            ("1699960648", "integer"),
            ("2023-11-14T11:17:28Z", "integer"),
            (None, "integer"),
            (1.5, "fraction"),
            (0, "positive"),
            (-5, "positive"),
            (10**20, "too large"),
        ],
    )
    def test_refused(self, value: object, reason: str) -> None:
        with pytest.raises(ValueError, match=reason):
            from_unix(value)


class TestDeployments:
    def test_the_body_datadog_ci_sends(self) -> None:
        attributes = parse_deployment(fixture_bytes("datadog", "datadog-ci-deployment.json"))
        spec = deployment_spec(attributes)
        assert spec.service == "checkout"
        assert spec.started_at == INSTANT
        assert spec.finished_at == datetime(2023, 11, 14, 11, 24, 8, tzinfo=UTC)
        assert spec.env == "prod"
        assert spec.version == "1.4.0"
        assert spec.team == "shop"
        assert spec.custom_tags == ["region:eu"]
        assert spec.git == GitInfo(
            repository_url="https://github.com/acme/checkout.git",
            commit_sha="102836a25f5477e571c73d489b3f0f183687068e",
        )

    def test_the_minimal_body_datadog_ci_sends(self) -> None:
        spec = deployment_spec(
            parse_deployment(fixture_bytes("datadog", "datadog-ci-deployment.minimal.json"))
        )
        assert spec.service == "checkout"
        assert spec.env is None
        assert spec.git is None

    def test_the_api_reference_example(self) -> None:
        spec = deployment_spec(
            parse_deployment(fixture_bytes("datadog", "api-reference-deployment.json"))
        )
        assert spec.service == "shopist"
        assert spec.version == "v1.12.07"
        assert spec.started_at == datetime(2023, 8, 31, 14, 26, 14, tzinfo=UTC)

    def test_unknown_attributes_are_ignored(self) -> None:
        assert parse_deployment(deployment(rollback=True)).service == "checkout"

    @pytest.mark.parametrize(
        ("payload", "detail"),
        [
            (b"{", "not valid JSON"),
            (b"{}", "data: Field required"),
            (json.dumps({"data": {}}).encode(), "data.attributes: Field required"),
            (body(started_at=1, finished_at=2), "data.attributes.service: Field required"),
            (deployment(service=""), "data.attributes.service"),
            (deployment(started_at=None), "data.attributes.started_at"),
            (deployment(finished_at="soon"), "data.attributes.finished_at"),
            (deployment(finished_at=1699960000), "finished_at must not be before started_at"),
            (deployment(id="short"), "data.attributes.id"),
            (deployment(id="has spaces in it, see"), "data.attributes.id"),
            (deployment(custom_tags=["novalue"]), "data.attributes.custom_tags.0"),
            (deployment(custom_tags=[f"k:{i}" for i in range(101)]), "data.attributes.custom_tags"),
            (deployment(git={"repository_url": "x", "commit_sha": "main"}), "commit_sha"),
            (deployment(git={"commit_sha": "abcdef1"}), "repository_url"),
            (deployment(env=5), "data.attributes.env"),
        ],
    )
    def test_invalid_bodies_say_which_field(self, payload: bytes, detail: str) -> None:
        with pytest.raises(PayloadError) as refused:
            parse_deployment(payload)
        assert detail in refused.value.detail


class TestDeploymentNames:
    def test_a_retried_post_names_the_same_deployment(self) -> None:
        assert deployment_name(parse_deployment(deployment())) == deployment_name(
            parse_deployment(deployment())
        )
        assert deployment_name(parse_deployment(deployment())).startswith("dd-checkout-")

    def test_another_deployment_another_name(self) -> None:
        first = deployment_name(parse_deployment(deployment()))
        assert first != deployment_name(parse_deployment(deployment(finished_at=1699961049)))
        assert first != deployment_name(parse_deployment(deployment(env="staging")))

    def test_the_senders_id_names_it(self) -> None:
        named = parse_deployment(deployment(id="build-2024-0001-abc"))
        assert deployment_name(named) == "dd-build-2024-0001-abc"

    def test_ids_that_differ_in_case_or_punctuation_stay_apart(self) -> None:
        names = {
            deployment_name(parse_deployment(deployment(id=i)))
            for i in ["Build:2024.0001_ABC", "build:2024.0001_abc", "build-2024-0001-abc"]
        }
        assert len(names) == 3


class TestFailures:
    def test_the_api_reference_example(self) -> None:
        spec = failure_spec(
            None, parse_failure(fixture_bytes("datadog", "api-reference-failure.json"))
        )
        assert spec.services == ["shopist"]
        assert spec.team == "backend"
        assert spec.env == "staging"
        assert spec.severity == "High"
        assert spec.name == "Webserver is down failing all requests."
        assert spec.custom_tags == ["language:java", "department:engineering"]
        assert spec.source == FailureSource.API
        assert spec.finished_at is not None
        assert spec.finished_at > spec.started_at

    def test_a_team_alone_identifies_a_failure(self) -> None:
        spec = failure_spec(None, parse_failure(body(team="shop", started_at=1699960648)))
        assert spec.services == []
        assert spec.team == "shop"

    def test_a_resolution_updates_what_it_gives_and_keeps_the_rest(self) -> None:
        started = failure_spec(None, parse_failure(failure(name="Checkout down", severity="SEV-1")))
        resolved = failure_spec(started, parse_failure(failure(finished_at=1699962648)))
        assert resolved.name == "Checkout down"
        assert resolved.severity == "SEV-1"
        assert resolved.finished_at == datetime(2023, 11, 14, 11, 50, 48, tzinfo=UTC)
        assert resolved.started_at == INSTANT

    def test_a_finish_wins_over_an_active_state(self) -> None:
        started = failure_spec(None, parse_failure(failure())).model_copy(
            update={"state": FailureState.ACTIVE}
        )
        resolved = failure_spec(started, parse_failure(failure(finished_at=1699962648)))
        assert resolved.state == FailureState.RESOLVED

    @pytest.mark.parametrize(
        ("payload", "detail"),
        [
            (body(started_at=1699960648), "services or team is required"),
            (body(services=[], team="", started_at=1699960648), "services or team is required"),
            (failure(started_at=None), "data.attributes.started_at"),
            (failure(finished_at=1), "finished_at must not be before started_at"),
            (failure(services="checkout"), "data.attributes.services"),
            (failure(services=[""]), "data.attributes.services.0"),
        ],
    )
    def test_invalid_bodies_say_which_field(self, payload: bytes, detail: str) -> None:
        with pytest.raises(PayloadError) as refused:
            parse_failure(payload)
        assert detail in refused.value.detail


class TestFailureIdentity:
    def name(self, payload: bytes) -> str:
        return failure_name(parse_failure(payload))

    def test_same_env_services_and_second_is_the_same_failure(self) -> None:
        first = self.name(failure(started_at=1699960648000))
        assert self.name(failure(started_at=1699960648999)) == first
        assert self.name(failure(started_at=1699960648, finished_at=1699962648)) == first

    def test_service_order_does_not_matter(self) -> None:
        assert self.name(failure(services=["a", "b"])) == self.name(failure(services=["b", "a"]))

    @pytest.mark.parametrize(
        "other",
        [
            {"env": "staging"},
            {"services": ["payments"]},
            {"started_at": 1699960649},
            {"services": ["checkout", "payments"]},
        ],
    )
    def test_any_other_env_service_or_second_is_another(self, other: dict[str, Any]) -> None:
        assert self.name(failure(**other)) != self.name(failure())
