"""A work queue with client-go's guarantees, for asyncio.

A key waits in the queue at most once however often it is added; one worker
at a time has it; a key added while a worker has it comes back once that
worker is done, so no change is lost and none is handled twice at once. A
key that failed comes back after a delay that doubles with each failure, up
to a cap, and starts again from the base once it succeeds (`forget`)."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 300.0


class WorkQueue(Generic[K]):
    def __init__(
        self,
        *,
        base_delay: float = BASE_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self._ready: asyncio.Queue[K] = asyncio.Queue()
        # Queued, or to be queued again when its worker is done.
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._base_delay, self._max_delay = base_delay, max_delay

    def __len__(self) -> int:
        """Keys waiting for a worker (not those delayed or being worked on)."""
        return self._ready.qsize()

    @property
    def delayed(self) -> int:
        return len(self._timers)

    def add(self, key: K) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._ready.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Add the key after `delay` seconds; an earlier delay already set wins."""
        if key in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._due, key)

    def retry(self, key: K) -> float:
        """Add the key again after its next back-off delay; the delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(self._base_delay * 2.0**failures, self._max_delay)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key succeeded: its next failure starts from the base delay."""
        self._failures.pop(key, None)

    async def get(self) -> K:
        key = await self._ready.get()
        self._dirty.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        """The worker is done with the key; it comes back if it was added since."""
        self._processing.discard(key)
        if key in self._dirty:
            self._ready.put_nowait(key)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _due(self, key: K) -> None:
        del self._timers[key]
        self.add(key)
