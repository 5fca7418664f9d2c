"""A list-then-watch cache of one resource kind, like client-go's informers.

kopf indexes cost O(N²) at startup (every object's worker waits on one shared
condition that each of the N objects notifies), which does not finish for
100,000 objects. An informer lists in pages, says when it is synced, then
follows a watch from the list's resourceVersion and lists again when that
version has expired (410 Gone). It keeps no objects itself: consumers derive
what they need from each body as it passes (see KeyedIndex)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.k8s.errors import API_ERRORS, UNAVAILABLE_STATUSES
from kubedora.models import Resource

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
Body = Mapping[str, Any]
log = logging.getLogger("kubedora.informer")

PAGE_SIZE = 500
WATCH_SECONDS = 300
RETRY_SECONDS = 2.0
PAGE_ATTEMPTS = 5


class Consumer(Protocol):
    """Follows one kind's objects as the informer sees them."""

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        """An object as listed (`listed`) or as a watch event shows it."""

    def delete(self, uid: str, body: Body) -> None:
        """The object is gone."""

    def retain(self, uids: Collection[str]) -> None:
        """A (re)list is complete: anything not in `uids` is gone."""


class Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


class Informer:
    def __init__(
        self,
        api: client.ApiClient,
        resource: Resource,
        consumers: Sequence[Consumer],
        *,
        namespace: str | None = None,
    ) -> None:
        self.resource = resource
        self._api = api
        self._consumers = consumers
        self._namespace = namespace
        self.synced = asyncio.Event()

    @property
    def namespace(self) -> str | None:
        """The namespace followed; None for all of them."""
        return self._namespace

    async def supervised(self) -> None:
        """run(), restarted after any failure: a consumer's bug must not leave
        the operator serving figures that silently stopped moving."""
        while True:
            try:
                await self.run()
            except Exception:
                log.exception("%s: the informer failed; listing again", self.resource.plural)
                await asyncio.sleep(RETRY_SECONDS)

    async def run(self) -> None:
        """List and watch until cancelled; transient errors are retried."""
        while True:
            try:
                version = await self._list()
                self.synced.set()
                while True:
                    version = await self._watch(version)
            except Gone:
                log.info("%s: watch expired, listing again", self.resource.plural)
            except API_ERRORS as error:
                log.warning("%s: %s; retrying in %ss", self.resource.plural, error, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)

    async def _get(self, query: list[tuple[str, str]], timeout: float | None) -> Any:
        response = await self._api.call_api(
            self.resource.path(self._namespace),
            "GET",
            query_params=query,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=timeout,
        )
        # Unread responses are not checked by the client: an error (a 503
        # while the API server restarts, a 403) would read as an empty list
        # and make the consumers forget every object.
        if not 200 <= response.status < 300:
            try:
                body = await response.read()
            finally:
                response.release()
            raise ApiException(status=response.status, reason=body.decode(errors="replace")[:200])
        return response

    async def _list(self) -> str:
        seen: set[str] = set()
        token = ""
        while True:
            query = [("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
            page = await self._page(query)
            # Only the first listing is "listed": after a relist, what is new
            # appeared while we were not watching, and counts as a change.
            first = not self.synced.is_set()
            for body in page.get("items") or ():
                uid = body["metadata"]["uid"]
                seen.add(uid)
                for consumer in self._consumers:
                    consumer.upsert(uid, body, listed=first)
            token = page["metadata"].get("continue") or ""
            if not token:
                break
        for consumer in self._consumers:
            consumer.retain(seen)
        version: str = page["metadata"]["resourceVersion"]
        return version

    async def _page(self, query: list[tuple[str, str]]) -> Any:
        """One page of the list. A page that fails is asked again (its
        continue token holds for minutes): starting the whole list over
        after every 504 of a busy API server would never finish 100,000
        objects. An expired token (410) lists again from the start."""
        for attempt in range(PAGE_ATTEMPTS):
            try:
                response = await self._get(query, 60)
                try:
                    return json.loads(await response.read())
                finally:
                    response.release()
            except ApiException as error:
                if error.status == 410:
                    raise Gone from error
                # 403, 404: asking again soon cannot help.
                if error.status not in UNAVAILABLE_STATUSES or attempt + 1 == PAGE_ATTEMPTS:
                    raise
                problem = f"{error.status} {error.reason}"
            except API_ERRORS as error:
                if attempt + 1 == PAGE_ATTEMPTS:
                    raise
                problem = repr(error)
            log.warning("%s: a page of the list failed (%s); asking again in %ss",
                        self.resource.plural, problem[:200], RETRY_SECONDS)  # fmt: skip
            await asyncio.sleep(RETRY_SECONDS)
        raise AssertionError("unreachable")

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
        if kind in ("ADDED", "MODIFIED"):
            for consumer in self._consumers:
                consumer.upsert(meta["uid"], body, listed=False)
        elif kind == "DELETED":
            for consumer in self._consumers:
                consumer.delete(meta["uid"], body)
        return str(meta.get("resourceVersion") or version)


class KeyedIndex(Mapping[K, Collection[V]], Generic[K, V]):
    """key -> the values of every object filed under it: what a kopf index
    offers, fed by an informer. `index_of` files one body under keys (or
    nowhere: None); lookups are one dict access. `on_change` hears each
    object whose filing changed.

    Held per object: its entry under each key, and its keys as a tuple
    shared with every object filed under the same keys (usually all of a
    namespace's), so 100,000 objects cost no 100,000 small mappings."""

    def __init__(
        self,
        index_of: Callable[[Body], Mapping[K, V] | None] | None = None,
        on_change: Callable[[Mapping[K, V], Mapping[K, V]], None] | None = None,
    ) -> None:
        # None: filed by a Derived consumer, not from bodies of its own.
        self._index_of = index_of
        self._on_change = on_change
        self._by_key: dict[K, dict[str, V]] = defaultdict(dict)
        self._filed: dict[str, tuple[K, ...]] = {}
        # Each distinct tuple of keys once, with how many objects use it.
        self._key_sets: dict[tuple[K, ...], tuple[tuple[K, ...], int]] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: K) -> Collection[V]:
        found = self._by_key.get(key)
        if found is None:
            raise KeyError(key)
        return found.values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def objects(self) -> int:
        """How many objects are filed under at least one key."""
        return len(self._filed)

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        if self._index_of is not None:
            self.file(uid, self._index_of(body))

    def delete(self, uid: str, body: Body) -> None:
        self.file(uid, None)

    def retain(self, uids: Collection[str]) -> None:
        for uid in [uid for uid in self._filed if uid not in uids]:
            self.file(uid, None)

    def filed(self, uid: str) -> dict[K, V]:
        """What the object is filed under now: key -> its value."""
        return {key: self._by_key[key][uid] for key in self._filed.get(uid, ())}

    def file(self, uid: str, filing: Mapping[K, V] | None) -> None:
        """File the object under these keys (None: nowhere)."""
        new = filing or {}
        old = self.filed(uid)
        if old == new:
            return
        for key in old:
            values = self._by_key[key]
            values.pop(uid, None)
            if not values:
                del self._by_key[key]
        if old:
            self._release(self._filed.pop(uid))
        for key, value in new.items():
            self._by_key[key][uid] = value
        if new:
            self._filed[uid] = self._share(tuple(new))
        if self._on_change is not None:
            self._on_change(old, new)

    def _share(self, keys: tuple[K, ...]) -> tuple[K, ...]:
        shared, users = self._key_sets.get(keys, (keys, 0))
        self._key_sets[shared] = (shared, users + 1)
        return shared

    def _release(self, keys: tuple[K, ...]) -> None:
        shared, users = self._key_sets[keys]
        if users > 1:
            self._key_sets[shared] = (shared, users - 1)
        else:
            del self._key_sets[shared]


# Where a derived value is filed in one index: (body, value) -> key -> value.
Filing = Callable[[Body, T], Mapping[Any, Any] | None]


class Derived(Generic[T]):
    """A consumer that derives one value per body (None: nothing to file)
    and files it in several KeyedIndexes, each under keys of its own: built
    once, the value is shared, not held once per index."""

    def __init__(
        self,
        derive: Callable[[Body], T | None],
        filings: Sequence[tuple[KeyedIndex[Any, Any], Filing[T]]],
    ) -> None:
        self._derive = derive
        self._filings = filings

    def upsert(self, uid: str, body: Body, *, listed: bool) -> None:
        value = self._derive(body)
        if value is not None:
            # A change that leaves the value as it was (a status write) keeps
            # the one filed already: otherwise the indexes would end up
            # holding two equal copies. The first index files the value itself.
            for filed in self._filings[0][0].filed(uid).values():
                if filed == value:
                    value = filed
                    break
        for index, file_under in self._filings:
            index.file(uid, None if value is None else file_under(body, value))

    def delete(self, uid: str, body: Body) -> None:
        for index, _ in self._filings:
            index.delete(uid, body)

    def retain(self, uids: Collection[str]) -> None:
        for index, _ in self._filings:
            index.retain(uids)


@contextlib.asynccontextmanager
async def running(*informers: Informer) -> AsyncIterator[Sequence[Informer]]:
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
