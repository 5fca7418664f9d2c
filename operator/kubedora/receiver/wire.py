"""kubedora objects as the API server stores them, built from specs.

Specs go out without nulls and empty lists: absent is what they mean, and
`kubectl get` columns then show nothing instead of `<no value>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubedora.models import API_VERSION, KubeModel

Object = dict[str, Any]

SOURCE_LABEL = "kubedora.io/source"


def spec_wire(spec: KubeModel) -> dict[str, Any]:
    return _pruned(spec.model_dump(mode="json", by_alias=True, exclude_none=True))


def _pruned(mapping: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            value = _pruned(value)
        elif isinstance(value, list):
            value = [_pruned(v) if isinstance(v, dict) else v for v in value]
        if value not in ([], {}):
            kept[key] = value
    return kept


def custom_object(
    kind: str,
    name: str,
    spec: KubeModel,
    *,
    base: Object | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Object:
    """The object to store: `base` (what is stored now) with its spec
    replaced and annotations/labels merged, or a new object."""
    metadata: Object = dict((base or {}).get("metadata") or {})
    metadata["name"] = name
    if annotations:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
    if labels:
        metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    return {
        **(base or {}),
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "spec": spec_wire(spec),
    }
