"""Follow annotated Services and workloads: report malformed annotations on
the object, and re-match what a change can affect."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from kubernetes_asyncio import client

from kubedora.catalog import CatalogMemory, Change, ObjectRef, is_annotated, parse_object
from kubedora.handlers.rematch import Rematcher
from kubedora.k8s.events import post_warning
from kubedora.matching import CatalogKey

DependentsIndex = Mapping[CatalogKey, Collection[ObjectRef]]

INVALID_ANNOTATION = "InvalidCatalogAnnotation"

logger = logging.getLogger(__name__)


class CatalogFollower:
    """An informer consumer for one catalog kind (Service, Deployment, …)."""

    def __init__(
        self,
        *,
        kind: str,
        api_version: str,
        api: client.ApiClient,
        rematcher: Rematcher,
        dependents: Sequence[DependentsIndex],
    ) -> None:
        self._kind = kind
        self._api_version = api_version
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
        change = self.memory.observe(uid, parse_object(self._kind, body), listed=listed)
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
                post_warning(
                    self._api,
                    api_version=self._api_version,
                    kind=self._kind,
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
            logger.info(f"catalog {self._kind} {where} changed: re-matching {len(refs)} objects")
            self._rematcher.request(refs, self._api)
