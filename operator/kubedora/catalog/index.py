"""Index values: an annotated object's entry under every key it is found by,
and a failure's or deployment's reference under every key its attribution
depends on. Informer-fed indexes keep them (handlers/caches.py); lookups are
then one dict access per index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import ValidationError

from kubedora.catalog.annotations import ParsedEntry, parse_entry
from kubedora.matching import (
    CatalogKey,
    deployment_dependencies,
    entry_keys,
    failure_dependencies,
)
from kubedora.models import (
    DEPLOYMENTS,
    FAILURES,
    CatalogEntry,
    DeploymentSpec,
    FailureSpec,
    FailureStatus,
    Resource,
)


class ObjectRef(NamedTuple):
    """A kubedora.io object to match again: its resource, namespace and name."""

    resource: Resource
    namespace: str
    name: str


def parse_object(kind: str, body: Mapping[str, Any]) -> ParsedEntry | None:
    meta = body.get("metadata") or {}
    return parse_entry(
        kind, meta.get("namespace"), str(meta.get("name", "")), meta.get("annotations") or {}
    )


def catalog_values(kind: str, body: Mapping[str, Any]) -> dict[CatalogKey, CatalogEntry] | None:
    parsed = parse_object(kind, body)
    if parsed is None:
        return None
    return dict.fromkeys(entry_keys(parsed.entry), parsed.entry)


def failure_dependents(body: Mapping[str, Any]) -> dict[CatalogKey, ObjectRef] | None:
    ref = _ref(FAILURES, body)
    if ref is None:
        return None
    try:
        spec = FailureSpec.model_validate(body.get("spec", {}))
        status = FailureStatus.model_validate(body.get("status") or {})
    except ValidationError:
        return None  # reported on the object by its handler; nothing to match
    return dict.fromkeys(failure_dependencies(spec, status.attribution), ref) or None


def deployment_dependents(body: Mapping[str, Any]) -> dict[CatalogKey, ObjectRef] | None:
    ref = _ref(DEPLOYMENTS, body)
    if ref is None:
        return None
    try:
        spec = DeploymentSpec.model_validate(body.get("spec", {}))
    except ValidationError:
        return None
    return dict.fromkeys(deployment_dependencies(spec), ref) or None


def _ref(resource: Resource, body: Mapping[str, Any]) -> ObjectRef | None:
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace"), meta.get("name")
    if not namespace or not name:
        return None
    return ObjectRef(resource, namespace, name)
