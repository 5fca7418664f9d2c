"""One writer at a time per object within this process.

Conflicts between replicas are resolved by resourceVersion retries; inside
one replica, queueing deliveries for the same incident is cheaper than
letting them collide."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLock:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                # Nobody waits on it: forget it, or the dict grows forever.
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
