"""A small client of PagerDuty's REST API (v2): `GET /incidents` and
`GET /incidents/{id}/alerts`, paced to stay under the token's rate limit.

PagerDuty allows 960 requests a minute per token and answers 429 beyond it,
with `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds)
headers. Requests of one token share one `RateLimiter`: it spaces them out
and, when a response says the budget is nearly spent, waits for the reset
instead of spending it. A 429 waits `Retry-After` or `ratelimit-reset`; a
5xx, a timeout or a dropped connection backs off and retries; 401 and 403
stop at once (`Refused`): retrying cannot fix a token."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiohttp

from kubedora.ingest.history import (
    PAGE_LIMIT,
    AlertsPage,
    IncidentsPage,
    Window,
    parse_alerts,
    parse_incidents,
)
from kubedora.ingest.payload import PayloadError

log = logging.getLogger("kubedora.pagerduty")

ACCEPT = "application/vnd.pagerduty+json;version=2"
# Leave this many requests of a minute's budget unspent, for the other
# requests of the same token in flight.
_RESERVE = 2
_MAX_WAIT = 120.0


class PagerDutyError(Exception):
    """PagerDuty did not answer what was asked."""


class Refused(PagerDutyError):
    """401/403: the token is wrong, revoked or may not read this."""


class BadRequest(PagerDutyError):
    """A 4xx other than 401/403/404/429, or a body kubedora cannot read."""


class Unreachable(PagerDutyError):
    """5xx, timeouts or 429s every time, up to the last attempt."""


@dataclass
class Tally:
    """Requests sent and how many PagerDuty answered 429."""

    requests: int = 0
    throttled: int = 0


class RateLimiter:
    """Paces the requests of one token: at most `per_minute`, evenly spaced,
    and none while PagerDuty says the budget is spent."""

    def __init__(self, per_minute: float) -> None:
        self._interval = 60.0 / per_minute
        self._lock = asyncio.Lock()
        self._next = 0.0
        self._blocked_until = 0.0

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            wait = max(self._next, self._blocked_until) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = loop.time() + self._interval

    def block(self, seconds: float) -> None:
        """Send nothing for `seconds`."""
        until = asyncio.get_running_loop().time() + min(max(seconds, 0.0), _MAX_WAIT)
        self._blocked_until = max(self._blocked_until, until)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read a response's `ratelimit-*` headers: wait for the reset when
        the budget left is down to the reserve."""
        remaining, reset = (
            _number(headers, "ratelimit-remaining"),
            _number(headers, "ratelimit-reset"),
        )
        if remaining is not None and reset is not None and remaining <= _RESERVE:
            self.block(reset)


class Limiters:
    """One RateLimiter per API and token, for every user of that token."""

    def __init__(self, per_minute: float) -> None:
        self._per_minute = per_minute
        self._limiters: dict[tuple[str, str], RateLimiter] = {}

    def of(self, api_url: str, token: str) -> RateLimiter:
        key = (api_url.rstrip("/"), hashlib.sha256(token.encode()).hexdigest())
        return self._limiters.setdefault(key, RateLimiter(self._per_minute))


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class PagerDutyClient:
    """The REST API at `api_url` with one token. Use as `async with`."""

    def __init__(
        self,
        api_url: str,
        token: str,
        limiter: RateLimiter,
        *,
        tally: Tally | None = None,
        timeout: float = 30.0,
        attempts: int = 8,
        backoff: float = 0.5,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._headers = {"Authorization": f"Token token={token}", "Accept": ACCEPT}
        self._limiter = limiter
        self.tally = tally if tally is not None else Tally()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._attempts = attempts
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def incidents(
        self, window: Window, *, offset: int = 0, limit: int = PAGE_LIMIT, total: bool = False
    ) -> IncidentsPage:
        """One page of the incidents created in the window, oldest first."""
        params = [
            *window.params().items(),
            ("limit", str(limit)),
            ("offset", str(offset)),
            ("total", "true" if total else "false"),
            ("sort_by", "created_at:asc"),
        ]
        body = await self.get("/incidents", params)
        try:
            return parse_incidents(body)
        except PayloadError as error:
            raise BadRequest(f"GET /incidents: unreadable answer: {error.detail}") from error

    async def alerts(self, incident_id: str) -> AlertsPage:
        """The incident's alerts (first page: enough for its monitor's tags)."""
        body = await self.get(
            f"/incidents/{incident_id}/alerts", [("limit", str(PAGE_LIMIT))], missing_ok=True
        )
        if not body:  # the incident is gone
            return AlertsPage(alerts=[])
        try:
            return parse_alerts(body)
        except PayloadError as error:
            raise BadRequest(
                f"GET alerts of {incident_id}: unreadable answer: {error.detail}"
            ) from error

    async def get(
        self, path: str, params: Sequence[tuple[str, str]], *, missing_ok: bool = False
    ) -> bytes:
        """The body of a 2xx answer, retrying what a retry can fix."""
        if self._session is None:
            raise RuntimeError("use PagerDutyClient as `async with`")
        problem = "no attempt made"
        for attempt in range(self._attempts):
            await self._limiter.acquire()
            self.tally.requests += 1
            try:
                async with self._session.get(
                    self._base + path, params=list(params), headers=self._headers
                ) as response:
                    body = await response.read()
                    self._limiter.observe(response.headers)
                    status = response.status
                    headers = response.headers
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = f"{type(error).__name__}: {error}"
                await self._back_off(attempt, path, problem)
                continue
            if status < 300:
                return body
            if status == 429:
                self.tally.throttled += 1
                wait = _number(headers, "retry-after") or _number(headers, "ratelimit-reset") or 1.0
                log.info("PagerDuty throttled GET %s; waiting %.1fs", path, wait)
                self._limiter.block(wait)
                problem = "429 Too Many Requests"
                continue
            detail = body[:300].decode(errors="replace")
            if status in (401, 403):
                raise Refused(f"GET {path}: {status} {detail}")
            if status == 404 and missing_ok:
                return b""
            if status >= 500:
                problem = f"{status} {detail}"
                await self._back_off(attempt, path, problem)
                continue
            raise BadRequest(f"GET {path}: {status} {detail}")
        raise Unreachable(f"GET {path}: gave up after {self._attempts} attempts: {problem}")

    async def _back_off(self, attempt: int, path: str, problem: str) -> None:
        delay = min(30.0, self._backoff * 2**attempt) * random.uniform(0.5, 1.0)
        log.warning("PagerDuty GET %s failed (%s); retrying in %.1fs", path, problem, delay)
        await asyncio.sleep(delay)
