"""The operator's in-memory view of the cluster, kept by informers: the facts
the scoreboards count, the catalog, and which failures and deployments each
catalog key can re-attribute."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubernetes_asyncio import client

from kubedora import catalog
from kubedora.catalog import IndexedCatalog, ObjectRef
from kubedora.handlers import indexes
from kubedora.handlers.catalog import CatalogFollower
from kubedora.handlers.rematch import Rematcher
from kubedora.handlers.triggers import Triggers
from kubedora.k8s.informer import Body, Informer, KeyedIndex, Kind
from kubedora.matching import CatalogKey
from kubedora.metrics.dora import DeploymentFact, FailureFact
from kubedora.models import GROUP, VERSION, CatalogEntry

FAILURES = Kind(GROUP, VERSION, "failures")
DEPLOYMENTS = Kind(GROUP, VERSION, "deployments")
# The catalog: annotated Services and workloads, by kind.
CATALOG_KINDS = {
    Kind("", "v1", "services"): ("Service", "v1"),
    Kind("apps", "v1", "deployments"): ("Deployment", "apps/v1"),
    Kind("apps", "v1", "statefulsets"): ("StatefulSet", "apps/v1"),
    Kind("apps", "v1", "daemonsets"): ("DaemonSet", "apps/v1"),
}


@dataclass
class Caches:
    failure_facts: KeyedIndex[str, FailureFact]
    deployment_facts: KeyedIndex[str, DeploymentFact]
    failure_dependents: KeyedIndex[CatalogKey, ObjectRef]
    deployment_dependents: KeyedIndex[CatalogKey, ObjectRef]
    catalog: IndexedCatalog
    fact_informers: list[Informer] = field(default_factory=list)
    catalog_informers: list[Informer] = field(default_factory=list)

    @property
    def informers(self) -> list[Informer]:
        return [*self.catalog_informers, *self.fact_informers]

    async def facts_synced(self) -> None:
        await _all_synced(self.fact_informers)

    async def catalog_synced(self) -> None:
        await _all_synced(self.catalog_informers)


async def _all_synced(informers: Iterable[Informer]) -> None:
    await asyncio.gather(*(informer.synced.wait() for informer in informers))


def build(
    api: client.ApiClient,
    namespaces: list[str] | None,
    triggers: Triggers,
    rematcher: Rematcher,
) -> Caches:
    """Informers for every namespace served (None: all of them, one watch)."""
    scopes: list[str | None] = list(namespaces) if namespaces else [None]

    def touch(old: Mapping[str, object], new: Mapping[str, object]) -> None:
        for namespace in {*old, *new}:
            triggers.touch(namespace)

    failure_facts: KeyedIndex[str, FailureFact] = KeyedIndex(_failure_fact, touch)
    deployment_facts: KeyedIndex[str, DeploymentFact] = KeyedIndex(_deployment_fact, touch)
    failure_dependents: KeyedIndex[CatalogKey, ObjectRef] = KeyedIndex(catalog.failure_dependents)
    deployment_dependents: KeyedIndex[CatalogKey, ObjectRef] = KeyedIndex(
        catalog.deployment_dependents
    )
    dependents = (failure_dependents, deployment_dependents)

    catalog_indexes: list[KeyedIndex[CatalogKey, CatalogEntry]] = []
    catalog_informers: list[Informer] = []
    fact_informers: list[Informer] = []
    for kind, (kind_name, api_version) in CATALOG_KINDS.items():
        entries: KeyedIndex[CatalogKey, CatalogEntry] = KeyedIndex(
            functools.partial(catalog.catalog_values, kind_name)
        )
        follower = CatalogFollower(
            kind=kind_name,
            api_version=api_version,
            api=api,
            rematcher=rematcher,
            dependents=dependents,
        )
        catalog_indexes.append(entries)
        for namespace in scopes:
            # The index first: the follower's re-matches read the new catalog.
            catalog_informers.append(Informer(api, kind, [entries, follower], namespace=namespace))
    for namespace in scopes:
        fact_informers.append(
            Informer(api, FAILURES, [failure_facts, failure_dependents], namespace=namespace)
        )
        fact_informers.append(
            Informer(
                api, DEPLOYMENTS, [deployment_facts, deployment_dependents], namespace=namespace
            )
        )
    return Caches(
        failure_facts=failure_facts,
        deployment_facts=deployment_facts,
        failure_dependents=failure_dependents,
        deployment_dependents=deployment_dependents,
        catalog=IndexedCatalog(catalog_indexes),
        fact_informers=fact_informers,
        catalog_informers=catalog_informers,
    )


def _namespace_of(body: Body) -> str | None:
    namespace: str | None = (body.get("metadata") or {}).get("namespace")
    return namespace


def _failure_fact(body: Body) -> dict[str, FailureFact] | None:
    namespace, fact = _namespace_of(body), indexes.failure_fact(body)
    return None if namespace is None or fact is None else {namespace: fact}


def _deployment_fact(body: Body) -> dict[str, DeploymentFact] | None:
    namespace, fact = _namespace_of(body), indexes.deployment_fact(body)
    return None if namespace is None or fact is None else {namespace: fact}
