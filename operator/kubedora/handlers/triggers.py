"""Per-namespace wake-ups for scoreboard recomputes.

Each Failure/Deployment event bumps its namespace's counter; every DoraSource
loop remembers the counter it last computed for. Counters, not one shared
flag, so that one DoraSource consuming a wake-up never hides it from another
in the same namespace."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class Triggers:
    def __init__(self) -> None:
        self._counters: dict[str, int] = defaultdict(int)
        # One event per namespace that somebody waits on; set and dropped on
        # touch, so the next waiter gets a fresh one.
        self._events: dict[str, asyncio.Event] = {}

    def touch(self, namespace: str) -> None:
        self._counters[namespace] += 1
        event = self._events.pop(namespace, None)
        if event is not None:
            event.set()

    def counter(self, namespace: str) -> int:
        return self._counters[namespace]

    async def wait_beyond(self, namespace: str, seen: int, timeout: float) -> int:
        """Wait until the namespace's counter passes `seen` or the timeout ends;
        return the counter then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._counters[namespace] <= seen:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = self._events.setdefault(namespace, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                break
        return self._counters[namespace]
