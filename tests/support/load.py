"""Load generators that behave like the real senders, for chaos tests and
soak runs.

`PagerDuty` delivers v3 webhooks the way PagerDuty does: at least once,
retrying 5xx, 429, connection errors and timeouts with exponential backoff
and jitter, and in order per incident (the next event of an incident goes
out only once the previous one got a 2xx), many incidents at once. With
`duplicate_and_shuffle` every delivery goes out three times in a random
order within its incident: the ordering PagerDuty keeps is lost.

`DatadogCI` posts deployments as `datadog-ci dora deployment` does, with
DD-API-KEY and the same retries.

Both keep their own record (`Tally`): what was sent and answered, and every
delivery answered 2xx, so that a check can prove none of them was lost.
The expected outcome of each incident (final state, time to restore) comes
from its plan alone, computed here, not by kubedora's code."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.support.receiver import API_KEY, DORA_DEPLOYMENT, WEBHOOK, encode, pd_delivery

TRIGGER, ACK, RESOLVE, REOPEN = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.resolved",
    "incident.reopened",
)
# How each event moves the incident (an acknowledgement does not).
_MOVES = {TRIGGER: "active", REOPEN: "active", RESOLVE: "resolved"}
# PagerDuty waits 5 s for an answer before it counts the delivery as failed.
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class Step:
    kind: str
    at: datetime
    event_id: str


@dataclass(frozen=True)
class IncidentPlan:
    """One incident's events, in the order PagerDuty sends them."""

    incident_id: str
    created_at: datetime
    steps: tuple[Step, ...]

    @property
    def failure_name(self) -> str:
        return f"pd-{self.incident_id.lower()}"

    def transitions(self) -> list[tuple[str, datetime]]:
        return [(_MOVES[step.kind], step.at) for step in self.steps if step.kind in _MOVES]

    @property
    def final_state(self) -> str:
        return self.transitions()[-1][0]

    @property
    def ttr_seconds(self) -> float | None:
        """The time spent active over all active periods; none while open."""
        total, since = 0.0, None
        for state, at in self.transitions():
            if state == "active":
                since = since or at
            elif since is not None:
                total += (at - since).total_seconds()
                since = None
        return total if self.final_state == "resolved" else None

    def deliveries(self) -> list[tuple[Step, bytes]]:
        return [
            (
                step,
                encode(
                    pd_delivery(
                        step.kind,
                        self.incident_id,
                        step.at,
                        created_at=self.created_at,
                        event_id=step.event_id,
                    )
                ),
            )
            for step in self.steps
        ]


def plan_incidents(
    prefix: str, count: int, *, seed: int = 1, now: datetime | None = None
) -> list[IncidentPlan]:
    """`count` incidents of the last two weeks: most triggered, acknowledged
    and resolved; some reopened and resolved again; some left open."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    plans = []
    for i in range(count):
        incident_id = f"{prefix}{i:06d}".upper()
        created = now - timedelta(hours=rng.uniform(12, 14 * 24))
        # Milliseconds, as PagerDuty stamps its events.
        created = created.replace(microsecond=created.microsecond // 1000 * 1000)
        moment = created
        kinds = [TRIGGER, ACK, RESOLVE]
        shape = rng.random()
        if shape < 0.15:
            kinds += [REOPEN, ACK, RESOLVE]
        elif shape < 0.25:
            kinds = [TRIGGER, ACK]
        steps = []
        for n, kind in enumerate(kinds):
            if n:
                moment += timedelta(seconds=rng.randint(30, 3600), milliseconds=rng.randint(0, 999))
            steps.append(Step(kind, moment, f"{incident_id}-{n}"))
        plans.append(IncidentPlan(incident_id, created, tuple(steps)))
    return plans


@dataclass
class Tally:
    """What a generator sent and what it was told."""

    deliveries: int = 0
    sent: int = 0
    ok: int = 0
    unavailable: int = 0
    errors: int = 0
    retries: int = 0
    gave_up: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # Event ids (and deployment names) answered 2xx at least once.
    acked: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    _waiting: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def answered(self, count: int) -> asyncio.Event:
        """An event set once `count` deliveries got a 2xx."""
        event = asyncio.Event()
        self._waiting.append((count, event))
        self.count_ok(0)
        return event

    def count_ok(self, more: int = 1) -> None:
        self.ok += more
        for count, event in self._waiting:
            if self.ok >= count:
                event.set()

    @property
    def other(self) -> int:
        """Answers neither 2xx nor 503."""
        return sum(n for code, n in self.statuses.items() if code != 503 and not 200 <= code < 300)

    def p99_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, and when to give up."""

    first: float = 0.2
    cap: float = 5.0
    give_up_after: float = 180.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.first * 2**attempt))


class _Sender:
    """At-least-once POSTs of one body with retries, recorded in a Tally."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, tally: Tally, backoff: Backoff
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.tally = tally
        self.backoff = backoff
        self.rng = random.Random()

    async def deliver(self, path: str, body: bytes, headers: dict[str, str]) -> bytes | None:
        """The 2xx answer's body, or None when the sender drops the delivery
        (a 4xx other than 429, or retries for longer than give_up_after)."""
        self.tally.deliveries += 1
        started = time.monotonic()
        attempt = 0
        while True:
            self.tally.sent += 1
            sent_at = time.perf_counter()
            try:
                async with self.session.post(
                    self.base_url + path,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                ) as reply:
                    answer = await reply.read()
                    status = reply.status
            except (aiohttp.ClientError, TimeoutError):
                self.tally.errors += 1
                status = 0
            else:
                self.tally.statuses[status] += 1
                self.tally.latencies.append(time.perf_counter() - sent_at)
                if 200 <= status < 300:
                    self.tally.count_ok()
                    return answer
                if status == 503:
                    self.tally.unavailable += 1
            if status and status < 500 and status != 429:
                return None
            if time.monotonic() - started > self.backoff.give_up_after:
                self.tally.gave_up += 1
                return None
            self.tally.retries += 1
            await asyncio.sleep(self.backoff.delay(attempt, self.rng))
            attempt += 1


class PagerDuty:
    """Webhook deliveries of many incidents at once, ordered per incident."""

    def __init__(
        self,
        base_url: str,
        *,
        concurrency: int = 16,
        duplicate_and_shuffle: bool = False,
        backoff: Backoff | None = None,
        api_key: str = API_KEY,
    ) -> None:
        self.base_url = base_url
        self.concurrency = concurrency
        self.duplicate_and_shuffle = duplicate_and_shuffle
        self.backoff = backoff or Backoff()
        self.headers = {
            "Content-Type": "application/json",
            "DD-API-KEY": api_key,
            "User-Agent": "PagerDuty-Webhook/V3.0",
        }
        self.tally = Tally()
        self._rng = random.Random(7)

    async def incident(self, sender: _Sender, plan: IncidentPlan) -> None:
        deliveries = plan.deliveries()
        if self.duplicate_and_shuffle:
            deliveries = deliveries * 3
            self._rng.shuffle(deliveries)
        for step, body in deliveries:
            # Every delivery of a subscription carries its own id, the same on
            # each retry of it.
            headers = {**self.headers, "X-Webhook-Id": step.event_id}
            if await sender.deliver(WEBHOOK, body, headers) is None:
                # PagerDuty drops it and goes on with the incident's next event.
                continue
            self.tally.acked.add(step.event_id)

    async def run(self, plans: Iterable[IncidentPlan]) -> Tally:
        """Deliver every plan, `concurrency` incidents at a time."""
        queue = iter(plans)
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            sender = _Sender(session, self.base_url, self.tally, self.backoff)

            async def worker() -> None:
                for plan in queue:
                    await self.incident(sender, plan)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return self.tally

    async def at_rate(
        self, plans: Iterable[IncidentPlan], rate: float, *, max_in_flight: int = 256
    ) -> Tally:
        """Start `rate` incidents per second (each runs its events in order)
        until `plans` runs out; at most max_in_flight incidents at once."""
        gate = asyncio.Semaphore(max_in_flight)
        connector = aiohttp.TCPConnector(limit=max_in_flight)
        async with aiohttp.ClientSession(connector=connector) as session:
            sender = _Sender(session, self.base_url, self.tally, self.backoff)
            running: set[asyncio.Task[None]] = set()

            async def one(plan: IncidentPlan) -> None:
                try:
                    await self.incident(sender, plan)
                finally:
                    gate.release()

            started = time.monotonic()
            for n, plan in enumerate(plans):
                # The start of incident n is due at n / rate: no drift.
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
                await gate.acquire()
                task = asyncio.create_task(one(plan))
                running.add(task)
                task.add_done_callback(running.discard)
            await asyncio.gather(*running)
        return self.tally


@dataclass(frozen=True)
class DeploymentPlan:
    service: str
    env: str
    version: str
    started_at: datetime
    finished_at: datetime

    def body(self) -> bytes:
        def ns(moment: datetime) -> int:
            return int(moment.timestamp()) * 1_000_000_000

        return encode(
            {
                "data": {
                    "attributes": {
                        "service": self.service,
                        "env": self.env,
                        "version": self.version,
                        "started_at": ns(self.started_at),
                        "finished_at": ns(self.finished_at),
                    }
                }
            }
        )


def plan_deployments(
    count: int, *, service: str = "checkout", seed: int = 2, now: datetime | None = None
) -> list[DeploymentPlan]:
    """`count` deployments of the last two weeks, each a new version, in
    the order they finished (no rollbacks: versions only go up)."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    finished = sorted(now - timedelta(seconds=rng.randint(3600, 14 * 86400)) for _ in range(count))
    return [
        DeploymentPlan(service, "prod", f"1.{n}.0", moment - timedelta(minutes=5), moment)
        for n, moment in enumerate(finished)
    ]


class DatadogCI:
    """`datadog-ci dora deployment` calls: DD-API-KEY, retries on 5xx,
    429 and connection errors. Each answered 2xx adds the Deployment's
    name from the answer to the record."""

    def __init__(
        self,
        base_url: str,
        *,
        concurrency: int = 4,
        backoff: Backoff | None = None,
        api_key: str = API_KEY,
    ) -> None:
        self.base_url = base_url
        self.concurrency = concurrency
        self.backoff = backoff or Backoff()
        self.headers = {"Content-Type": "application/json", "DD-API-KEY": api_key}
        self.tally = Tally()
        self.names: list[str] = []

    async def run(self, plans: Iterable[DeploymentPlan]) -> Tally:
        queue = iter(plans)
        async with aiohttp.ClientSession() as session:
            sender = _Sender(session, self.base_url, self.tally, self.backoff)

            async def worker() -> None:
                for plan in queue:
                    answer = await sender.deliver(DORA_DEPLOYMENT, plan.body(), self.headers)
                    if answer is not None:
                        name = str(json.loads(answer)["data"]["id"])
                        self.names.append(name)
                        self.tally.acked.add(name)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return self.tally


def expected_figures(plans: list[IncidentPlan], deployments: int) -> dict[str, object]:
    """The scoreboard these incidents and deployments make, by their plans:
    every incident and deployment is in the window."""
    ttrs = [ttr for plan in plans if (ttr := plan.ttr_seconds) is not None]
    return {
        "deployments": deployments,
        "failures": len(plans),
        "restoredFailures": len(ttrs),
        "changeFailureRate": len(plans) / deployments if deployments else None,
        "medianTimeToRestoreSeconds": statistics.median(ttrs) if ttrs else None,
    }
