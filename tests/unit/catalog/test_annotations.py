"""Reading catalog entries from `kubedora.io/` annotations."""

from __future__ import annotations

from dataclasses import asdict

from kubedora.catalog.annotations import parse_entry
from kubedora.models import CatalogSource


def test_an_object_without_the_service_annotation_is_no_entry() -> None:
    assert parse_entry("Service", "shop", "web", {"kubedora.io/team": "shop"}) is None


def test_every_annotation_is_read() -> None:
    parsed = parse_entry(
        "Service",
        "shop",
        "checkout-svc",
        {
            "kubedora.io/service": " checkout ",
            "kubedora.io/team": "shop",
            "kubedora.io/pagerduty-service-url": "https://Acme.PagerDuty.com/services/PF9KMXH/",
            "kubedora.io/languages": "Python, go,,python",
            "kubedora.io/tags": "tier:1, owner:shop ,",
            "unrelated": "x",
        },
    )
    assert parsed is not None
    assert parsed.problems == ()
    assert asdict(parsed.entry) == {
        "service": "checkout",
        "team": "shop",
        "pagerduty_service_url": "https://acme.pagerduty.com/services/pf9kmxh",
        "languages": ("python", "go"),
        "tags": ("tier:1", "owner:shop"),
        "source": {"kind": "Service", "namespace": "shop", "name": "checkout-svc"},
    }


def test_an_empty_service_annotation_means_the_objects_name() -> None:
    parsed = parse_entry("StatefulSet", "data", "ledger", {"kubedora.io/service": ""})
    assert parsed is not None
    assert parsed.entry.service == "ledger"
    assert parsed.entry.team is None
    assert parsed.entry.source == CatalogSource(kind="StatefulSet", namespace="data", name="ledger")


def test_malformed_parts_are_skipped_and_reported() -> None:
    parsed = parse_entry(
        "Deployment",
        "shop",
        "cart",
        {
            "kubedora.io/service": "cart",
            "kubedora.io/team": "shop",
            "kubedora.io/pagerduty-service-url": "PF9KMXH",
            "kubedora.io/tags": "tier:1,tier1,:nokey,ok:",
        },
    )
    assert parsed is not None
    assert parsed.entry.team == "shop"
    assert parsed.entry.pagerduty_service_url is None
    assert parsed.entry.tags == ("tier:1", "ok:")
    assert parsed.problems == (
        "kubedora.io/pagerduty-service-url: 'PF9KMXH' is not an http(s) URL; skipped it",
        "kubedora.io/tags: 'tier1' is not key:value; skipped it",
        "kubedora.io/tags: ':nokey' is not key:value; skipped it",
    )
