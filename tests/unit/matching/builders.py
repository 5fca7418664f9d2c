"""Catalog entries and failures for matching tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kubedora.matching import normalize_pagerduty_url
from kubedora.models import CatalogEntry, CatalogSource, FailureSpec

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PD = "https://acme.pagerduty.com/services"


def entry(
    service: str,
    team: str | None = None,
    *,
    url: str | None = None,
    languages: Sequence[str] = (),
    tags: Sequence[str] = (),
    kind: str = "Service",
    namespace: str = "shop",
    name: str | None = None,
) -> CatalogEntry:
    return CatalogEntry(
        service=service,
        team=team,
        pagerduty_service_url=normalize_pagerduty_url(url) if url else None,
        languages=tuple(languages),
        tags=tuple(tags),
        source=CatalogSource(kind=kind, namespace=namespace, name=name or service),
    )


def pagerduty_failure(
    *,
    service_name: str | None = None,
    service_url: str | None = None,
    teams: Sequence[str] = (),
    monitor_tags: Sequence[str] = (),
    **spec: Any,
) -> FailureSpec:
    """A failure as the receiver writes it: the PagerDuty service and team in
    the spec (the CRD wants one of them), the raw context beside them."""
    body: dict[str, Any] = {
        "source": "pagerduty",
        "startedAt": T0,
        "pagerduty": {
            "incidentId": "Q1ABC",
            "serviceName": service_name,
            "serviceUrl": service_url,
            "teams": list(teams),
            "monitorTags": list(monitor_tags),
        },
    }
    if service_name:
        body["services"] = [service_name]
    if teams:
        body["team"] = teams[0]
    body.update(spec)
    return FailureSpec.model_validate(body)
