"""A list-then-watch cache of one resource kind, like client-go's informers.

kopf indexes cost O(N²) at startup (every object's worker waits on one shared
condition that each of the N objects notifies), which does not finish for
100,000 objects. An informer lists in pages, says when it is synced, then
follows a watch from the list's resourceVersion and relists when that
version has expired (410 Gone). Values are derived from each object by a pure
function and kept per namespace, so memory is what the values take."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

V = TypeVar("V")
Body = Mapping[str, Any]
log = logging.getLogger("kubedora.informer")

PAGE_SIZE = 500
WATCH_SECONDS = 300
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class Kind:
    """Where a kind lives in the API: ("", "v1", "services"), ("apps", "v1", "deployments")."""

    group: str
    version: str
    plural: str

    def path(self, namespace: str | None) -> str:
        prefix = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{where}/{self.plural}"


class Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


class Informer(Generic[V]):
    def __init__(
        self,
        api: client.ApiClient,
        kind: Kind,
        value_of: Callable[[Body], V | None],
        *,
        namespace: str | None = None,
        on_change: Callable[[str, V | None, V | None], None] | None = None,
    ) -> None:
        self._api = api
        self._kind = kind
        self._value_of = value_of
        self._namespace = namespace
        self._on_change = on_change
        self._values: dict[str, dict[str, V]] = defaultdict(dict)
        self.synced = asyncio.Event()

    def values(self, namespace: str) -> Iterator[V]:
        return iter(self._values.get(namespace, {}).values())

    def all_values(self) -> Iterator[V]:
        for values in self._values.values():
            yield from values.values()

    def __len__(self) -> int:
        return sum(len(values) for values in self._values.values())

    async def run(self) -> None:
        """List and watch until cancelled; transient errors are retried."""
        while True:
            try:
                version = await self._list()
                self.synced.set()
                while True:
                    version = await self._watch(version)
            except Gone:
                log.info("%s: watch expired, listing again", self._kind.plural)
            except (ApiException, aiohttp.ClientError, OSError, TimeoutError) as error:
                log.warning("%s: %s; retrying in %ss", self._kind.plural, error, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)

    async def _get(self, query: list[tuple[str, str]], timeout: float | None) -> Any:
        return await self._api.call_api(
            self._kind.path(self._namespace),
            "GET",
            query_params=query,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=timeout,
        )

    async def _list(self) -> str:
        fresh: dict[str, dict[str, V]] = defaultdict(dict)
        token = ""
        while True:
            query = [("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
            response = await self._get(query, 60)
            try:
                page = json.loads(await response.read())
            finally:
                response.release()
            for body in page.get("items") or ():
                value = self._value_of(body)
                if value is not None:
                    meta = body["metadata"]
                    fresh[meta.get("namespace", "")][meta["uid"]] = value
            token = page["metadata"].get("continue") or ""
            if not token:
                break
        previous, self._values = self._values, fresh
        self._announce_differences(previous, fresh)
        version: str = page["metadata"]["resourceVersion"]
        return version

    def _announce_differences(
        self, previous: Mapping[str, dict[str, V]], fresh: Mapping[str, dict[str, V]]
    ) -> None:
        if self._on_change is None:
            return
        for namespace in set(previous) | set(fresh):
            old, new = previous.get(namespace, {}), fresh.get(namespace, {})
            for uid in set(old) | set(new):
                if old.get(uid) != new.get(uid):
                    self._on_change(namespace, old.get(uid), new.get(uid))

    async def _watch(self, version: str) -> str:
        query = [
            ("watch", "true"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        response = await self._get(query, WATCH_SECONDS + 30)
        # Split events on newlines ourselves: aiohttp's line reader refuses
        # lines over 64 KiB, and an object's line can be longer than that.
        pending = b""
        try:
            async for chunk in response.content.iter_any():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        version = self._apply(json.loads(line), version)
        finally:
            response.release()
        return version

    def _apply(self, event: Mapping[str, Any], version: str) -> str:
        kind, body = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if body.get("code") == 410:
                raise Gone
            raise ApiException(status=body.get("code"), reason=body.get("message"))
        meta = body.get("metadata") or {}
        if kind != "BOOKMARK":
            namespace, uid = meta.get("namespace", ""), meta["uid"]
            old = self._values[namespace].get(uid)
            new = None if kind == "DELETED" else self._value_of(body)
            if new is None:
                self._values[namespace].pop(uid, None)
            else:
                self._values[namespace][uid] = new
            if self._on_change is not None and old != new:
                self._on_change(namespace, old, new)
        return str(meta.get("resourceVersion") or version)


@contextlib.asynccontextmanager
async def running(*informers: Informer[Any]) -> Any:
    """Run informers in the background for the duration of the block."""
    tasks = [asyncio.create_task(informer.run()) for informer in informers]
    try:
        yield informers
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
