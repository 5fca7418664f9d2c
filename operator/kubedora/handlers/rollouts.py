"""The rollout watcher: rollouts of catalog workloads become Deployments
(`source: kubernetes`) in the operator's home namespace.

Fed by the operator's informers: the catalog informers of the apps/v1
kinds, one of ReplicaSets and one of ControllerRevisions, and those of our
Deployments (to know what is recorded already). The decisions are
`ingest.rollouts`; this module keeps the latest of each workload and
revision, and one task writes what they decide. A Deployment is created
once and never rewritten: its name is deterministic, so a restart or a
re-list that decides the same rollout again finds it (409) and moves on."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio import client

from kubedora.ingest import rollouts
from kubedora.ingest.rollouts import Revision, Workload
from kubedora.k8s.errors import API_ERRORS
from kubedora.k8s.informer import Body
from kubedora.k8s.objects import SOURCE_LABEL, Object, custom_object, upsert
from kubedora.models import DEPLOYMENTS, DeploymentSource

log = logging.getLogger("kubedora.rollouts")

RETRY_SECONDS = 2.0


class RolloutWatcher:
    def __init__(
        self,
        api: client.ApiClient,
        home: str,
        *,
        timeout: float = 10.0,
        active: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.home = home
        # Returns once this replica is the active one (peering): only it records.
        self._active = active
        self._api = api
        self._timeout = timeout
        self._workloads: dict[str, Workload] = {}
        self._revisions: dict[str, dict[str, Revision]] = defaultdict(dict)
        self._revision_owner: dict[str, str] = {}
        # (workload uid, revision number) -> when this run first saw it in progress.
        self._first_seen: dict[tuple[str, int], datetime] = {}
        self._recorded: set[str] = set()
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()

    # --- consumers of the informers -------------------------------------------

    def workloads(self, kind: str) -> _Workloads:
        return _Workloads(self, kind)

    def revisions(self) -> _Revisions:
        """A consumer for one revision informer. One each: a re-list's
        retain() forgets what that informer no longer lists, and must not
        forget what another one lists."""
        return _Revisions(self)

    def recorded(self) -> _Recorded:
        return _Recorded(self)

    def _touch(self, uid: str) -> None:
        self._dirty.add(uid)
        self._wake.set()

    # --- the writer -------------------------------------------------------------

    async def run(self, synced: Callable[[], Awaitable[None]]) -> None:
        """Until cancelled: decide and record every workload that changed."""
        # A half-listed view would decide with missing revisions.
        await synced()
        log.info("following rollouts; recording them in namespace %s", self.home)
        while True:
            await self._wake.wait()
            if self._active is not None:
                await self._active()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            failed = False
            for uid in sorted(dirty):
                try:
                    await self._decide(uid)
                except API_ERRORS as error:
                    log.warning("could not record a rollout, retrying: %s", error)
                    self._dirty.add(uid)
                    failed = True
            if failed:
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()

    async def _decide(self, uid: str) -> None:
        workload = self._workloads.get(uid)
        if workload is None:
            return
        revision = rollouts.current_revision(workload, self._revisions.get(uid, {}).values())
        number = rollouts.revision_number(workload, revision)
        now = datetime.now(UTC)
        first_seen = None
        if number is not None:
            first_seen = self._first_seen.get((uid, number))
            if first_seen is None and rollouts.outcome(workload) is None:
                first_seen = self._first_seen[(uid, number)] = now
        verdict = rollouts.verdict(workload, revision, first_seen, now)
        if verdict is None or verdict.name in self._recorded:
            return
        spec = verdict.spec

        def build(stored: Object | None) -> Object | None:
            if stored is not None:
                return None  # recorded before: the first verdict stands
            return custom_object(
                DEPLOYMENTS,
                verdict.name,
                spec,
                labels={SOURCE_LABEL: DeploymentSource.KUBERNETES.value},
            )

        result = await upsert(
            self._api,
            resource=DEPLOYMENTS,
            namespace=self.home,
            name=verdict.name,
            build=build,
            create_first=True,
            timeout=self._timeout,
        )
        self._recorded.add(verdict.name)
        if number is not None:
            # Decided for good: the start is no longer needed.
            self._first_seen.pop((uid, number), None)
        log.info(
            "rollout recorded",
            extra={
                "deployment": verdict.name,
                "outcome": result.outcome.value,
                "workload": f"{workload.kind}/{workload.namespace}/{workload.name}",
                "version": spec.version,
                "result": spec.outcome.value,
            },
        )


class _Workloads:
    """Consumer of one catalog kind's informer."""

    def __init__(self, watcher: RolloutWatcher, kind: str) -> None:
        self._watcher, self._kind = watcher, kind
        self._mine: set[str] = set()

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        workload = rollouts.workload_of(self._kind, body)
        if workload is None:
            self.delete(uid, body)
            return
        self._mine.add(uid)
        self._watcher._workloads[uid] = workload
        self._watcher._touch(uid)

    def delete(self, uid: str, body: Body) -> None:
        if uid in self._mine:
            self._mine.discard(uid)
            self._watcher._workloads.pop(uid, None)

    def retain(self, uids: Collection[str]) -> None:
        for uid in [uid for uid in self._mine if uid not in uids]:
            self.delete(uid, {})


class _Revisions:
    """Consumer of the ReplicaSet and ControllerRevision informers."""

    def __init__(self, watcher: RolloutWatcher) -> None:
        self._watcher = watcher
        self._seen: set[str] = set()

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        revision = rollouts.revision_of(body)
        if revision is None:
            self.delete(uid, body)
            return
        watcher = self._watcher
        self._seen.add(uid)
        watcher._revisions[revision.owner_uid][uid] = revision
        watcher._revision_owner[uid] = revision.owner_uid
        if revision.owner_uid in watcher._workloads:
            watcher._touch(revision.owner_uid)

    def delete(self, uid: str, body: Body) -> None:
        self._seen.discard(uid)
        owner = self._watcher._revision_owner.pop(uid, None)
        if owner is not None:
            owned = self._watcher._revisions.get(owner, {})
            owned.pop(uid, None)
            if not owned:
                self._watcher._revisions.pop(owner, None)

    def retain(self, uids: Collection[str]) -> None:
        for uid in [uid for uid in self._seen if uid not in uids]:
            self.delete(uid, {})


class _Recorded:
    """Consumer of our Deployments' informer: the rollouts recorded already
    (so that a re-list costs no write)."""

    def __init__(self, watcher: RolloutWatcher) -> None:
        self._watcher = watcher

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        meta: dict[str, Any] = dict(body.get("metadata") or {})
        labels = meta.get("labels") or {}
        source = DeploymentSource.KUBERNETES.value
        if meta.get("namespace") == self._watcher.home and labels.get(SOURCE_LABEL) == source:
            self._watcher._recorded.add(str(meta.get("name")))

    def delete(self, uid: str, body: Body) -> None:
        # Deleted by hand: a later decision of the same rollout records it again.
        self._watcher._recorded.discard(str((body.get("metadata") or {}).get("name")))

    def retain(self, uids: Collection[str]) -> None:
        """Names, not uids, are kept: nothing to compare."""
