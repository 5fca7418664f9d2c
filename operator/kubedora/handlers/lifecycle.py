"""Operator startup and cleanup: kopf settings and shared clients."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import kopf

from kubedora.config import OperatorConfig
from kubedora.handlers import caches
from kubedora.handlers.rematch import Rematcher
from kubedora.handlers.runtime import Runtime, runtime_of
from kubedora.handlers.triggers import Triggers
from kubedora.k8s.client import connect

PREFIX = "kubedora.io"


def configure(settings: kopf.OperatorSettings, config: OperatorConfig) -> None:
    # Our own names everywhere, never kopf's kopf.zalando.org defaults.
    settings.persistence.finalizer = f"{PREFIX}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # Only warnings become Events by themselves; notable transitions are posted
    # explicitly, so `kubectl describe` is not flooded with routine logs.
    settings.posting.level = logging.WARNING
    # A dead replica's peering entry expires after this; a stopped one leaves
    # at once. The survivor resumes then.
    settings.peering.lifetime = int(config.peering_lifetime_seconds)
    # Resources are found once at startup: no cluster-wide CRD watch, so the
    # operator needs no RBAC on apiextensions.
    settings.scanning.disabled = True
    # kopf starts one worker per object at once otherwise: after a restart
    # over 100,000 objects, that many status writes at a time made the API
    # server time out (504) and held gigabytes. A bounded pool drains them.
    settings.queueing.worker_limit = config.worker_limit
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330


async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo) -> None:
    config = memo.get("config")
    if not isinstance(config, OperatorConfig):
        config = OperatorConfig()
    configure(settings, config)
    api = await connect()
    triggers, rematcher = Triggers(), Rematcher()
    runtime = Runtime(
        config=config,
        api=api,
        triggers=triggers,
        rematcher=rematcher,
        caches=caches.build(api, config.namespaces, triggers, rematcher),
    )
    runtime.tasks = [
        asyncio.create_task(informer.supervised(), name=f"informer {informer.kind.plural}")
        for informer in runtime.caches.informers
    ]
    memo["runtime"] = runtime


async def cleanup(memo: kopf.Memo) -> None:
    runtime = runtime_of(memo)
    for task in runtime.tasks:
        task.cancel()
    for task in runtime.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await runtime.rematcher.close()
    await runtime.api.close()
