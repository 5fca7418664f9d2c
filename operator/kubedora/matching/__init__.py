"""Matching failures and deployments to the service catalog: pure functions,
no I/O. The catalog reaches them through the CatalogLookup protocol."""

from kubedora.matching.dependencies import deployment_dependencies, failure_dependencies
from kubedora.matching.keys import (
    CatalogKey,
    normalize_name,
    normalize_pagerduty_url,
    service_key,
    team_key,
    url_key,
)
from kubedora.matching.lookup import (
    EMPTY_CATALOG,
    Catalog,
    CatalogIndex,
    CatalogLookup,
    entry_keys,
    entry_order,
)
from kubedora.matching.rules import (
    MONITOR,
    PAGERDUTY,
    RULES,
    SERVICE_NAME,
    SERVICE_NAME_AS_TEAM,
    SERVICE_URL,
    SPEC,
    TEAM_NAME,
    Counted,
    agreed_team,
    attribute_failure,
    deployment_team,
    where_failure_counts,
)
from kubedora.matching.tags import catalog_tags, merge_tags, monitor_evidence

__all__ = [
    "EMPTY_CATALOG",
    "MONITOR",
    "PAGERDUTY",
    "RULES",
    "SERVICE_NAME",
    "SERVICE_NAME_AS_TEAM",
    "SERVICE_URL",
    "SPEC",
    "TEAM_NAME",
    "Catalog",
    "CatalogIndex",
    "CatalogKey",
    "CatalogLookup",
    "Counted",
    "agreed_team",
    "attribute_failure",
    "catalog_tags",
    "deployment_dependencies",
    "deployment_team",
    "entry_keys",
    "entry_order",
    "failure_dependencies",
    "merge_tags",
    "monitor_evidence",
    "normalize_name",
    "normalize_pagerduty_url",
    "service_key",
    "team_key",
    "url_key",
    "where_failure_counts",
]
