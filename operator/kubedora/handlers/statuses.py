"""Keep the status of every Failure and Deployment current, at the pace the
API server takes writes.

Fed by the informers that already follow both kinds for the scoreboard, not
by kopf: kopf's per-object workers cost ~15 ms of CPU and a few kilobytes
held per object, so a restart over 100,000 objects took gigabytes and
statuses trickled in at tens per second. Here each body is planned as it
passes (handlers/reconcile.py, pure): an object whose status is current
costs no write and holds nothing; one that needs a write holds only the
fields to merge until a worker sends them. The work queue
(k8s/workqueue.py) gives what kopf gave: one worker per object at a time,
the latest plan wins, and failed writes come back with a growing delay.
Only the active replica writes (peering is kopf's, read through
telemetry.PeeringState)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import ValidationError

from kubedora.handlers import reconcile
from kubedora.handlers.heap import TRIM_AFTER, release_free_memory
from kubedora.handlers.monitor_tags import MonitorTagger, needs_tags
from kubedora.handlers.packed import pack, unpack
from kubedora.handlers.reconcile import Plan, Transition
from kubedora.handlers.telemetry import Telemetry
from kubedora.k8s.client import patch_status
from kubedora.k8s.errors import API_ERRORS, INVALID_STATUSES, status_message
from kubedora.k8s.events import post_event
from kubedora.k8s.workqueue import WorkQueue
from kubedora.matching import CatalogLookup
from kubedora.models import Resource

log = logging.getLogger("kubedora.statuses")
ANNOUNCED_KEPT = 4096

Body = Mapping[str, Any]
Planner = Callable[[Body, datetime], Plan]


@dataclass(frozen=True, slots=True)
class Work:
    """What one object is waiting for: a status patch (packed while it
    waits: on a first pass, every object waits at once), an Event, a read
    of its incident's alerts."""

    resource: Resource
    namespace: str
    name: str
    uid: str
    patch: bytes | None
    transition: Transition | None
    tag_incident: str | None


class StatusController:
    def __init__(
        self,
        api: client.ApiClient,
        *,
        telemetry: Telemetry,
        workers: int,
        tagger: MonitorTagger | None = None,
        monitor_tags_max_age_days: float = 0.0,
    ) -> None:
        self._api = api
        self._telemetry = telemetry
        self._workers = workers
        self._tagger = tagger
        self._tags_max_age = monitor_tags_max_age_days
        self._queue: WorkQueue[str] = WorkQueue()
        self._pending: dict[str, Work] = {}
        # The Event each object announced last, newest last. A body the watch
        # delivers after our write can still show the status before it, and
        # would announce the same transition again.
        self._announced: OrderedDict[str, Transition] = OrderedDict()
        # The most objects waiting at once since the backlog was last empty.
        self._backlog_peak = 0
        self._tasks: list[asyncio.Task[None]] = []
        telemetry.waiting.set_function(lambda: self.waiting)

    @property
    def waiting(self) -> int:
        """Objects whose status (or Event, or tags) is still to be written."""
        return len(self._pending)

    def feed(self, resource: Resource, planner: Planner, namespace: str | None = None) -> Feed:
        """The consumer for the informer of one kind in one namespace (None: all)."""
        return Feed(self, resource, planner, namespace)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"kubedora-status-{i}")
            for i in range(self._workers)
        ]

    async def close(self) -> None:
        self._queue.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def plan(self, resource: Resource, planner: Planner, uid: str, body: Body) -> None:
        """Plan one object: what it needs waits for a worker; nothing, if current."""
        meta = body.get("metadata") or {}
        now = datetime.now(UTC)
        plan = planner(body, now)
        tag = None
        if (
            self._tagger is not None
            and plan.failure is not None
            and plan.failure.pagerduty is not None
            and needs_tags(plan.failure, meta.get("annotations"), now, self._tags_max_age)
        ):
            tag = plan.failure.pagerduty.incident_id
        if not plan.changes and plan.transition is None and tag is None:
            self._pending.pop(uid, None)
            return
        patch = pack(plan.changes) if plan.changes else None
        self._pending[uid] = Work(
            resource=resource,
            namespace=sys.intern(str(meta.get("namespace") or "")),
            name=str(meta.get("name") or ""),
            uid=uid,
            patch=patch,
            transition=plan.transition,
            tag_incident=tag,
        )
        self._queue.add(uid)
        self._backlog_peak = max(self._backlog_peak, len(self._pending))

    def waiting_in(self, kind: str, namespace: str | None) -> int:
        """Objects of one kind (in one namespace; None: all) still waiting."""
        return sum(
            1
            for work in self._pending.values()
            if work.resource.kind == kind and namespace in (None, work.namespace)
        )

    def forget(self, uid: str) -> None:
        self._pending.pop(uid, None)
        self._announced.pop(uid, None)

    def retain(self, kind: str, namespace: str | None, uids: Collection[str]) -> None:
        """One informer listed again: what it no longer lists is gone."""
        for uid, work in list(self._pending.items()):
            mine = work.resource.kind == kind and namespace in (None, work.namespace)
            if mine and uid not in uids:
                del self._pending[uid]

    async def _work(self) -> None:
        while True:
            uid = await self._queue.get()
            try:
                await self._telemetry.peering.wait_active()
                # Popped: a plan made while this one is written is kept
                # and comes back through the queue.
                work = self._pending.pop(uid, None)
                if work is None:
                    continue
                try:
                    written = await self._write(work)
                except Exception:
                    # A bug, not the API server: say so loudly, and keep the
                    # worker (and the object, for a later try) alive.
                    log.exception("%s %s/%s: writing the status failed", work.resource.kind,
                                  work.namespace, work.name)  # fmt: skip
                    written = False
                if written:
                    self._queue.forget(uid)
                else:
                    self._pending.setdefault(uid, work)
                    delay = self._queue.retry(uid)
                    log.info("%s %s/%s: retrying in %gs", work.resource.kind,
                             work.namespace, work.name, delay)  # fmt: skip
            finally:
                self._queue.done(uid)
            if not self._pending and self._backlog_peak >= TRIM_AFTER:
                # The burst's patches are gone: give their memory back.
                release_free_memory(f"a backlog of {self._backlog_peak} statuses written")
                self._backlog_peak = 0

    async def _write(self, work: Work) -> bool:
        """Send one object's work; False when it should be tried again."""
        kind = work.resource.kind
        try:
            with self._telemetry.reconciling(kind):
                if work.patch is not None and not await self._patch(work):
                    return True  # gone: nothing left to do
        except ApiException as error:
            refused = error.status in INVALID_STATUSES
            problem = f"{error.status} {status_message(error)}"
        except API_ERRORS as error:
            refused, problem = False, repr(error)
        else:
            refused, problem = False, ""
        if refused:
            # The API server refuses this status: trying again cannot help.
            log.error("%s %s/%s: the status was refused: %s", kind, work.namespace,
                      work.name, problem)  # fmt: skip
            return True
        if problem:
            log.warning("%s %s/%s: writing the status failed: %s", kind, work.namespace,
                        work.name, problem)  # fmt: skip
            return False
        if work.transition is not None and self._announced.get(work.uid) != work.transition:
            await post_event(
                self._api,
                event_type="Normal",
                api_version=work.resource.api_version,
                kind=kind,
                meta={"namespace": work.namespace, "name": work.name, "uid": work.uid},
                reason=work.transition.reason,
                message=work.transition.message,
            )
            self._announce(work.uid, work.transition)
        if work.tag_incident is not None and self._tagger is not None:
            self._tagger.request(work.namespace, work.name, work.tag_incident)
        return True

    def _announce(self, uid: str, transition: Transition) -> None:
        self._announced[uid] = transition
        self._announced.move_to_end(uid)
        # A stale body arrives within seconds of the write: the last few
        # thousand objects are enough, and 100,000 would cost megabytes.
        while len(self._announced) > ANNOUNCED_KEPT:
            self._announced.popitem(last=False)

    async def _patch(self, work: Work) -> bool:
        """Merge the status fields; False when the object is gone."""
        assert work.patch is not None
        return await patch_status(
            self._api, work.resource, work.namespace, work.name, unpack(work.patch)
        )


class Feed:
    """The informer consumer that plans one kind's objects as they pass."""

    def __init__(
        self,
        controller: StatusController,
        resource: Resource,
        planner: Planner,
        namespace: str | None,
    ) -> None:
        self._controller, self._resource, self._planner = controller, resource, planner
        self._namespace = namespace
        self._listed = 0

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        try:
            self._controller.plan(self._resource, self._planner, uid, body)
        except ValidationError as error:
            # A status someone else wrote badly: raising would stop the
            # informer (and the scoreboard) for every object.
            meta = body.get("metadata") or {}
            log.warning("%s %s/%s: its status does not parse, left as it is: %s",
                        self._resource.kind, meta.get("namespace"), meta.get("name"),
                        error)  # fmt: skip
            self._controller.forget(uid)
        if listed:
            self._listed += 1

    def delete(self, uid: str, body: Body) -> None:
        self._controller.forget(uid)

    def retain(self, uids: Collection[str]) -> None:
        self._controller.retain(self._resource.kind, self._namespace, uids)
        if self._listed:
            waiting = self._controller.waiting_in(self._resource.kind, self._namespace)
            log.info("%s listed: %d, of which %d need their status written",
                     self._resource.plural, len(uids), waiting)  # fmt: skip
        self._listed = 0


def failure_planner(
    catalog: CatalogLookup, link: Callable[[str], reconcile.Link] | None = None
) -> Planner:
    """With `link` (namespace -> Link), a Failure's linkedDeployment follows
    the deployments; without, it keeps what it has."""

    def plan(body: Body, now: datetime) -> Plan:
        namespace = str((body.get("metadata") or {}).get("namespace") or "")
        linked = link(namespace) if link is not None else None
        return reconcile.failure(body, now, catalog=catalog, link=linked)

    return plan


def deployment_planner(catalog: CatalogLookup) -> Planner:
    def plan(body: Body, now: datetime) -> Plan:
        return reconcile.deployment(body, now, catalog=catalog)

    return plan
