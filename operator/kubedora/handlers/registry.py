"""Every kopf decorator of kubedora, gathered in one place. Each delegates to a
plain async function in the module that owns the behaviour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from kubedora import catalog
from kubedora.handlers import catalog as catalog_events
from kubedora.handlers import deployment, failure, indexes, lifecycle, scoreboard
from kubedora.handlers.runtime import runtime_of
from kubedora.matching import CatalogKey
from kubedora.metrics.dora import DeploymentFact, FailureFact
from kubedora.models import GROUP, VERSION, CatalogEntry

FAILURES = (GROUP, VERSION, "failures")
DEPLOYMENTS = (GROUP, VERSION, "deployments")
DORASOURCES = (GROUP, VERSION, "dorasources")

# The catalog: annotated Services and workloads, by kind.
SERVICES = ("", "v1", "services")
APPS_DEPLOYMENTS = ("apps", "v1", "deployments")
STATEFULSETS = ("apps", "v1", "statefulsets")
DAEMONSETS = ("apps", "v1", "daemonsets")
CATALOG_KINDS = {
    SERVICES: "Service",
    APPS_DEPLOYMENTS: "Deployment",
    STATEFULSETS: "StatefulSet",
    DAEMONSETS: "DaemonSet",
}
# kopf passes every index to every handler by its function's name.
CATALOG_INDEXES = (
    "catalog_services",
    "catalog_deployments",
    "catalog_statefulsets",
    "catalog_daemonsets",
)
DEPENDENT_INDEXES = ("failure_dependents", "deployment_dependents")
ANNOTATED = {catalog.SERVICE_ANNOTATION: kopf.PRESENT}

CatalogValues = dict[CatalogKey, CatalogEntry] | None
DependentValues = dict[CatalogKey, catalog.ObjectRef] | None


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    await lifecycle.startup(settings, memo)


# Before the API client closes (cleanup handlers run in this order).
@kopf.on.cleanup()
async def stop_rematching(memo: Any, **_: Any) -> None:
    await runtime_of(memo).rematcher.close()


@kopf.on.cleanup()
async def cleanup(memo: Any, **_: Any) -> None:
    await lifecycle.cleanup(memo)


def _catalog(kwargs: dict[str, Any]) -> catalog.IndexedCatalog:
    return catalog.IndexedCatalog(kwargs[name] for name in CATALOG_INDEXES)


@kopf.index(*SERVICES, annotations=ANNOTATED)
def catalog_services(body: kopf.Body, **_: Any) -> CatalogValues:
    return catalog.catalog_values("Service", body)


@kopf.index(*APPS_DEPLOYMENTS, annotations=ANNOTATED)
def catalog_deployments(body: kopf.Body, **_: Any) -> CatalogValues:
    return catalog.catalog_values("Deployment", body)


@kopf.index(*STATEFULSETS, annotations=ANNOTATED)
def catalog_statefulsets(body: kopf.Body, **_: Any) -> CatalogValues:
    return catalog.catalog_values("StatefulSet", body)


@kopf.index(*DAEMONSETS, annotations=ANNOTATED)
def catalog_daemonsets(body: kopf.Body, **_: Any) -> CatalogValues:
    return catalog.catalog_values("DaemonSet", body)


@kopf.index(*FAILURES)
def failure_dependents(body: kopf.Body, **_: Any) -> DependentValues:
    return catalog.failure_dependents(body)


@kopf.index(*DEPLOYMENTS)
def deployment_dependents(body: kopf.Body, **_: Any) -> DependentValues:
    return catalog.deployment_dependents(body)


def _catalog_relevant(body: kopf.Body, uid: str | None, memo: Any, **_: Any) -> bool:
    return catalog_events.relevant(body, uid, runtime_of(memo).catalog)


@kopf.on.event(*SERVICES, when=_catalog_relevant)
@kopf.on.event(*APPS_DEPLOYMENTS, when=_catalog_relevant)
@kopf.on.event(*STATEFULSETS, when=_catalog_relevant)
@kopf.on.event(*DAEMONSETS, when=_catalog_relevant)
async def catalog_changed(
    type: str | None,
    body: kopf.Body,
    uid: str | None,
    resource: kopf.Resource,
    memo: Any,
    **kwargs: Any,
) -> None:
    kind = CATALOG_KINDS[(resource.group, resource.version, resource.plural)]
    catalog_events.changed(
        kind=kind,
        event_type=type,
        body=body,
        uid=uid,
        runtime=runtime_of(memo),
        dependents=[kwargs[name] for name in DEPENDENT_INDEXES],
    )


@kopf.index(*FAILURES)
def failure_facts(
    namespace: str | None, body: kopf.Body, **_: Any
) -> dict[str, FailureFact] | None:
    fact = indexes.failure_fact(body)
    return None if fact is None or namespace is None else {namespace: fact}


@kopf.index(*DEPLOYMENTS)
def deployment_facts(
    namespace: str | None, body: kopf.Body, **_: Any
) -> dict[str, DeploymentFact] | None:
    fact = indexes.deployment_fact(body)
    return None if fact is None or namespace is None else {namespace: fact}


@kopf.on.resume(*FAILURES)
@kopf.on.create(*FAILURES)
@kopf.on.update(*FAILURES)
async def reconcile_failure(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    **kwargs: Any,
) -> None:
    await failure.reconcile(
        body=body,
        spec=spec,
        status=status,
        meta=meta,
        patch=patch,
        now=datetime.now(UTC),
        catalog=_catalog(kwargs),
    )


@kopf.on.resume(*DEPLOYMENTS)
@kopf.on.create(*DEPLOYMENTS)
@kopf.on.update(*DEPLOYMENTS)
async def reconcile_deployment(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, patch: kopf.Patch, **kwargs: Any
) -> None:
    await deployment.reconcile(
        spec=spec,
        status=status,
        meta=meta,
        patch=patch,
        now=datetime.now(UTC),
        catalog=_catalog(kwargs),
    )


# Async, so that they run in the event loop: kopf runs plain functions in a
# thread pool, and the triggers wake asyncio waiters.
@kopf.on.event(*FAILURES)
@kopf.on.event(*DEPLOYMENTS)
async def facts_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    if namespace is not None:  # our kinds are namespaced; None never comes
        runtime_of(memo).triggers.touch(namespace)


def _spec_not_yet_computed(meta: kopf.Meta, status: kopf.Status, **_: Any) -> bool:
    return meta.get("generation") != status.get("observedGeneration")


@kopf.on.event(*DORASOURCES, when=_spec_not_yet_computed)
async def dorasource_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    if namespace is not None:
        runtime_of(memo).triggers.touch(namespace)


@kopf.daemon(*DORASOURCES, cancellation_timeout=10.0)
async def scoreboard_loop(
    name: str,
    namespace: str | None,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    memo: Any,
    logger: kopf.Logger,
    **kwargs: Any,
) -> None:
    if namespace is None:
        return
    # kopf passes every index by its function's name.
    failures: kopf.Index[str, FailureFact] = kwargs["failure_facts"]
    deployments: kopf.Index[str, DeploymentFact] = kwargs["deployment_facts"]
    await scoreboard.run(
        runtime=runtime_of(memo),
        name=name,
        namespace=namespace,
        body=body,
        stopped=stopped,
        failure_facts=failures,
        deployment_facts=deployments,
        logger=logger,
    )
