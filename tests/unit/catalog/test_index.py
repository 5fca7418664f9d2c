"""Index values: failures and deployments under the keys they depend on."""

from __future__ import annotations

from typing import Any

from kubedora.catalog.index import ObjectRef, deployment_dependents, failure_dependents
from kubedora.matching import service_key, team_key, url_key
from kubedora.models import DEPLOYMENTS, FAILURES

URL = "https://acme.pagerduty.com/services/P1"


def failure(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "f", "namespace": "ops"},
        "spec": {"startedAt": "2026-11-01T12:00:00Z", **spec},
        "status": status,
    }


def test_a_pagerduty_failure_is_indexed_under_rules_2_to_5() -> None:
    values = failure_dependents(
        failure(
            source="pagerduty",
            services=["Checkout PD"],
            pagerduty={
                "incidentId": "Q1",
                "serviceName": "Checkout PD",
                "serviceUrl": URL,
                "teams": ["Web"],
            },
        )
    )
    ref = ObjectRef(FAILURES, "ops", "f")
    assert values == {
        service_key("Checkout PD"): ref,
        team_key("Checkout PD"): ref,
        team_key("Web"): ref,
        url_key(URL): ref,
    }


def test_a_sticky_monitor_failure_is_indexed_under_its_services() -> None:
    values = failure_dependents(
        failure(
            {"attribution": {"services": ["checkout"], "matchedBy": "monitor"}},
            source="pagerduty",
            team="web",
            pagerduty={"incidentId": "Q1", "teams": ["Web"]},
        )
    )
    assert values == {service_key("checkout"): ObjectRef(FAILURES, "ops", "f")}


def test_failures_that_cannot_depend_on_the_catalog_are_not_indexed() -> None:
    assert failure_dependents(failure(team="shop")) is None
    assert failure_dependents(failure(services="not a list")) is None
    assert (
        failure_dependents({"spec": {"team": "shop", "startedAt": "2026-11-01T12:00:00Z"}}) is None
    )


def test_deployments_are_indexed_only_without_a_team() -> None:
    def deployment(**spec: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": "d", "namespace": "ops"},
            "spec": {
                "service": "checkout",
                "startedAt": "2026-11-01T12:00:00Z",
                "finishedAt": "2026-11-01T12:05:00Z",
                **spec,
            },
        }

    assert deployment_dependents(deployment()) == {
        service_key("checkout"): ObjectRef(DEPLOYMENTS, "ops", "d")
    }
    assert deployment_dependents(deployment(team="shop")) is None
