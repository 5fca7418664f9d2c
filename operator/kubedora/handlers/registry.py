"""Every kopf decorator of kubedora, gathered in one place. Each delegates to a
plain async function in the module that owns the behaviour.

kopf handles what it is good at: the DoraSources, with daemons, Events and
peering. Failures and Deployments, which come by the hundred thousand, are
not kopf's: informers follow them (handlers/runtime.py) for the scoreboard,
and their status is kept by handlers/statuses.py from the same informers,
with a work queue of its own (kopf's per-object workers held gigabytes and
wrote tens of statuses a second)."""

from __future__ import annotations

from typing import Any

import kopf

from kubedora.handlers import backfill, runtime, scoreboard
from kubedora.models import DORASOURCES


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    await runtime.startup(settings, memo)


@kopf.on.cleanup()
async def cleanup(memo: Any, **_: Any) -> None:
    await runtime.cleanup(memo)


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
        settings=shared.history.settings,
        lead_times=shared.history.lead_times,
    )


@kopf.daemon(*DORASOURCES.coordinates, cancellation_timeout=10.0)
async def backfill_loop(
    name: str,
    namespace: str | None,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    memo: Any,
    **_: Any,
) -> None:
    shared = runtime.runtime_of(memo)
    if namespace is None or not shared.config.pagerduty_rest:
        return
    await backfill.Backfill(
        api=shared.api,
        config=shared.config,
        limiters=shared.limiters,
        name=name,
        namespace=namespace,
        body=body,
        stopped=stopped,
    ).run()
