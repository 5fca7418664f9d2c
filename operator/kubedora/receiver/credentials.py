"""A short-lived cache of the DoraSources' credentials, shared by all requests.

Deliveries come in bursts; reading the DoraSources and their Secrets for
each would triple the API traffic. The cache is reloaded after `ttl`
seconds, and early when a key is refused (a key created a moment ago must
work), but at most once per `min_refresh` so that wrong keys cannot drive
the API server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from kubedora.k8s.dorasources import SourceCredentials
from kubedora.models import FailureSource
from kubedora.receiver.auth import Denied, authenticate

log = logging.getLogger("kubedora.receiver.credentials")

Loader = Callable[[], Awaitable[list[SourceCredentials]]]
Clock = Callable[[], float]


class CredentialCache:
    def __init__(
        self,
        load: Loader,
        *,
        ttl: float,
        min_refresh: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._clock = clock
        self._sources: list[SourceCredentials] | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._problems: set[tuple[str, str]] = set()

    async def current(self) -> Sequence[SourceCredentials]:
        """The credentials, reloaded when older than ttl. Raises what the
        loader raises (Unavailable when the API server is unreachable)."""
        if self._sources is None or self._age() >= self._ttl:
            return await self._reload(max_age=self._ttl)
        return self._sources

    async def authorized(
        self, source: FailureSource, api_key: str | None
    ) -> list[SourceCredentials]:
        """authenticate() against the cache; a refused key triggers one reload."""
        sources = await self.current()
        try:
            return authenticate(sources, source, api_key)
        except Denied as denied:
            if denied.status != 403 or self._age() < self._min_refresh:
                raise
        sources = await self._reload(max_age=self._min_refresh)
        return authenticate(sources, source, api_key)

    def _age(self) -> float:
        return self._clock() - self._loaded_at

    async def _reload(self, *, max_age: float) -> list[SourceCredentials]:
        # One load at a time; whoever waited behind it reuses its result.
        async with self._lock:
            if self._sources is not None and self._age() < max_age:
                return self._sources
            sources = await self._load()
            self._sources = sources
            self._loaded_at = self._clock()
            self._report(sources)
            return sources

    def _report(self, sources: Sequence[SourceCredentials]) -> None:
        # Why a key may be refused (a missing Secret, say), once per change
        # rather than at every reload.
        problems = {(s.name, problem) for s in sources for problem in s.problems}
        for name, problem in sorted(problems - self._problems):
            log.warning(
                "DoraSource credentials incomplete", extra={"dorasource": name, "detail": problem}
            )
        self._problems = problems
