"""kubedora objects as the API server stores them: built from specs, and
created or updated with optimistic concurrency.

Specs go out without nulls and empty lists: absent is what they mean, and
`kubectl get` columns then show nothing instead of `<no value>`.

Several writers (receiver replicas, concurrent deliveries) may update one
object at once. `upsert` reads it, lets the caller compute the new object
from what it read, and writes it back with that resourceVersion; a 409
means someone else wrote in between, so it reads and computes again. The
caller's `build` must therefore be a pure function of what it is given."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.k8s.errors import Unavailable, translated
from kubedora.models import PREFIX, KubeModel, Resource

Object = dict[str, Any]

# Who wrote an object: api, pagerduty (and, later, the deployment sources).
SOURCE_LABEL = f"{PREFIX}source"
# On a Deployment the DORA API marked as a change failure (or not): "api".
MARKED_BY_ANNOTATION = f"{PREFIX}change-failure-marked-by"


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
    resource: Resource,
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
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": metadata,
        "spec": spec_wire(spec),
    }


# Given the object as stored (None: absent), the object to store (None: leave it).
Build = Callable[[Object | None], Object | None]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # Nothing stored and nothing to store.
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Upserted:
    outcome: Outcome
    name: str
    conflicts: int


async def get_object(
    api: client.ApiClient, resource: Resource, namespace: str, name: str, *, timeout: float
) -> Object | None:
    """The stored object, or None when there is none."""
    objects = client.CustomObjectsApi(api)
    try:
        with translated():
            found: Object = await objects.get_namespaced_custom_object(
                resource.group,
                resource.version,
                namespace,
                resource.plural,
                name,
                _request_timeout=timeout,
            )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


async def upsert(
    api: client.ApiClient,
    *,
    resource: Resource,
    namespace: str,
    name: str,
    build: Build,
    create_first: bool = False,
    timeout: float = 2.0,
    max_attempts: int = 10,
) -> Upserted:
    """Store what `build` makes of the current object, retrying on conflicts.

    With create_first the object is assumed absent and created without a
    read (one request instead of two for new objects); if it exists after
    all, the usual read-modify-write follows."""
    objects = client.CustomObjectsApi(api)
    conflicts = 0
    guessing = create_first
    look = not create_first
    current: Object | None = None
    for _ in range(max_attempts):
        if look:
            current = await get_object(api, resource, namespace, name, timeout=timeout)
        wanted = build(current)
        if wanted is None:
            outcome = Outcome.SKIPPED if current is None else Outcome.UNCHANGED
            return Upserted(outcome, name, conflicts)
        try:
            with translated():
                if current is None:
                    await objects.create_namespaced_custom_object(
                        resource.group,
                        resource.version,
                        namespace,
                        resource.plural,
                        wanted,
                        _request_timeout=timeout,
                    )
                    return Upserted(Outcome.CREATED, name, conflicts)
                metadata = wanted.setdefault("metadata", {})
                metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
                await objects.replace_namespaced_custom_object(
                    resource.group,
                    resource.version,
                    namespace,
                    resource.plural,
                    name,
                    wanted,
                    _request_timeout=timeout,
                )
                return Upserted(Outcome.UPDATED, name, conflicts)
        except ApiException as exc:
            # 409: created meanwhile (AlreadyExists) or changed meanwhile
            # (Conflict); 404 on a replace: deleted meanwhile. Read again.
            # A 404 on a create means the namespace is missing: not ours to fix.
            if exc.status not in (404, 409) or (exc.status == 404 and current is None):
                raise
            look = True
            if guessing:
                # It existed after all: no race, just a wrong guess.
                guessing = False
                continue
            conflicts += 1
            await _back_off(conflicts)
    raise Unavailable(f"{resource.plural}/{name} kept changing: gave up after {max_attempts} tries")


async def _back_off(attempt: int) -> None:
    # Jitter spreads out replicas that collided on the same object.
    await asyncio.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
