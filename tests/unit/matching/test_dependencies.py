"""An attribution depends only on the catalog keys failure_dependencies names:
the operator re-matches an object when the catalog changes under those keys,
so a key consulted but not named would leave a stale attribution."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kubedora.matching import (
    RULES,
    SPEC,
    Catalog,
    CatalogKey,
    attribute_failure,
    deployment_dependencies,
    failure_dependencies,
    service_key,
    team_key,
    url_key,
)
from kubedora.models import Attribution, CatalogEntry, DeploymentSpec, FailureSpec
from tests.unit.matching.builders import PD, T0, entry, pagerduty_failure

NAMES = ["checkout", "Checkout", "cart", "shop", "Shop", "platform", "ops"]
URLS = [f"{PD}/P1", f"{PD}/p1/", f"{PD}/P2", "not a url"]


class RecordingCatalog:
    """A catalog that remembers every key it was asked for."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.consulted: set[CatalogKey] = set()

    def by_service(self, name: str) -> tuple[CatalogEntry, ...]:
        self.consulted.add(service_key(name))
        return self.catalog.by_service(name)

    def by_pagerduty_url(self, url: str) -> tuple[CatalogEntry, ...]:
        key = url_key(url)
        if key is not None:
            self.consulted.add(key)
        return self.catalog.by_pagerduty_url(url)

    def team(self, name: str) -> str | None:
        self.consulted.add(team_key(name))
        return self.catalog.team(name)


names = st.sampled_from(NAMES)
entries = st.builds(
    lambda service, team, url, n: entry(service, team, url=url, name=f"o{n}"),
    names,
    st.none() | names,
    st.none() | st.sampled_from(URLS[:3]),
    st.integers(0, 5),
)
tags = st.lists(
    st.builds(lambda k, v: f"{k}:{v}", st.sampled_from(["service", "team", "env", "x"]), names),
    max_size=4,
)


@st.composite
def failures(draw: st.DrawFn) -> FailureSpec:
    if draw(st.booleans()):
        return FailureSpec.model_validate(
            {
                "services": draw(st.lists(names, min_size=1, max_size=3)),
                "team": draw(st.none() | names),
                "startedAt": T0,
            }
        )
    return pagerduty_failure(
        service_name=draw(st.none() | names),
        service_url=draw(st.none() | st.sampled_from(URLS)),
        teams=draw(st.lists(names, max_size=2)),
        monitor_tags=draw(tags),
        team="fallback",
    )


previous = st.none() | st.builds(
    lambda services, team, matched_by: Attribution(
        services=services, team=team, matched_by=matched_by
    ),
    st.lists(names, max_size=2),
    st.none() | names,
    st.sampled_from([SPEC, *RULES]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(entries, max_size=8), failures(), previous)
def test_matching_consults_only_the_keys_it_depends_on(
    catalog: list[CatalogEntry], spec: FailureSpec, earlier: Attribution | None
) -> None:
    recording = RecordingCatalog(Catalog.of(catalog))
    attribute_failure(spec, earlier, recording)
    assert recording.consulted <= failure_dependencies(spec, earlier)


def test_a_monitor_attribution_depends_on_its_services_only() -> None:
    spec = pagerduty_failure(service_name="Checkout PD", service_url=f"{PD}/P1", teams=["Web"])
    sticky = Attribution(services=["checkout"], team="shop", matched_by="monitor")
    assert failure_dependencies(spec, sticky) == {service_key("checkout")}
    assert failure_dependencies(spec, None) == {
        service_key("Checkout PD"),
        team_key("Checkout PD"),
        team_key("Web"),
        url_key(f"{PD}/P1"),
    }


def test_a_deployment_depends_on_the_catalog_only_without_a_team() -> None:
    def spec(**fields: object) -> DeploymentSpec:
        return DeploymentSpec.model_validate(
            {"service": "checkout", "startedAt": T0, "finishedAt": T0 + timedelta(1), **fields}
        )

    assert deployment_dependencies(spec()) == {service_key("checkout")}
    assert deployment_dependencies(spec(team="shop")) == frozenset()
