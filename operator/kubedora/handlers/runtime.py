"""What every handler shares during one operator run, carried in kopf's memo."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import kopf
from kubernetes_asyncio import client

from kubedora.config import OperatorConfig
from kubedora.handlers.caches import Caches
from kubedora.handlers.rematch import Rematcher
from kubedora.handlers.triggers import Triggers


@dataclass
class Runtime:
    config: OperatorConfig
    api: client.ApiClient
    triggers: Triggers
    rematcher: Rematcher
    caches: Caches
    # The informers feeding the caches, for the length of the run.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    if isinstance(runtime, Runtime):
        return runtime
    raise RuntimeError("the operator's startup handler has not run")
