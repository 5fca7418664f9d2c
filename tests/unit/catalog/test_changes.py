"""Which catalog keys an edit of an annotated object affects."""

from __future__ import annotations

from kubedora.catalog.annotations import ParsedEntry, parse_entry
from kubedora.catalog.changes import CatalogMemory
from kubedora.matching import service_key, team_key, url_key

URL = "https://acme.pagerduty.com/services/P1"


def parsed(**annotations: str) -> ParsedEntry:
    found = parse_entry(
        "Service",
        "shop",
        "checkout",
        {f"kubedora.io/{key.replace('_', '-')}": value for key, value in annotations.items()},
    )
    assert found is not None
    return found


def test_objects_in_the_initial_listing_change_nothing() -> None:
    memory = CatalogMemory()
    change = memory.update("u1", parsed(service="checkout", team="shop"), listed=True)
    assert change.keys == frozenset()
    assert memory.knows("u1")


def test_a_new_entry_affects_its_keys() -> None:
    change = CatalogMemory().update(
        "u1", parsed(service="checkout", team="shop", pagerduty_service_url=URL), listed=False
    )
    assert change.keys == {service_key("checkout"), team_key("shop"), url_key(URL)}


def test_an_edit_affects_the_old_and_the_new_keys() -> None:
    memory = CatalogMemory()
    memory.update("u1", parsed(service="checkout", team="shop"), listed=True)
    change = memory.update("u1", parsed(service="checkout", team="payments"), listed=False)
    assert change.keys == {service_key("checkout"), team_key("shop"), team_key("payments")}


def test_an_unchanged_entry_affects_nothing() -> None:
    memory = CatalogMemory()
    memory.update("u1", parsed(service="checkout"), listed=True)
    assert memory.update("u1", parsed(service="checkout"), listed=False).keys == frozenset()
    # Written differently, read the same: nothing to re-match.
    assert memory.update("u1", parsed(service=" checkout "), listed=False).keys == frozenset()


def test_removal_and_deletion_affect_the_old_keys() -> None:
    memory = CatalogMemory()
    memory.update("u1", parsed(service="checkout", team="shop"), listed=True)
    assert memory.update("u1", None, listed=False).keys == {
        service_key("checkout"),
        team_key("shop"),
    }
    assert not memory.knows("u1")
    memory.update("u2", parsed(service="cart"), listed=True)
    assert memory.forget("u2").keys == {service_key("cart")}
    assert memory.forget("u2").keys == frozenset()
    assert len(memory) == 0


def test_problems_are_reported_when_they_show_or_change() -> None:
    memory = CatalogMemory()
    first = memory.update("u1", parsed(service="a", tags="bad"), listed=True)
    assert first.problems == ("kubedora.io/tags: 'bad' is not key:value; skipped it",)
    assert memory.update("u1", parsed(service="a", tags="bad"), listed=False).problems == ()
    again = memory.update("u1", parsed(service="a", tags="worse"), listed=False)
    assert again.problems == ("kubedora.io/tags: 'worse' is not key:value; skipped it",)
    # The entry itself did not change: nothing to re-match.
    assert again.keys == frozenset()
    fixed = memory.update("u1", parsed(service="a", tags="ok:1"), listed=False)
    assert fixed.problems == ()
    assert memory.update("u1", parsed(service="a", tags="worse"), listed=False).problems == (
        "kubedora.io/tags: 'worse' is not key:value; skipped it",
    )
