"""The catalog lookups over the operator's indexes, one per annotated kind."""

from __future__ import annotations

from typing import Any

from kopf._cogs.structs.references import NamespaceName
from kopf._core.engines.indexing import OperatorIndexer

from kubedora.catalog import IndexedCatalog, catalog_values
from kubedora.matching import CatalogKey
from kubedora.models import CatalogEntry


def body(name: str, namespace: str = "shop", uid: str | None = None, **annotations: str) -> Any:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{namespace}-{name}",
            "annotations": {
                f"kubedora.io/{key.replace('_', '-')}": v for key, v in annotations.items()
            },
        }
    }


def indexed(kind: str, *bodies: Any) -> OperatorIndexer:
    """kopf's own index, fed the way kopf feeds it."""
    indexer = OperatorIndexer()
    for item in bodies:
        values = catalog_values(kind, item)
        key = (item["metadata"]["namespace"], item["metadata"]["name"], item["metadata"]["uid"])
        if values is None:
            indexer.discard(key)
        else:
            indexer.replace(key, values)
    return indexer


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
    catalog = IndexedCatalog([services.index, deployments.index])

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
    indexer = indexed("Service", annotated)
    catalog = IndexedCatalog([indexer.index])
    assert catalog.team("shop") == "shop"

    indexer.discard((NamespaceName("shop"), "checkout", "uid-shop-checkout"))
    assert catalog.by_service("checkout") == ()
    assert catalog.team("shop") is None


def test_plain_mappings_serve_as_indexes_too() -> None:
    values = catalog_values("Service", body("a", service="a", team="t"))
    assert values is not None
    index: dict[CatalogKey, list[CatalogEntry]] = {key: [value] for key, value in values.items()}
    assert IndexedCatalog([index]).team("T") == "t"
