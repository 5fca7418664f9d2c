"""Follow annotated Services and workloads: report malformed annotations on
the object, and match again the failures and deployments a change can affect.

An object is re-matched by its own kopf handler, not here: a fresh
annotation makes kopf see a change and run the handler, which reads the
catalog as it is then. So there is one writer of each status, and kopf's
per-object ordering makes a late handler run win over an earlier one.

The annotation is outside `kubedora.io/`: kopf's annotation storage treats
every `kubedora.io/` key as its own bookkeeping and leaves it out of change
detection, so a key there would wake nothing."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.catalog.annotations import is_annotated
from kubedora.catalog.changes import CatalogMemory, Change
from kubedora.catalog.index import ObjectRef, parse_object
from kubedora.k8s.client import annotate
from kubedora.k8s.errors import TRANSPORT_ERRORS, UNAVAILABLE_STATUSES
from kubedora.k8s.events import post_event
from kubedora.matching import CatalogKey
from kubedora.models import GROUP, Resource

REMATCH_ANNOTATION = f"catalog.{GROUP}/changed-at"

logger = logging.getLogger(__name__)


class Rematcher:
    """A set of objects waiting to be re-matched, drained by one task.

    A burst of catalog changes touching the same objects costs one write per
    object; writes run a few at a time, and those that fail are retried."""

    def __init__(
        self,
        *,
        concurrency: int = 8,
        retry_seconds: float = 5.0,
        active: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        # Returns once this replica is the active one (peering): only it writes.
        self._active = active
        self._pending: dict[ObjectRef, None] = {}
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def request(self, refs: Iterable[ObjectRef], api: client.ApiClient) -> None:
        added = False
        for ref in refs:
            self._pending[ref] = None
            added = True
        if not added:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(api), name="kubedora-rematch")
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _stamp(self) -> str:
        # Strictly increasing, so that a second change never writes the value
        # already there (an unchanged annotation would wake nothing).
        now = max(datetime.now(UTC), self._last_stamp + timedelta(microseconds=1))
        self._last_stamp = now
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    async def _drain(self, api: client.ApiClient) -> None:
        while True:
            await self._wake.wait()
            if self._active is not None:
                await self._active()
            self._wake.clear()
            while self._pending:
                batch = list(itertools.islice(self._pending, self._concurrency))
                for ref in batch:
                    del self._pending[ref]
                stamp = self._stamp()
                failed = [
                    ref
                    for ref, ok in zip(
                        batch,
                        await asyncio.gather(*(self._poke(api, ref, stamp) for ref in batch)),
                        strict=True,
                    )
                    if not ok
                ]
                if failed:
                    await asyncio.sleep(self._retry_seconds)
                    for ref in failed:
                        self._pending.setdefault(ref)

    async def _poke(self, api: client.ApiClient, ref: ObjectRef, stamp: str) -> bool:
        """True when done (written, gone, or refused for good); False to retry."""
        what = f"{ref.resource.plural}/{ref.namespace}/{ref.name}"
        try:
            await annotate(api, ref.resource, ref.namespace, ref.name, {REMATCH_ANNOTATION: stamp})
        except ApiException as error:
            if error.status in UNAVAILABLE_STATUSES:
                logger.warning(f"could not re-match {what}, will retry: {error.reason}")
                return False
            # Forbidden or invalid: retrying cannot help; the next catalog
            # change or an operator restart matches it again.
            logger.warning(f"could not re-match {what}: {error.status} {error.reason}")
        except TRANSPORT_ERRORS as error:
            logger.warning(f"could not re-match {what}, will retry: {error!r}")
            return False
        return True


DependentsIndex = Mapping[CatalogKey, Collection[ObjectRef]]

INVALID_ANNOTATION = "InvalidCatalogAnnotation"


class CatalogFollower:
    """An informer consumer for one catalog kind (Service, Deployment, …)."""

    def __init__(
        self,
        *,
        resource: Resource,
        api: client.ApiClient,
        rematcher: Rematcher,
        dependents: Sequence[DependentsIndex],
    ) -> None:
        self._resource = resource
        self._api = api
        self._rematcher = rematcher
        self._dependents = dependents
        # The last entry seen of every annotated object of this kind, by uid.
        self.memory = CatalogMemory()
        # Events being posted; held so that they are not collected mid-flight.
        self._posting: set[asyncio.Task[None]] = set()

    def upsert(self, uid: str, body: Mapping[str, Any], *, listed: bool) -> None:
        annotations = (body.get("metadata") or {}).get("annotations") or {}
        if not is_annotated(annotations) and not self.memory.knows(uid):
            return  # most objects in a cluster: not in the catalog, never were
        change = self.memory.update(uid, parse_object(self._resource.kind, body), listed=listed)
        self._follow(change, body)

    def delete(self, uid: str, body: Mapping[str, Any]) -> None:
        self._follow(self.memory.forget(uid), body)

    def retain(self, uids: Collection[str]) -> None:
        for uid in self.memory.known():
            if uid not in uids:
                meta = {"uid": uid, "name": uid}
                self._follow(self.memory.forget(uid), {"metadata": meta})

    def _follow(self, change: Change, body: Mapping[str, Any]) -> None:
        meta = body.get("metadata") or {}
        for problem in change.problems:
            # Informers run outside kopf's handler context, so the Event is
            # posted here; list items carry no kind, hence the explicit one.
            task = asyncio.create_task(
                post_event(
                    self._api,
                    event_type="Warning",
                    api_version=self._resource.api_version,
                    kind=self._resource.kind,
                    meta=meta,
                    reason=INVALID_ANNOTATION,
                    message=problem,
                )
            )
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)
        if not change.keys:
            return
        refs = {
            ref
            for index in self._dependents
            for key in change.keys
            if key in index
            for ref in index[key]
        }
        if refs:
            where = f"{meta.get('namespace')}/{meta.get('name')}"
            logger.info(
                f"catalog {self._resource.kind} {where} changed: re-matching {len(refs)} objects"
            )
            self._rematcher.request(refs, self._api)
