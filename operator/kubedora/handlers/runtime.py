"""What every handler shares during one operator run, carried in kopf's memo."""

from __future__ import annotations

from dataclasses import dataclass

import kopf
from kubernetes_asyncio import client

from kubedora.config import OperatorConfig
from kubedora.handlers.triggers import Triggers


@dataclass
class Runtime:
    config: OperatorConfig
    api: client.ApiClient
    triggers: Triggers


def runtime_of(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    if isinstance(runtime, Runtime):
        return runtime
    raise RuntimeError("the operator's startup handler has not run")
