"""A failure linked to the deployment it most likely followed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedora.metrics import Finished, linked_deployment, timelines

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def hours(value: float) -> datetime:
    return T0 + timedelta(hours=value)


GROUPS = timelines(
    [
        ("checkout", "prod", Finished(hours(-30), "checkout-old")),
        ("checkout", "prod", Finished(hours(-2), "checkout-2")),
        ("checkout", "prod", Finished(hours(1), "checkout-after")),
        ("checkout", "staging", Finished(hours(-0.5), "checkout-staging")),
        ("search", "prod", Finished(hours(-1), "search-1")),
        ("cart", "prod", Finished(hours(-25), "cart-old")),
    ]
)


def test_the_last_deployment_before_the_start_of_one_of_its_services() -> None:
    assert linked_deployment(["checkout"], "prod", T0, GROUPS) == "checkout-2"
    assert linked_deployment(["checkout", "search"], "prod", T0, GROUPS) == "search-1"


def test_never_another_env_or_service_and_never_outside_the_window() -> None:
    assert linked_deployment(["payments"], "prod", T0, GROUPS) is None
    assert linked_deployment(["cart"], "prod", T0, GROUPS) is None
    assert linked_deployment(["cart"], "prod", T0, GROUPS, timedelta(hours=26)) == "cart-old"
    assert linked_deployment(["checkout"], "staging", T0, GROUPS) == "checkout-staging"
    assert linked_deployment(["checkout"], None, T0, GROUPS) is None
    assert linked_deployment(["checkout"], "prod", hours(-40), GROUPS) is None
