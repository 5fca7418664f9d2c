"""Monitor tags for matching rule 1: read a PagerDuty incident's alerts
(`GET /incidents/{id}/alerts`) and put the `service`, `env` and `team` of
their details into the Failure's `spec.pagerduty.monitorTags`.

A webhook carries no alert details, so the Failure is written without them
and attributed by rules 2-6 at once; this runs beside it. When a Failure of
PagerDuty has no monitor tags and has never had its alerts read, its
reconcile asks for them here; a background task reads them a few at a time
through the token's RateLimiter, and writes the tags. kopf sees the spec
change and matches the Failure again, by rule 1 now. A read that fails is
retried later (backing off), never holding the Failure up. Incidents older
than `monitor_tags_max_age_days` are left to rules 2-6: one request per
incident would make a long backfill read its history alert by alert."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes_asyncio import client

from kubedora.config import OperatorConfig
from kubedora.ingest.history import monitor_tags
from kubedora.k8s import failures
from kubedora.k8s.client import secret_token
from kubedora.k8s.errors import API_ERRORS, Unavailable
from kubedora.k8s.objects import upsert
from kubedora.models import DORASOURCES, FAILURES, DoraSourceSpec, FailureSource, FailureSpec
from kubedora.pagerduty.client import Limiters, PagerDutyClient, PagerDutyError

log = logging.getLogger("kubedora.monitor_tags")

# Incidents whose tags were read: a second request for one is not sent.
_READ_CACHE = 10_000
# Incidents waiting: beyond this, new requests wait for the next reconcile.
_PENDING_MAX = 100_000
_CREDENTIALS_TTL = 30.0
_MAX_RETRY = 600.0


@dataclass(frozen=True, slots=True)
class Wanted:
    namespace: str
    name: str
    incident_id: str


def needs_tags(spec: FailureSpec, annotations: Any, now: datetime, max_age_days: float) -> bool:
    """Whether to read the alerts of this Failure's incident."""
    pagerduty = spec.pagerduty
    if spec.source != FailureSource.PAGERDUTY or pagerduty is None or pagerduty.monitor_tags:
        return False
    if failures.ALERTS_READ_ANNOTATION in (annotations or {}):
        return False
    return max_age_days > 0 and now - spec.started_at <= timedelta(days=max_age_days)


class MonitorTagger:
    def __init__(self, api: client.ApiClient, config: OperatorConfig, limiters: Limiters) -> None:
        self._api, self._config, self._limiters = api, config, limiters
        self._pending: OrderedDict[Wanted, float] = OrderedDict()  # -> not before (monotonic)
        self._attempts: dict[Wanted, int] = {}
        self._read: OrderedDict[str, None] = OrderedDict()
        self._credentials: dict[str, tuple[float, tuple[str, str] | None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def request(self, namespace: str, name: str, incident_id: str) -> None:
        wanted = Wanted(namespace, name, incident_id)
        if incident_id in self._read or wanted in self._pending:
            return
        if len(self._pending) >= _PENDING_MAX:
            return
        self._pending[wanted] = 0.0
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="kubedora-monitor-tags")
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _drain(self) -> None:
        while True:
            ready = self._next_ready()
            if ready is None:
                self._wake.clear()
                delay = self._next_delay()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            del self._pending[ready]
            if await self._tag(ready):
                self._attempts.pop(ready, None)
            else:
                attempt = self._attempts.get(ready, 0) + 1
                self._attempts[ready] = attempt
                delay = min(
                    _MAX_RETRY, self._config.monitor_tags_retry_seconds * 2 ** (attempt - 1)
                )
                self._pending[ready] = time.monotonic() + delay

    def _next_ready(self) -> Wanted | None:
        now = time.monotonic()
        return next((w for w, at in self._pending.items() if at <= now), None)

    def _next_delay(self) -> float | None:
        if not self._pending:
            return None
        return max(0.05, min(self._pending.values()) - time.monotonic())

    async def _tag(self, wanted: Wanted) -> bool:
        """True when done (tagged, nothing to tag, no token); False to retry."""
        try:
            credentials = await self._credentials_of(wanted.namespace)
            if credentials is None:
                return True  # no token configured: rules 2-6 it is
            api_url, token = credentials
            rest = PagerDutyClient(
                api_url,
                token,
                self._limiters.of(api_url, token),
                timeout=self._config.pagerduty_timeout,
                attempts=min(self._config.pagerduty_attempts, 3),
            )
            async with rest:
                alerts = await rest.alerts(wanted.incident_id)
            tags = monitor_tags(alerts.alerts)
            await upsert(
                self._api,
                resource=FAILURES,
                namespace=wanted.namespace,
                name=wanted.name,
                build=failures.monitor_tags_build(wanted.name, tags, datetime.now(UTC)),
                timeout=10.0,
            )
        except PagerDutyError as error:
            log.warning(
                f"could not read the alerts of PagerDuty incident {wanted.incident_id} "
                f"({wanted.namespace}/{wanted.name}); matching without monitor tags "
                f"for now: {error}"
            )
            return False
        except (*API_ERRORS, Unavailable) as error:
            log.warning(
                f"could not write monitor tags of {wanted.namespace}/{wanted.name}: {error}"
            )
            return False
        self._read[wanted.incident_id] = None
        while len(self._read) > _READ_CACHE:
            self._read.popitem(last=False)
        if tags:
            log.info(f"{wanted.namespace}/{wanted.name}: monitor tags {', '.join(tags)}")
        return True

    async def _credentials_of(self, namespace: str) -> tuple[str, str] | None:
        """The API URL and token of the first DoraSource of the namespace (by
        name) that names a token; cached for a while."""
        cached = self._credentials.get(namespace)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        listing = await client.CustomObjectsApi(self._api).list_namespaced_custom_object(
            DORASOURCES.group, DORASOURCES.version, namespace, DORASOURCES.plural
        )
        found: tuple[str, str] | None = None
        for item in sorted(listing.get("items", []), key=lambda i: i["metadata"]["name"]):
            spec = DoraSourceSpec.model_validate(item.get("spec") or {})
            ref = spec.pagerduty.api_token_secret_ref if spec.pagerduty else None
            if spec.pagerduty is None or ref is None:
                continue
            try:
                found = (spec.pagerduty.api_url, await secret_token(self._api, namespace, ref.name))
            except ValueError as error:
                log.warning(f"monitor tags in {namespace}: {error}")
                continue
            break
        # A missing token is looked for again sooner than a found one is trusted.
        ttl = _CREDENTIALS_TTL if found is not None else 5.0
        self._credentials[namespace] = (time.monotonic() + ttl, found)
        return found
