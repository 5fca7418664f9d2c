"""Backfill: read a DoraSource's PagerDuty incident history once, over
`spec.pagerduty.backfill.lookback`, and write a Failure per incident through
the webhook path's fold (`k8s.failures`), so backfill and webhooks converge
on one object per incident.

The range [start - lookback, start] is read in date windows of at most 180
days, oldest first. A window's first page asks `total=true`; a window
holding more incidents than `backfill_window_incidents` (at most the 10,000
classic pagination can reach) is cut into smaller ones, so nothing is ever
truncated and no request asks for `offset + limit` over 10,000. Requests go
one at a time through the token's RateLimiter (pagerduty.client).

Progress lives in `status.backfill`: `coveredUntil` moves after every page
(pages come oldest first, so every incident created before the last one
of a page is written) and at the end of every window. A restarted
operator, or the replica that takes over, resumes from it; only the page
in flight is read again.

kopf runs this daemon in the active replica only (peering pauses daemons in
the others), for as long as the DoraSource exists; it idles while no
backfill is configured or once it is done."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import kopf
from kubernetes_asyncio import client
from pydantic import ValidationError

from kubedora.config import OperatorConfig
from kubedora.ingest.history import (
    OFFSET_CAP,
    PAGE_LIMIT,
    RestIncident,
    Window,
    history_events,
    split,
    windows,
)
from kubedora.k8s import failures
from kubedora.k8s.client import patch_status, secret_token
from kubedora.k8s.errors import API_ERRORS, Rejected, Unavailable
from kubedora.metrics import parse_window
from kubedora.models import (
    BACKFILL_COMPLETE,
    DORASOURCES,
    BackfillPhase,
    BackfillStatus,
    Condition,
    ConditionStatus,
    DoraSourceSpec,
    DoraSourceStatus,
    PagerDutySettings,
    set_condition,
)
from kubedora.pagerduty.client import (
    Limiters,
    PagerDutyClient,
    PagerDutyError,
    Refused,
    Tally,
)

log = logging.getLogger("kubedora.backfill")

# How often an idle daemon looks at its DoraSource again (the body is kept
# current by kopf's watch: looking costs no request).
IDLE_SECONDS = 2.0
RETRY_SECONDS = 5.0
_WRITE_TIMEOUT = 10.0
_WRITE_ATTEMPTS = 6


@dataclass(frozen=True)
class Wanted:
    """What the spec asks a backfill to read."""

    pagerduty: PagerDutySettings
    lookback: timedelta


class Interrupted(Exception):
    """The operator stops, or the spec no longer asks for this run."""


class Failed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def wanted(spec: DoraSourceSpec) -> Wanted | None:
    pagerduty = spec.pagerduty
    if pagerduty is None or pagerduty.backfill is None:
        return None
    return Wanted(pagerduty, parse_window(pagerduty.backfill.lookback))


def same_run(status: BackfillStatus | None, lookback: timedelta) -> bool:
    """Whether the status is of a run over this lookback (a changed lookback
    starts a new run)."""
    return (
        status is not None
        and status.from_ is not None
        and status.to is not None
        and status.to - status.from_ == lookback
    )


def fresh_status(lookback: timedelta, now: datetime) -> BackfillStatus:
    to = now.astimezone(UTC).replace(microsecond=0)
    return BackfillStatus(phase=BackfillPhase.PENDING, from_=to - lookback, to=to)


class Backfill:
    """The daemon of one DoraSource."""

    def __init__(
        self,
        *,
        api: client.ApiClient,
        config: OperatorConfig,
        limiters: Limiters,
        name: str,
        namespace: str,
        body: kopf.Body,
        stopped: kopf.DaemonStopped,
    ) -> None:
        self.api, self.config, self.limiters = api, config, limiters
        self.name, self.namespace, self.body, self.stopped = name, namespace, body, stopped
        self._failed_generation: int | None = None
        # The run's status as last computed (what the next write publishes).
        self._progress = BackfillStatus()
        self._published: BackfillStatus | None = None

    # --- reading the DoraSource ---------------------------------------------------

    def _spec(self) -> DoraSourceSpec | None:
        try:
            return DoraSourceSpec.model_validate(dict(self.body.get("spec") or {}))
        except ValidationError:
            return None  # the scoreboard reports an invalid spec

    def _status(self) -> DoraSourceStatus:
        return DoraSourceStatus.model_validate(dict(self.body.get("status") or {}))

    def _wanted(self) -> Wanted | None:
        spec = self._spec()
        try:
            return wanted(spec) if spec is not None else None
        except ValueError:
            return None  # the CRD's pattern refuses such a lookback

    # --- the daemon -----------------------------------------------------------------

    async def run(self) -> None:
        while not self.stopped:
            try:
                await self._step()
            except Interrupted:
                continue
            except (*API_ERRORS, Unavailable) as error:
                log.warning(
                    f"backfill of {self.namespace}/{self.name}: the API server failed "
                    f"({error}); resuming in {RETRY_SECONDS:.0f}s"
                )
                await self.stopped.wait(RETRY_SECONDS)

    async def _step(self) -> None:
        want = self._wanted()
        current = self._status()
        if want is None:
            if current.backfill is not None or _condition(current) is not None:
                await self._publish(None, None)
            await self.stopped.wait(IDLE_SECONDS)
            return
        status = self._latest(current.backfill)
        if status is None or not same_run(status, want.lookback):
            status = fresh_status(want.lookback, datetime.now(UTC))
            self._failed_generation = None
            await self._publish(status, _pending())
        if status.phase == BackfillPhase.SUCCEEDED:
            condition = _condition(current)
            if condition is None or condition.status != ConditionStatus.TRUE:
                await self._publish(status, _succeeded(status))  # put back what was lost
            await self.stopped.wait(IDLE_SECONDS)
            return
        if status.phase == BackfillPhase.FAILED and not self._retry_due(status):
            await self.stopped.wait(IDLE_SECONDS)
            return
        try:
            await self._read(want, status)
        except Failed as failure:
            self._failed_generation = self.body.metadata.get("generation")
            failed = self._progress.model_copy(
                update={
                    "phase": BackfillPhase.FAILED,
                    "message": failure.message,
                    "completed_at": datetime.now(UTC),
                }
            )
            log.warning(f"backfill of {self.namespace}/{self.name} failed: {failure.message}")
            await self._publish(failed, (ConditionStatus.FALSE, failure.reason, failure.message))
            kopf.event(self.body, type="Warning", reason="BackfillFailed", message=failure.message)

    def _latest(self, stored: BackfillStatus | None) -> BackfillStatus | None:
        """What we last wrote, while the watch has not brought it back yet:
        the body lags our own writes, and a run must not start twice."""
        mine = self._published
        if mine is None or stored is None:
            return stored
        if (mine.from_, mine.to) != (stored.from_, stored.to):
            return stored
        return mine

    def _retry_due(self, status: BackfillStatus) -> bool:
        if self.body.metadata.get("generation") != self._failed_generation:
            return True  # the spec changed since (a fixed token reference, say)
        ended = status.completed_at or datetime.now(UTC)
        return datetime.now(UTC) >= ended + timedelta(seconds=self.config.backfill_retry_seconds)

    def _check(self, want: Wanted) -> None:
        if self.stopped:
            raise Interrupted
        now = self._wanted()
        if now is None or now != want:
            raise Interrupted

    # --- one run --------------------------------------------------------------------

    async def _read(self, want: Wanted, status: BackfillStatus) -> None:
        self._progress = status
        token = await self._token(want.pagerduty)
        # fresh_status sets both, and same_run checked them.
        assert status.from_ is not None
        assert status.to is not None
        resumed = status.covered_until is not None
        self._progress = status.model_copy(
            update={
                "phase": BackfillPhase.RUNNING,
                "started_at": status.started_at or datetime.now(UTC),
                "completed_at": None,
                "message": "resumed" if resumed else "started",
            }
        )
        start = status.covered_until or status.from_
        await self._publish(self._progress, _running(self._progress))
        kopf.event(
            self.body,
            type="Normal",
            reason="BackfillStarted",
            message=(
                f"{'resuming' if resumed else 'reading'} PagerDuty incidents created from "
                f"{_text(start)} to {_text(status.to)}"
            ),
        )
        tally = Tally(requests=status.requests, throttled=status.throttled)
        rest = PagerDutyClient(
            want.pagerduty.api_url,
            token,
            self.limiters.of(want.pagerduty.api_url, token),
            tally=tally,
            timeout=self.config.pagerduty_timeout,
            attempts=self.config.pagerduty_attempts,
        )
        most = min(self.config.backfill_window_incidents, OFFSET_CAP)
        env = want.pagerduty.default_env
        try:
            async with rest:
                queue = windows(start, status.to)
                while queue:
                    self._check(want)
                    window = queue.pop(0)
                    page = await rest.incidents(window, total=True)
                    total = page.total if page.total is not None else len(page.incidents)
                    if page.more and total > most and window.span > timedelta(seconds=1):
                        queue[:0] = split(window, total, most=most)
                        continue
                    written = await self._write(page.incidents, env)
                    offset = 0
                    while page.more:
                        # Oldest first: every incident created before the
                        # last one of this page is written.
                        await self._page_done(page.incidents[-1].created_at, written, tally)
                        written = 0
                        self._check(want)
                        offset += PAGE_LIMIT
                        if offset + PAGE_LIMIT > OFFSET_CAP:
                            raise Failed(
                                "TooManyIncidents",
                                f"over {OFFSET_CAP} incidents created within one second at "
                                f"{_text(window.since)}: PagerDuty lists no more of them",
                            )
                        page = await rest.incidents(window, offset=offset)
                        written += await self._write(page.incidents, env)
                    await self._window_done(window, written, tally)
        except Refused as error:
            self._progress = self._counted(tally)
            raise Failed("Unauthorized", f"PagerDuty refused the API token: {error}") from error
        except PagerDutyError as error:
            self._progress = self._counted(tally)
            raise Failed("PagerDutyError", str(error)) from error
        done = self._counted(tally).model_copy(
            update={
                "phase": BackfillPhase.SUCCEEDED,
                "covered_until": status.to,
                "completed_at": datetime.now(UTC),
                "message": (
                    f"{self._progress.incidents} incidents from {_text(status.from_)} "
                    f"to {_text(status.to)}"
                ),
            }
        )
        self._progress = done
        await self._publish(done, _succeeded(done))
        kopf.event(self.body, type="Normal", reason="BackfillSucceeded", message=done.message)

    def _counted(self, tally: Tally) -> BackfillStatus:
        return self._progress.model_copy(
            update={"requests": tally.requests, "throttled": tally.throttled}
        )

    async def _page_done(self, before: datetime, written: int, tally: Tally) -> None:
        """Save progress within a window: a restart reads again only from `before`."""
        covered = self._progress.covered_until
        self._progress = self._counted(tally).model_copy(
            update={
                "covered_until": max(before, covered) if covered else before,
                "incidents": self._progress.incidents + written,
                "message": f"read up to {_text(before)}",
            }
        )
        await self._publish(self._progress, None, touch_conditions=False)

    async def _window_done(self, window: Window, written: int, tally: Tally) -> None:
        self._progress = self._counted(tally).model_copy(
            update={
                "covered_until": window.until,
                "incidents": self._progress.incidents + written,
                "message": f"read up to {_text(window.until)}",
            }
        )
        await self._publish(self._progress, _running(self._progress))
        kopf.event(
            self.body,
            type="Normal",
            reason="BackfillProgress",
            message=(
                f"{written} incidents from {_text(window.since)} to {_text(window.until)}; "
                f"{self._progress.incidents} in all"
            ),
        )

    async def _token(self, pagerduty: PagerDutySettings) -> str:
        ref = pagerduty.api_token_secret_ref
        if ref is None:
            raise Failed(
                "NoToken", "spec.pagerduty.apiTokenSecretRef names no Secret with a REST API token"
            )
        try:
            return await secret_token(self.api, self.namespace, ref.name)
        except ValueError as error:
            raise Failed("NoToken", str(error)) from error

    async def _write(self, incidents: list[RestIncident], env: str | None) -> int:
        """Write one page's incidents, a few at a time; the count written."""
        gate = asyncio.Semaphore(self.config.backfill_write_concurrency)

        async def one(incident: RestIncident) -> int:
            async with gate:
                return await self._write_one(incident, env)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(incident)) for incident in incidents]
        return sum(task.result() for task in tasks)

    async def _write_one(self, incident: RestIncident, env: str | None) -> int:
        events = history_events(incident)
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                await failures.write_incident(
                    self.api,
                    self.namespace,
                    events,
                    env,
                    timeout=_WRITE_TIMEOUT,
                    create_first=True,
                    env_if_new=True,
                )
            except (Rejected, ValidationError) as error:
                # An incident without service or team cannot be a Failure.
                log.warning(f"backfill: incident {incident.id} skipped: {error}")
                return 0
            except Unavailable:
                if attempt + 1 == _WRITE_ATTEMPTS:
                    raise
                await asyncio.sleep(min(10.0, 0.5 * 2**attempt))
            else:
                return 1
        return 0

    async def _publish(
        self,
        backfill: BackfillStatus | None,
        condition: tuple[ConditionStatus, str, str] | None,
        *,
        touch_conditions: bool = True,
    ) -> None:
        """Write status.backfill and the BackfillComplete condition (None:
        remove both), leaving the rest of the status to the scoreboard."""
        self._published = backfill
        if not touch_conditions:
            wire = backfill.to_wire() if backfill is not None else None
            await patch_status(self.api, DORASOURCES, self.namespace, self.name, {"backfill": wire})
            return
        current = self._status().conditions
        if condition is None:
            conditions = [c for c in current if c.type != BACKFILL_COMPLETE]
        else:
            state, reason, message = condition
            conditions = set_condition(
                current,
                type=BACKFILL_COMPLETE,
                status=state,
                reason=reason,
                message=message[:1024],
                observed_generation=self.body.metadata.get("generation"),
                now=datetime.now(UTC),
            )
        patch = {
            "backfill": backfill.to_wire() if backfill is not None else None,
            "conditions": [c.to_wire() for c in conditions],
        }
        await patch_status(self.api, DORASOURCES, self.namespace, self.name, patch)


def _condition(status: DoraSourceStatus) -> Condition | None:
    return next((c for c in status.conditions if c.type == BACKFILL_COMPLETE), None)


def _pending() -> tuple[ConditionStatus, str, str]:
    return ConditionStatus.FALSE, "Pending", "the backfill has not started"


def _running(status: BackfillStatus) -> tuple[ConditionStatus, str, str]:
    done = status.progress()
    share = f"{done:.0%}" if done is not None else "0%"
    return (
        ConditionStatus.FALSE,
        "Running",
        f"{share} read, {status.incidents} incidents so far",
    )


def _succeeded(status: BackfillStatus) -> tuple[ConditionStatus, str, str]:
    return ConditionStatus.TRUE, "Succeeded", status.message


def _text(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"
