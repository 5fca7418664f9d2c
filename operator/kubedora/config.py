"""Typed settings of the operator and the receiver, read once from the
environment: `KUBEDORA_<FIELD>` in upper case sets a field, e.g.
KUBEDORA_DEBOUNCE_SECONDS=2 or KUBEDORA_API_TIMEOUT=5."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, Field

# PagerDuty drops deliveries over 256 KB; nothing legitimate is larger.
MAX_BODY_BYTES = 256 * 1024


class _FromEnvironment(BaseModel):
    @classmethod
    def from_env(cls, environ: Mapping[str, str], **given: Any) -> Self:
        """Defaults, overridden by the environment, overridden by `given`
        (what the command line says)."""
        values: dict[str, Any] = {
            name: environ[f"KUBEDORA_{name.upper()}"]
            for name in cls.model_fields
            if f"KUBEDORA_{name.upper()}" in environ
        }
        return cls.model_validate({**values, **given})


class OperatorConfig(_FromEnvironment):
    """How the operator paces its work."""

    # A burst of Failure/Deployment events within this many seconds yields one recompute.
    debounce_seconds: float = Field(default=1.0, ge=0.0)
    # The window slides with time even when nothing changes; recompute this often.
    resync_seconds: float = Field(default=60.0, gt=0.0)
    # How long a silent operator replica keeps its claim before another takes over.
    peering_lifetime_seconds: float = Field(default=60.0, ge=5.0)
    # How many objects kopf handles at once (status writes in flight).
    worker_limit: int = Field(default=64, ge=1)
    # How long a worker waits for its object's next event before it gives its
    # place to the next object (after its own patch is seen back).
    worker_idle_seconds: float = Field(default=0.1, gt=0.0)
    # The operator's own HTTP server: /metrics and the dashboard page.
    http_address: str = Field(default="127.0.0.1:8082", min_length=3)
    # Breakdown rows per dimension exported as Prometheus labels; the rest
    # fold into key="__other__" (their keys are users' service/team/env names).
    metrics_rows_per_dimension: int = Field(default=20, ge=0, le=1000)
    # The namespaces served, as the command line says; None: every namespace.
    namespaces: list[str] | None = None
    # Where rollouts of catalog workloads are recorded as Deployments (the
    # namespace the receiver writes to); None: they are not recorded.
    home_namespace: str | None = None


class ReceiverConfig(_FromEnvironment):
    """Where the receiver writes, and how long it waits for what, with the
    values PagerDuty's delivery rules call for."""

    namespace: str = Field(min_length=1)
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1)
    # One request to the API server.
    api_timeout: float = Field(default=2.0, gt=0.0)
    # The whole delivery: PagerDuty gives up after 5 s and retries; answering
    # 503 before that tells it the same, sooner.
    deadline: float = Field(default=4.0, gt=0.0)
    # Seconds a 503 tells the sender to wait before retrying.
    retry_after: int = Field(default=5, ge=0)
