"""The service catalog: entries read from annotated Services and apps/v1
Deployments, StatefulSets and DaemonSets, held in informer-fed indexes by
the operator (handlers/caches.py)."""

from kubedora.catalog.annotations import (
    SERVICE as SERVICE_ANNOTATION,
)
from kubedora.catalog.annotations import (
    ParsedEntry,
    is_annotated,
    parse_entry,
)
from kubedora.catalog.changes import CatalogMemory, Change
from kubedora.catalog.index import (
    ObjectRef,
    catalog_values,
    deployment_dependents,
    failure_dependents,
    parse_object,
)
from kubedora.catalog.view import CatalogIndex, IndexedCatalog

__all__ = [
    "SERVICE_ANNOTATION",
    "CatalogIndex",
    "CatalogMemory",
    "Change",
    "IndexedCatalog",
    "ObjectRef",
    "ParsedEntry",
    "catalog_values",
    "deployment_dependents",
    "failure_dependents",
    "is_annotated",
    "parse_entry",
    "parse_object",
]
