"""Every kopf decorator of kubedora, gathered in one place. Each delegates to a
plain async function in the module that owns the behaviour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from kubedora.handlers import deployment, failure, indexes, lifecycle, scoreboard
from kubedora.handlers.runtime import runtime_of
from kubedora.metrics.dora import DeploymentFact, FailureFact
from kubedora.models import GROUP, VERSION

FAILURES = (GROUP, VERSION, "failures")
DEPLOYMENTS = (GROUP, VERSION, "deployments")
DORASOURCES = (GROUP, VERSION, "dorasources")


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    await lifecycle.startup(settings, memo)


@kopf.on.cleanup()
async def cleanup(memo: Any, **_: Any) -> None:
    await lifecycle.cleanup(memo)


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
    **_: Any,
) -> None:
    await failure.reconcile(
        body=body, spec=spec, status=status, meta=meta, patch=patch, now=datetime.now(UTC)
    )


@kopf.on.resume(*DEPLOYMENTS)
@kopf.on.create(*DEPLOYMENTS)
@kopf.on.update(*DEPLOYMENTS)
async def reconcile_deployment(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, patch: kopf.Patch, **_: Any
) -> None:
    await deployment.reconcile(
        spec=spec, status=status, meta=meta, patch=patch, now=datetime.now(UTC)
    )


@kopf.on.event(*FAILURES)
@kopf.on.event(*DEPLOYMENTS)
def facts_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    if namespace is not None:  # our kinds are namespaced; None never comes
        runtime_of(memo).triggers.touch(namespace)


def _spec_not_yet_computed(meta: kopf.Meta, status: kopf.Status, **_: Any) -> bool:
    return meta.get("generation") != status.get("observedGeneration")


@kopf.on.event(*DORASOURCES, when=_spec_not_yet_computed)
def dorasource_changed(namespace: str | None, memo: Any, **_: Any) -> None:
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
