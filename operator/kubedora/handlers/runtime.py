"""What every handler shares during one operator run, carried in kopf's memo."""

from __future__ import annotations

from dataclasses import dataclass, field

import kopf
from kubernetes_asyncio import client

from kubedora.catalog import CatalogMemory
from kubedora.config import OperatorConfig
from kubedora.handlers.rematch import Rematcher
from kubedora.handlers.triggers import Triggers


@dataclass
class Runtime:
    config: OperatorConfig
    api: client.ApiClient
    triggers: Triggers
    # The catalog entries last seen, to tell what an edit changed.
    catalog: CatalogMemory = field(default_factory=CatalogMemory)
    rematcher: Rematcher = field(default_factory=Rematcher)


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    if isinstance(runtime, Runtime):
        return runtime
    raise RuntimeError("the operator's startup handler has not run")
