"""The catalog lookups, over indexes fed as the operator feeds them
(KeyedIndex, one per annotated kind) and over plain mappings."""

from __future__ import annotations

import functools
from typing import Any

from kubedora.catalog.index import catalog_values
from kubedora.k8s.informer import KeyedIndex
from kubedora.matching import Catalog, CatalogKey
from kubedora.models import CatalogEntry, CatalogSource


def body(name: str, namespace: str = "shop", **annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "annotations": {
                f"kubedora.io/{key.replace('_', '-')}": v for key, v in annotations.items()
            },
        }
    }


def indexed(kind: str, *bodies: dict[str, Any]) -> KeyedIndex[CatalogKey, CatalogEntry]:
    """The index an informer of that kind keeps."""
    index: KeyedIndex[CatalogKey, CatalogEntry] = KeyedIndex(
        functools.partial(catalog_values, kind)
    )
    for item in bodies:
        index.upsert(item["metadata"]["uid"], item, listed=True)
    return index


def test_lookups_find_entries_of_every_kind_in_a_stable_order() -> None:
    services = indexed(
        "Service",
        body(
            "checkout",
            service="checkout",
            team="shop",
            pagerduty_service_url="https://a.pagerduty.com/services/P1",
        ),
        body("web", namespace="front", service="Checkout"),
    )
    deployments = indexed("Deployment", body("checkout-api", service="checkout", team="shop"))
    catalog = Catalog([services, deployments])

    found = catalog.by_service("CHECKOUT")
    assert [(e.source.kind, e.source.namespace, e.source.name) for e in found] == [
        ("Deployment", "shop", "checkout-api"),
        ("Service", "front", "web"),
        ("Service", "shop", "checkout"),
    ]
    assert [
        e.source.name for e in catalog.by_pagerduty_url("https://A.pagerduty.com/services/p1/")
    ] == ["checkout"]
    assert catalog.team("Shop") == "shop"
    assert catalog.by_service("unknown") == ()
    assert catalog.by_pagerduty_url("not a url") == ()
    assert catalog.team("nobody") is None


def test_an_object_that_loses_its_annotation_leaves_the_index() -> None:
    annotated = body("checkout", service="checkout", team="shop")
    index = indexed("Service", annotated)
    catalog = Catalog([index])
    assert catalog.team("shop") == "shop"

    index.delete("uid-shop-checkout", annotated)
    assert catalog.by_service("checkout") == ()
    assert catalog.team("shop") is None


def test_a_team_is_spelled_as_its_first_entry_in_order_whatever_order_it_was_seen_in() -> None:
    # Two spellings of one team; the operator may see either object first.
    later = body("zeta", namespace="z", service="zeta", team="Shop")
    first = body("alpha", namespace="a", service="alpha", team="shop")
    for seen in ((later, first), (first, later)):
        assert Catalog([indexed("Service", *seen)]).team("SHOP") == "shop"
        entries = [catalog_values("Service", item) for item in seen]
        plain = Catalog.of(next(iter(values.values())) for values in entries if values)
        assert plain.team("SHOP") == "shop"


def test_entries_across_kinds_are_ordered_by_kind_namespace_and_name() -> None:
    def entry(kind: str, namespace: str, name: str, team: str) -> CatalogEntry:
        return CatalogEntry(
            service=name, team=team, source=CatalogSource(kind=kind, namespace=namespace, name=name)
        )

    catalog = Catalog.of(
        [entry("Service", "a", "web", "Ops"), entry("DaemonSet", "z", "agent", "ops")]
    )
    # DaemonSet sorts before Service.
    assert catalog.team("OPS") == "ops"


def test_plain_mappings_serve_as_indexes_too() -> None:
    values = catalog_values("Service", body("a", service="a", team="t"))
    assert values is not None
    index: dict[CatalogKey, list[CatalogEntry]] = {key: [value] for key, value in values.items()}
    assert Catalog([index]).team("T") == "t"
