"""Every kopf decorator of kubedora, gathered in one place. Each delegates to a
plain async function in the module that owns the behaviour.

kopf handles what it is good at: one handler run per object change with
retries, status patches, Events, daemons and peering. What the handlers read
in bulk (facts, catalog) comes from informers (handlers/runtime.py), not kopf
indexes, whose startup cost grows with the square of the objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from kubedora.handlers import reconcile, runtime, scoreboard
from kubedora.models import DEPLOYMENTS, DORASOURCES, FAILURES


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    await runtime.startup(settings, memo)


@kopf.on.cleanup()
async def cleanup(memo: Any, **_: Any) -> None:
    await runtime.cleanup(memo)


@kopf.on.resume(*FAILURES.coordinates)
@kopf.on.create(*FAILURES.coordinates)
@kopf.on.update(*FAILURES.coordinates)
async def reconcile_failure(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    memo: Any,
    **_: Any,
) -> None:
    shared = runtime.runtime_of(memo)
    caches = shared.caches
    # Matching against a half-listed catalog would file failures wrongly.
    await caches.catalog_synced()
    with shared.telemetry.reconciling(FAILURES.kind):
        await reconcile.failure(
            body=body,
            spec=spec,
            status=status,
            meta=meta,
            patch=patch,
            now=datetime.now(UTC),
            catalog=caches.catalog,
        )


@kopf.on.resume(*DEPLOYMENTS.coordinates)
@kopf.on.create(*DEPLOYMENTS.coordinates)
@kopf.on.update(*DEPLOYMENTS.coordinates)
async def reconcile_deployment(
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    patch: kopf.Patch,
    memo: Any,
    **_: Any,
) -> None:
    shared = runtime.runtime_of(memo)
    caches = shared.caches
    await caches.catalog_synced()
    with shared.telemetry.reconciling(DEPLOYMENTS.kind):
        await reconcile.deployment(
            spec=spec,
            status=status,
            meta=meta,
            patch=patch,
            now=datetime.now(UTC),
            catalog=caches.catalog,
        )


def _spec_not_yet_computed(meta: kopf.Meta, status: kopf.Status, **_: Any) -> bool:
    return meta.get("generation") != status.get("observedGeneration")


# Async, so that it runs in the event loop: kopf runs plain functions in a
# thread pool, and the triggers wake asyncio waiters.
@kopf.on.event(*DORASOURCES.coordinates, when=_spec_not_yet_computed)
async def dorasource_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    if namespace is not None:  # our kinds are namespaced; None never comes
        runtime.runtime_of(memo).triggers.touch(namespace)


@kopf.daemon(*DORASOURCES.coordinates, cancellation_timeout=10.0)
async def scoreboard_loop(
    name: str,
    namespace: str | None,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    memo: Any,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    if namespace is None:
        return
    shared = runtime.runtime_of(memo)
    await scoreboard.run(
        api=shared.api,
        config=shared.config,
        triggers=shared.triggers,
        facts_synced=shared.caches.facts_synced,
        name=name,
        namespace=namespace,
        body=body,
        stopped=stopped,
        failure_facts=shared.caches.failure_facts,
        deployment_facts=shared.caches.deployment_facts,
        logger=logger,
        boards=shared.telemetry.boards,
    )
