"""One loop per DoraSource: recompute its scoreboard when facts change
(debounced), when its spec changes, and as the window slides.

Each Failure/Deployment event bumps its namespace's trigger counter; every
DoraSource loop remembers the counter it last computed for. Counters, not
one shared flag, so that one DoraSource consuming a wake-up never hides it
from another in the same namespace."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

import kopf
from kubernetes_asyncio import client

from kubedora.config import OperatorConfig
from kubedora.handlers.history import DoraSettings
from kubedora.handlers.telemetry import Boards
from kubedora.k8s.client import patch_status
from kubedora.k8s.errors import API_ERRORS
from kubedora.k8s.informer import KeyedIndex
from kubedora.metrics import (
    ChangeSettings,
    DeploymentFact,
    FailureFact,
    compile_rules,
    compute,
    compute_trend,
    format_duration,
    format_frequency,
    format_ratio_percent,
    parse_window,
)
from kubedora.models import (
    DORASOURCES,
    ChangeFailureSettings,
    Display,
    DoraSourceSpec,
    DoraSourceStatus,
    TrendSettings,
    not_ready,
    ready,
)


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


RETRY_SECONDS = 5.0


def scoreboard_status(
    spec: DoraSourceSpec,
    previous: DoraSourceStatus,
    failures: Collection[FailureFact],
    deployments: Collection[DeploymentFact],
    generation: int | None,
    now: datetime,
    lead_times: Mapping[str, Sequence[float]] | None = None,
) -> DoraSourceStatus:
    trend_settings = spec.trend or TrendSettings()
    try:
        window = parse_window(spec.window)
    except ValueError as error:
        return not_ready(
            previous,
            reason="InvalidWindow",
            message=str(error),
            observed_generation=generation,
            now=now,
        )
    try:
        bucket = parse_window(trend_settings.bucket)
    except ValueError as error:
        return not_ready(
            previous,
            reason="InvalidTrend",
            message=f"spec.trend.bucket: {error}",
            observed_generation=generation,
            now=now,
        )
    settings = spec.change_failure or ChangeFailureSettings()
    rules, errors = compile_rules(settings.rollforward_rules)
    if errors:
        return not_ready(
            previous,
            reason="InvalidRollforwardRule",
            message="; ".join(errors),
            observed_generation=generation,
            now=now,
        )
    start = now - window
    board = compute(
        failures,
        deployments,
        window_start=start,
        window_end=now,
        sources=frozenset(spec.failure_sources),
        scope=spec.scope,
        changes=ChangeSettings(
            definition=settings.definition, rules=rules, lead_times=lead_times or {}
        ),
        deployment_sources=frozenset(spec.deployment_sources),
    )
    # The same facts, in the same recompute: trends never lag the summary.
    trend = compute_trend(
        failures,
        deployments,
        end=now,
        bucket=bucket,
        buckets=trend_settings.buckets,
        sources=frozenset(spec.failure_sources),
        scope=spec.scope,
        deployment_sources=frozenset(spec.deployment_sources),
    )
    summary = board.summary
    return DoraSourceStatus(
        window_start=start,
        window_end=now,
        summary=summary,
        breakdown=board.breakdown,
        trend=trend.points,
        breakdown_trend=trend.rows,
        display=Display(
            change_failure_rate=format_ratio_percent(summary.change_failure_rate),
            median_time_to_restore=format_duration(summary.median_time_to_restore_seconds),
            median_lead_time=format_duration(summary.median_lead_time_seconds),
            deployment_frequency=format_frequency(
                summary.deployment_frequency, summary.deployments_per_day
            ),
        ),
        conditions=ready(
            previous.conditions,
            reason="Computed",
            message=(
                f"{summary.failures} failures and {summary.deployments} deployments "
                f"in the last {spec.window}"
            ),
            observed_generation=generation,
            now=now,
        ),
        observed_generation=generation,
    )


async def run(
    *,
    api: client.ApiClient,
    config: OperatorConfig,
    triggers: Triggers,
    facts_synced: Callable[[], Awaitable[None]],
    name: str,
    namespace: str,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    failure_facts: KeyedIndex[str, FailureFact],
    deployment_facts: KeyedIndex[str, DeploymentFact],
    logger: kopf.Logger,
    boards: Boards | None = None,
    settings: DoraSettings | None = None,
    lead_times: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
) -> None:
    seen = triggers.counter(namespace)
    # Never publish the scoreboard of a half-listed cluster (after a restart,
    # the figures would dip and recover).
    await _until_first(facts_synced(), stopped)
    try:
        await _loop(
            api=api,
            config=config,
            triggers=triggers,
            name=name,
            namespace=namespace,
            body=body,
            stopped=stopped,
            failure_facts=failure_facts,
            deployment_facts=deployment_facts,
            logger=logger,
            boards=boards if boards is not None else Boards(),
            settings=settings,
            lead_times=lead_times or {},
            seen=seen,
        )
    finally:
        # Stopped, deleted or paused in favour of another replica: this
        # replica no longer vouches for the figures, nor sets the history's.
        if boards is not None:
            boards.drop(namespace, name)
        if settings is not None:
            settings.update(namespace, name, None)


async def _loop(
    *,
    api: client.ApiClient,
    config: OperatorConfig,
    triggers: Triggers,
    name: str,
    namespace: str,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    failure_facts: KeyedIndex[str, FailureFact],
    deployment_facts: KeyedIndex[str, DeploymentFact],
    logger: kopf.Logger,
    boards: Boards,
    settings: DoraSettings | None,
    lead_times: Mapping[str, Mapping[str, Sequence[float]]],
    seen: int,
) -> None:
    while not stopped:
        spec = DoraSourceSpec.model_validate(dict(body.get("spec", {})))
        if settings is not None:
            # Deployments' history follows every DoraSource's git hosts and rules.
            settings.update(namespace, name, spec)
        previous = DoraSourceStatus.model_validate(dict(body.get("status") or {}))
        status = scoreboard_status(
            spec,
            previous,
            failure_facts.get(namespace, ()),
            deployment_facts.get(namespace, ()),
            body.metadata.get("generation"),
            datetime.now(UTC),
            lead_times.get(namespace, {}),
        )
        wire = status.to_wire()
        # status.backfill has its own writer (handlers/backfill.py); a null here would erase it.
        wire.pop("backfill", None)
        try:
            if not await patch_status(api, DORASOURCES, namespace, name, wire):
                return  # deleted; kopf stops this loop too
        except API_ERRORS as error:
            boards.write_failed(namespace, name)
            logger.warning(f"could not write the scoreboard, retrying: {error}")
            await stopped.wait(RETRY_SECONDS)
            continue
        boards.put(namespace, name, spec, status, body.get("status") or {})
        seen = await _wait_for_change(triggers, config, namespace, seen, stopped)
        # Let a burst of changes settle, so it costs one recompute, not many.
        if not stopped and config.debounce_seconds > 0:
            await stopped.wait(config.debounce_seconds)
        seen = max(seen, triggers.counter(namespace))


async def _wait_for_change(
    triggers: Triggers,
    config: OperatorConfig,
    namespace: str,
    seen: int,
    stopped: kopf.DaemonStopped,
) -> int:
    """Until facts in the namespace change, the resync time passes, or we stop."""
    await _until_first(triggers.wait_beyond(namespace, seen, config.resync_seconds), stopped)
    return triggers.counter(namespace)


async def _until_first(waiting: Awaitable[object], stopped: kopf.DaemonStopped) -> None:
    """Wait for `waiting`, or for the daemon to be stopped, whichever comes first."""
    woken = asyncio.ensure_future(waiting)
    stopping = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        woken.cancel()
        stopping.cancel()
