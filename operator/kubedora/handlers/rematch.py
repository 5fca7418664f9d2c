"""Match failures and deployments again when the catalog changes under them.

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
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubedora.catalog import ObjectRef
from kubedora.k8s.client import annotate
from kubedora.k8s.errors import UNAVAILABLE_STATUSES

REMATCH_ANNOTATION = "catalog.kubedora.io/changed-at"

logger = logging.getLogger(__name__)


class Rematcher:
    """A set of objects waiting to be re-matched, drained by one task.

    A burst of catalog changes touching the same objects costs one write per
    object; writes run a few at a time, and those that fail are retried."""

    def __init__(self, *, concurrency: int = 8, retry_seconds: float = 5.0) -> None:
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
        what = f"{ref.plural}/{ref.namespace}/{ref.name}"
        try:
            await annotate(api, ref.plural, ref.namespace, ref.name, {REMATCH_ANNOTATION: stamp})
        except ApiException as error:
            if error.status in UNAVAILABLE_STATUSES:
                logger.warning(f"could not re-match {what}, will retry: {error.reason}")
                return False
            # Forbidden or invalid: retrying cannot help; the next catalog
            # change or an operator restart matches it again.
            logger.warning(f"could not re-match {what}: {error.status} {error.reason}")
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            logger.warning(f"could not re-match {what}, will retry: {error!r}")
            return False
        return True
