"""Failure and Deployment status with a catalog, and the facts the scoreboard
then counts: the index must count a failure where its status says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubedora.handlers import reconcile
from kubedora.handlers.catalog_follower import Rematcher
from kubedora.handlers.facts import deployment_fact, failure_fact
from kubedora.matching import Catalog
from kubedora.models import (
    CatalogEntry,
    CatalogSource,
    DeploymentSpec,
    DeploymentStatus,
    FailureSpec,
    FailureStatus,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CATALOG = Catalog.of(
    [
        CatalogEntry(
            service="checkout",
            team="shop",
            pagerduty_service_url="https://acme.pagerduty.com/services/p1",
            languages=("python",),
            source=CatalogSource(kind="Service", namespace="shop", name="checkout"),
        )
    ]
)


def failure_body(spec: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"spec": {"startedAt": T0.isoformat(), **spec}}
    parsed = FailureSpec.model_validate(body["spec"])
    status = reconcile.failure_status(parsed, FailureStatus(), 1, T0, catalog=CATALOG)
    body["status"] = status.to_wire()
    return body


def test_a_matched_failure_counts_where_its_status_says() -> None:
    body = failure_body(
        {
            "source": "pagerduty",
            "services": ["Checkout PD"],
            "team": "Web",
            "env": "prod",
            "pagerduty": {
                "incidentId": "Q1",
                "serviceName": "Checkout PD",
                "serviceUrl": "https://acme.pagerduty.com/services/P1/",
                "teams": ["Web"],
            },
        }
    )
    assert body["status"]["attribution"] == {
        "services": ["checkout"],
        "team": "shop",
        "env": "prod",
        "severity": None,
        "customTags": ["language:python"],
        "matchedBy": "service-url",
    }
    fact = failure_fact(body)
    assert fact is not None
    assert (fact.services, fact.team, fact.env) == (("checkout",), "shop", "prod")


def test_before_its_status_is_written_a_failure_counts_as_its_spec_says() -> None:
    fact = failure_fact(
        {
            "spec": {
                "source": "pagerduty",
                "services": ["Checkout PD"],
                "team": "Web",
                "startedAt": T0.isoformat(),
                "pagerduty": {"incidentId": "Q1", "serviceName": "Checkout PD"},
            }
        }
    )
    assert fact is not None
    assert (fact.services, fact.team) == (("Checkout PD",), "Web")


def test_a_spec_failure_without_team_counts_under_the_catalog_team() -> None:
    body = failure_body({"services": ["checkout"], "env": "prod"})
    assert body["status"]["attribution"]["matchedBy"] == "spec"
    assert body["status"]["attribution"]["team"] == "shop"
    fact = failure_fact(body)
    assert fact is not None
    assert (fact.services, fact.team, fact.env) == (("checkout",), "shop", "prod")
    # The spec's own team wins over what the status last said.
    body["spec"]["team"] = "web"
    fact = failure_fact(body)
    assert fact is not None
    assert fact.team == "web"


def test_a_deployment_without_team_takes_and_counts_the_catalog_team() -> None:
    spec = DeploymentSpec(service="checkout", started_at=T0, finished_at=T0 + timedelta(minutes=4))
    status = reconcile.deployment_status(spec, DeploymentStatus(), 1, T0, catalog=CATALOG)
    assert status.team == "shop"
    fact = deployment_fact({"spec": spec.to_wire(), "status": status.to_wire()})
    assert fact is not None
    assert fact.team == "shop"
    owned = spec.model_copy(update={"team": "web"})
    assert reconcile.deployment_status(owned, status, 2, T0, catalog=CATALOG).team == "web"


def test_rematch_stamps_always_increase() -> None:
    rematcher = Rematcher()
    stamps = [rematcher._stamp() for _ in range(1000)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
