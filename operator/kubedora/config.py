"""Typed settings of the operator and the receiver, read once from the
environment: `KUBEDORA_<FIELD>` in upper case sets a field, e.g.
KUBEDORA_DEBOUNCE_SECONDS=2 or KUBEDORA_API_TIMEOUT=5."""

from __future__ import annotations

import os
import tempfile
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
    # Status writes in flight (handlers/statuses.py), and kopf's workers.
    worker_limit: int = Field(default=64, ge=1)
    # The operator's own HTTP server: /metrics and the dashboard page.
    http_address: str = Field(default="127.0.0.1:8082", min_length=3)
    # Breakdown rows per dimension exported as Prometheus labels; the rest
    # fold into key="__other__" (their keys are users' service/team/env names).
    metrics_rows_per_dimension: int = Field(default=20, ge=0, le=1000)
    # Whether this process reads PagerDuty's REST API at all (backfills,
    # monitor tags); false keeps it from making any outbound call.
    pagerduty_rest: bool = True
    # Requests a minute to PagerDuty's REST API per token (it allows 960).
    pagerduty_requests_per_minute: float = Field(default=900.0, gt=0.0)
    # One request to PagerDuty, and how many tries before giving up on it.
    pagerduty_timeout: float = Field(default=30.0, gt=0.0)
    pagerduty_attempts: int = Field(default=8, ge=1)
    # A backfill window holding more incidents than this is cut in smaller
    # ones; PagerDuty's classic pagination reaches 10,000 at most.
    backfill_window_incidents: int = Field(default=10_000, ge=100, le=10_000)
    # Failures a backfill writes at once.
    backfill_write_concurrency: int = Field(default=16, ge=1)
    # A failed backfill (PagerDuty unreachable, token refused) tries again after this.
    backfill_retry_seconds: float = Field(default=600.0, gt=0.0)
    # Alerts are read for monitor tags only for incidents younger than this
    # (0: never): one request per incident, so a long history is not read
    # alert by alert.
    monitor_tags_max_age_days: float = Field(default=90.0, ge=0.0)
    # A failed alerts read is tried again after this, doubling up to 10 minutes.
    monitor_tags_retry_seconds: float = Field(default=30.0, gt=0.0)
    # The namespaces served, as the command line says; None: every namespace.
    namespaces: list[str] | None = None
    # Whether replicas elect the active one through kopf's peering, as the
    # command line says; such a replica starts as a standby (kopf pauses it
    # until the peering says otherwise), a standalone one is active at once.
    peering: bool = False
    # The git cache for lead time (an emptyDir in the pod): where, how big,
    # how many git processes at once, and how long one may take.
    git_cache_dir: str = Field(
        default_factory=lambda: os.path.join(tempfile.gettempdir(), "kubedora-git")
    )
    git_cache_bytes: int = Field(default=1536 * 1024 * 1024, ge=1)
    git_concurrency: int = Field(default=2, ge=1)
    git_timeout_seconds: float = Field(default=600.0, gt=0.0)
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
    # Reading a body: a sender that stops mid-body gets 408 after this,
    # well within the deadline, instead of holding the request.
    body_timeout: float = Field(default=2.0, gt=0.0)
    # Seconds a 503 tells the sender to wait before retrying.
    retry_after: int = Field(default=5, ge=0)
