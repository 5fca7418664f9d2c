"""The six PagerDuty matching rules, their ties and conflicts, and the catalog
tags every failure gets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kubedora.matching import (
    EMPTY_CATALOG,
    MONITOR,
    PAGERDUTY,
    SERVICE_NAME,
    SERVICE_NAME_AS_TEAM,
    SERVICE_URL,
    SPEC,
    TEAM_NAME,
    Catalog,
    attribute_failure,
    deployment_team,
)
from kubedora.models import Attribution, DeploymentSpec, FailureSpec
from tests.unit.matching.builders import PD, T0, entry, pagerduty_failure

CHECKOUT = entry(
    "checkout", "shop", url=f"{PD}/PCHECK", languages=["python", "go"], tags=["tier:1"]
)
# Two services behind one PagerDuty service, of one team.
CART = entry("cart", "shop", url=f"{PD}/PSHOP", tags=["tier:2"])
BASKET = entry("basket", "shop", url=f"{PD}/PSHOP")
# Two services behind one PagerDuty service, of two teams.
LEDGER = entry("ledger", "finance", url=f"{PD}/PSHARED")
INVOICES = entry("invoices", "billing", url=f"{PD}/PSHARED")
# "platform" is a service (of infra) and a team (of deployer).
PLATFORM = entry("platform", "infra")
DEPLOYER = entry("deployer", "platform")

CATALOG = Catalog.of([CHECKOUT, CART, BASKET, LEDGER, INVOICES, PLATFORM, DEPLOYER])


def attribute(spec: FailureSpec, previous: Attribution | None = None) -> Attribution:
    return attribute_failure(spec, previous, CATALOG)


def where(attribution: Attribution) -> tuple[list[str], str | None, str | None, str]:
    return (attribution.services, attribution.team, attribution.env, attribution.matched_by)


# Rule 1: the monitor's tags.


def test_monitor_tags_give_env_services_and_team() -> None:
    spec = pagerduty_failure(
        service_name="Checkout PD",
        teams=["Web"],
        monitor_tags=["env:prod", "service:checkout", "service:payments", "team:shop"],
        env="staging",
    )
    assert where(attribute(spec)) == (["checkout", "payments"], "shop", "prod", MONITOR)


def test_monitor_services_take_the_catalog_spelling_and_team() -> None:
    spec = pagerduty_failure(service_name="x", monitor_tags=["service:CheckOut"], env="prod")
    assert where(attribute(spec)) == (["checkout"], "shop", "prod", MONITOR)


def test_two_monitor_teams_or_envs_are_no_evidence_of_either() -> None:
    spec = pagerduty_failure(
        service_name="x",
        monitor_tags=["service:checkout", "team:a", "team:b", "env:prod", "env:dev"],
        env="staging",
    )
    # The team falls back to the service's catalog team, the env to the spec's.
    assert where(attribute(spec)) == (["checkout"], "shop", "staging", MONITOR)


def test_a_single_monitor_team_alone_decides() -> None:
    spec = pagerduty_failure(service_name="Checkout PD", monitor_tags=["team:SHOP"])
    assert where(attribute(spec)) == ([], "shop", None, MONITOR)


def test_monitor_tags_without_service_or_team_leave_it_to_the_other_rules() -> None:
    spec = pagerduty_failure(
        service_name="checkout", monitor_tags=["env:prod", "region:eu"], env="staging"
    )
    # Rule 3 decides; the env tag still tells the env.
    assert where(attribute(spec)) == (["checkout"], "shop", "prod", SERVICE_NAME)


# Rule 2: the PagerDuty service URL.


def test_one_url_match_gives_its_service_and_team() -> None:
    spec = pagerduty_failure(service_name="Checkout PD", service_url=f"{PD}/PCHECK")
    assert where(attribute(spec)) == (["checkout"], "shop", None, SERVICE_URL)


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.pagerduty.com/services/PCHECK/",
        "HTTPS://ACME.PagerDuty.com/services/pcheck",
        "https://acme.pagerduty.com/services/PCHECK//?tab=integrations#top",
        "https://acme.pagerduty.com:443/service-directory/PCHECK",
        "http://acme.pagerduty.com/services/PCHECK",
    ],
)
def test_url_case_and_trailing_slashes_do_not_matter(url: str) -> None:
    spec = pagerduty_failure(service_name="Checkout PD", service_url=url)
    assert where(attribute(spec)) == (["checkout"], "shop", None, SERVICE_URL)


def test_a_different_host_is_a_different_url() -> None:
    spec = pagerduty_failure(
        service_name="Checkout PD", service_url="https://other.pagerduty.com/services/PCHECK"
    )
    assert attribute(spec).matched_by == PAGERDUTY


def test_several_url_matches_of_one_team_give_the_team() -> None:
    spec = pagerduty_failure(service_name="Shop PD", service_url=f"{PD}/PSHOP")
    attribution = attribute(spec)
    assert where(attribution) == ([], "shop", None, SERVICE_URL)
    # Both entries matched: their tags come along.
    assert attribution.custom_tags == ["tier:2"]


def test_several_url_matches_of_two_teams_fall_through_to_the_next_rules() -> None:
    to_name = pagerduty_failure(service_name="ledger", service_url=f"{PD}/PSHARED")
    assert where(attribute(to_name)) == (["ledger"], "finance", None, SERVICE_NAME)
    to_nothing = pagerduty_failure(
        service_name="Money PD", teams=["Money"], service_url=f"{PD}/PSHARED"
    )
    assert where(attribute(to_nothing)) == (["Money PD"], "Money", None, PAGERDUTY)


def test_url_match_wins_over_service_name() -> None:
    spec = pagerduty_failure(service_name="ledger", service_url=f"{PD}/PCHECK")
    assert where(attribute(spec)) == (["checkout"], "shop", None, SERVICE_URL)


# Rule 3: the PagerDuty service name is a catalog service.


def test_service_name_gives_service_and_team() -> None:
    spec = pagerduty_failure(service_name=" Checkout ", teams=["Web"], env="prod")
    assert where(attribute(spec)) == (["checkout"], "shop", "prod", SERVICE_NAME)


def test_a_name_that_is_a_service_and_a_team_matches_the_service() -> None:
    spec = pagerduty_failure(service_name="platform")
    assert where(attribute(spec)) == (["platform"], "infra", None, SERVICE_NAME)


def test_entries_of_one_service_that_disagree_on_the_team_give_no_team() -> None:
    catalog = Catalog.of(
        [entry("search", "a"), entry("search", "b", kind="Deployment", name="search-api")]
    )
    spec = pagerduty_failure(service_name="search")
    assert where(attribute_failure(spec, None, catalog)) == (["search"], None, None, SERVICE_NAME)


# Rule 4: a PagerDuty team is a catalog team.


def test_the_first_pagerduty_team_in_the_catalog_gives_the_team() -> None:
    spec = pagerduty_failure(service_name="Web PD", teams=["Web", "Finance", "Shop"])
    assert where(attribute(spec)) == ([], "finance", None, TEAM_NAME)


def test_a_team_name_wins_over_the_service_name_as_a_team() -> None:
    spec = pagerduty_failure(service_name="shop", teams=["Billing"])
    assert where(attribute(spec)) == ([], "billing", None, TEAM_NAME)


# Rule 5: the PagerDuty service name is a catalog team.


def test_service_name_as_team() -> None:
    spec = pagerduty_failure(service_name="Shop", teams=["Web"])
    assert where(attribute(spec)) == ([], "shop", None, SERVICE_NAME_AS_TEAM)


# Rule 6: nothing matched.


def test_otherwise_the_pagerduty_service_and_team_as_they_are() -> None:
    spec = pagerduty_failure(service_name="Legacy PD", teams=["Ops", "Web"], env="prod")
    assert where(attribute(spec)) == (["Legacy PD"], "Ops", "prod", PAGERDUTY)


def test_without_a_pagerduty_service_name_rule_6_keeps_the_spec() -> None:
    spec = pagerduty_failure(team="ops", services=["legacy"])
    assert where(attribute(spec)) == (["legacy"], "ops", None, PAGERDUTY)


# Stickiness and catalog changes.


def test_a_resolve_without_monitor_tags_keeps_the_monitor_attribution() -> None:
    trigger = pagerduty_failure(
        service_name="Checkout PD",
        service_url=f"{PD}/PSHOP",
        monitor_tags=["env:prod", "service:checkout"],
        customTags=["region:eu"],
    )
    triggered = attribute(trigger)
    assert where(triggered) == (["checkout"], "shop", "prod", MONITOR)

    resolve = pagerduty_failure(
        service_name="Checkout PD",
        service_url=f"{PD}/PSHOP",
        finishedAt=T0 + timedelta(minutes=5),
        customTags=["region:eu"],
    )
    # Without the memory, rule 2 would decide; with it, rule 1's answer stays.
    assert attribute(resolve).matched_by == SERVICE_URL
    assert attribute(resolve, triggered) == triggered


def test_new_monitor_tags_replace_an_earlier_monitor_attribution() -> None:
    earlier = attribute(pagerduty_failure(service_name="x", monitor_tags=["service:checkout"]))
    later = attribute(pagerduty_failure(service_name="x", monitor_tags=["service:ledger"]), earlier)
    assert where(later) == (["ledger"], "finance", None, MONITOR)


def test_only_the_monitor_rule_is_sticky() -> None:
    spec = pagerduty_failure(service_name="checkout")
    matched = attribute(spec)
    assert matched.matched_by == SERVICE_NAME
    # The entry is gone: the failure falls back, it does not keep a stale match.
    assert where(attribute_failure(spec, matched, EMPTY_CATALOG)) == (
        ["checkout"],
        None,
        None,
        PAGERDUTY,
    )


def test_a_catalog_entry_added_after_the_failure_matches_it() -> None:
    spec = pagerduty_failure(
        service_name="Orders PD", service_url=f"{PD}/PORDERS", teams=["Web"], env="prod"
    )
    before = attribute_failure(spec, None, CATALOG)
    assert where(before) == (["Orders PD"], "Web", "prod", PAGERDUTY)

    orders = entry("orders", "fulfilment", url=f"{PD}/PORDERS/", languages=["java"])
    after = attribute_failure(spec, before, Catalog.of([CHECKOUT, orders]))
    assert where(after) == (["orders"], "fulfilment", "prod", SERVICE_URL)
    assert after.custom_tags == ["language:java"]


# Catalog tags on every failure.


def test_catalog_languages_and_tags_are_added_and_the_failures_own_win() -> None:
    spec = pagerduty_failure(
        service_name="checkout", customTags=["tier:0", "region:eu"], severity="P1"
    )
    attribution = attribute(spec)
    assert attribution.custom_tags == ["tier:0", "region:eu", "language:python", "language:go"]
    assert attribution.severity == "P1"
    own_language = attribute(pagerduty_failure(service_name="checkout", customTags=["language:c"]))
    assert own_language.custom_tags == ["language:c", "tier:1"]


def test_team_only_rules_add_no_catalog_tags() -> None:
    assert attribute(pagerduty_failure(service_name="x", teams=["shop"])).custom_tags == []


def test_non_pagerduty_failures_keep_their_spec_and_get_catalog_tags() -> None:
    spec = FailureSpec.model_validate(
        {"services": ["checkout", "cart"], "team": "web", "env": "prod", "startedAt": T0}
    )
    attribution = attribute(spec)
    assert where(attribution) == (["checkout", "cart"], "web", "prod", SPEC)
    assert attribution.custom_tags == ["language:python", "language:go", "tier:1", "tier:2"]


def test_a_spec_failure_without_team_takes_its_services_catalog_team() -> None:
    both_shop = FailureSpec.model_validate({"services": ["checkout", "cart"], "startedAt": T0})
    assert where(attribute(both_shop)) == (["checkout", "cart"], "shop", None, SPEC)
    two_teams = FailureSpec.model_validate({"services": ["checkout", "ledger"], "startedAt": T0})
    assert attribute(two_teams).team is None


def test_a_pagerduty_source_without_pagerduty_context_is_matched_like_the_spec() -> None:
    # The CRD refuses it; a model built in code may still lack the context.
    spec = FailureSpec.model_validate({"source": "pagerduty", "team": "ops", "startedAt": T0})
    assert where(attribute(spec)) == ([], "ops", None, SPEC)


# Deployments.


def test_a_deployment_without_team_takes_its_service_catalog_team() -> None:
    def spec(**fields: object) -> DeploymentSpec:
        return DeploymentSpec.model_validate(
            {"startedAt": T0, "finishedAt": T0 + timedelta(minutes=3), **fields}
        )

    assert deployment_team(spec(service="Checkout"), CATALOG) == "shop"
    assert deployment_team(spec(service="checkout", team="web"), CATALOG) == "web"
    assert deployment_team(spec(service="unknown"), CATALOG) is None
