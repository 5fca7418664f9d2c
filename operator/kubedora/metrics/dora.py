"""The scoreboard: change failure rate (both definitions), median time to
restore, lead time and failed-deployment recovery over a window."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubedora.metrics.bands import frequency_band
from kubedora.metrics.changes import CompiledRule, Shipment, Verdict, detect
from kubedora.metrics.once import counted_deployments
from kubedora.metrics.window import deployments_per_day
from kubedora.models import (
    BreakdownRow,
    ChangeFailureDefinition,
    DeploymentOutcome,
    DeploymentSource,
    Dimension,
    FailureSource,
    Figures,
    Scope,
)

_DIMENSION_ORDER = {Dimension.SERVICE: 0, Dimension.TEAM: 1, Dimension.ENV: 2}


@dataclass(frozen=True, slots=True)
class FailureFact:
    source: FailureSource
    services: tuple[str, ...]
    team: str | None
    env: str | None
    started_at: datetime
    restored_at: datetime | None
    ttr_seconds: float | None


@dataclass(frozen=True, slots=True)
class DeploymentFact:
    service: str
    team: str | None
    env: str | None
    finished_at: datetime
    # What change failure detection and lead time need (metrics.changes).
    name: str = ""
    version: str | None = None
    commit: str | None = None
    repository: str | None = None
    custom_tags: tuple[str, ...] = ()
    outcome_failed: bool = False
    marked: bool | None = None
    marked_by_api: bool = False
    remediated_by: str | None = None

    # Which source reported it (the once-only rule of metrics.once), and how.
    source: DeploymentSource = DeploymentSource.API
    outcome: DeploymentOutcome = DeploymentOutcome.SUCCEEDED


@dataclass(frozen=True, slots=True)
class Scoreboard:
    summary: Figures
    breakdown: list[BreakdownRow]


@dataclass(slots=True)
class _Tally:
    deployments: int = 0
    failures: int = 0
    ttrs: list[float] = field(default_factory=list)
    # Lead time and deployment-side change failures.
    change_failures: int = 0
    rollbacks: int = 0
    recoveries: list[float] = field(default_factory=list)
    lead_times: list[float] = field(default_factory=list)

    @property
    def change_failure_rate(self) -> float | None:
        # No deployments is no data: None, never 0 and never infinity.
        return self.failures / self.deployments if self.deployments else None

    def figures(
        self, definition: ChangeFailureDefinition, window: timedelta | None = None
    ) -> Figures:
        """The tally's figures; the deployment frequency over `window` (a
        trend bucket fills in its own rate: None here)."""
        # Rollback deployments are remediations, not changes: out of the denominator.
        changes = self.deployments - self.rollbacks
        deployment_rate = self.change_failures / changes if changes > 0 else None
        per_day = None if window is None else deployments_per_day(self.deployments, window)
        return Figures(
            deployments=self.deployments,
            failures=self.failures,
            restored_failures=len(self.ttrs),
            change_failure_rate=(
                deployment_rate
                if definition == ChangeFailureDefinition.DEPLOYMENTS
                else self.change_failure_rate
            ),
            median_time_to_restore_seconds=median(self.ttrs),
            # Lead time and both change failure families.
            median_lead_time_seconds=median(self.lead_times),
            failure_event_rate=self.change_failure_rate,
            deployment_change_failure_rate=deployment_rate,
            change_failures=self.change_failures,
            rollbacks=self.rollbacks,
            median_failed_deployment_recovery_seconds=median(self.recoveries),
            deployments_per_day=per_day,
            deployment_frequency=frequency_band(per_day),
        )

    def row(
        self,
        dimension: Dimension,
        key: str,
        definition: ChangeFailureDefinition,
        window: timedelta,
    ) -> BreakdownRow:
        figures = self.figures(definition, window)
        return BreakdownRow(dimension=dimension, key=key, **figures.model_dump())


def median(values: Sequence[float]) -> float | None:
    """The median; the mean of the two middle values for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


class _Filter:
    """Scope matching with the scope's lists turned into sets once."""

    __slots__ = ("envs", "services", "teams")

    def __init__(self, scope: Scope | None) -> None:
        self.services = frozenset(scope.services) if scope else frozenset[str]()
        self.teams = frozenset(scope.teams) if scope else frozenset[str]()
        self.envs = frozenset(scope.envs) if scope else frozenset[str]()

    def matches(self, services: Iterable[str], team: str | None, env: str | None) -> bool:
        # An empty list means "all"; a missing team or env matches only "all".
        if self.teams and team not in self.teams:
            return False
        if self.envs and env not in self.envs:
            return False
        return not self.services or any(service in self.services for service in services)

    def service_keys(self, services: Iterable[str]) -> Iterable[str]:
        # dict.fromkeys: a service listed twice still counts once in its row.
        keys = dict.fromkeys(services)
        if self.services:
            return [service for service in keys if service in self.services]
        return keys


class _Board:
    """Running tallies for the summary and for every (dimension, key) row."""

    __slots__ = ("rows", "summary")

    def __init__(self) -> None:
        self.summary = _Tally()
        self.rows: dict[Dimension, dict[str, _Tally]] = {dimension: {} for dimension in Dimension}

    def tallies(self, services: Iterable[str], team: str | None, env: str | None) -> list[_Tally]:
        tallies = [self.summary]
        for service in services:
            tallies.append(self._row(Dimension.SERVICE, service))
        if team is not None:
            tallies.append(self._row(Dimension.TEAM, team))
        if env is not None:
            tallies.append(self._row(Dimension.ENV, env))
        return tallies

    def count_failure(
        self, failure: FailureFact, scope_filter: _Filter, *, failed: bool, ttr: float | None
    ) -> None:
        """Count a failure (`failed`) and/or its TTR data point into every
        tally it belongs to. The one place a failure is counted: the window
        and the trend buckets both call it."""
        if not failed and ttr is None:
            return
        if not scope_filter.matches(failure.services, failure.team, failure.env):
            return
        services = scope_filter.service_keys(failure.services)
        for tally in self.tallies(services, failure.team, failure.env):
            if failed:
                tally.failures += 1
            if ttr is not None:
                tally.ttrs.append(ttr)

    def count_deployment(self, deployment: DeploymentFact, scope_filter: _Filter) -> None:
        single = (deployment.service,)
        if not scope_filter.matches(single, deployment.team, deployment.env):
            return
        for tally in self.tallies(single, deployment.team, deployment.env):
            tally.deployments += 1

    def _row(self, dimension: Dimension, key: str) -> _Tally:
        rows = self.rows[dimension]
        tally = rows.get(key)
        if tally is None:
            tally = rows[key] = _Tally()
        return tally

    def scoreboard(self, definition: ChangeFailureDefinition, window: timedelta) -> Scoreboard:
        breakdown = [
            tally.row(dimension, key, definition, window)
            for dimension, rows in self.rows.items()
            for key, tally in rows.items()
        ]
        breakdown.sort(key=lambda row: (_DIMENSION_ORDER[row.dimension], row.key))
        return Scoreboard(
            summary=self.summary.figures(definition, window),
            breakdown=breakdown,
        )


def compute(
    failures: Iterable[FailureFact],
    deployments: Iterable[DeploymentFact],
    *,
    window_start: datetime,
    window_end: datetime,
    sources: Collection[FailureSource],
    scope: Scope | None = None,
    changes: ChangeSettings | None = None,
    deployment_sources: Collection[DeploymentSource] | None = None,
) -> Scoreboard:
    """Count failures, deployments and restores in [window_start, window_end].

    A failure counts when it started in the window; its TTR counts when it was
    restored in the window, so one that started earlier can add a TTR without
    adding a failure. CFR is None without deployments: no data is not 0%.

    A deployment counts when one of `deployment_sources` (None: all)
    reported it and it finished in the window; reports of one change by
    several sources count once (metrics.once)."""
    if window_start > window_end:
        raise ValueError(f"window starts at {window_start} after it ends at {window_end}")
    wanted_sources = frozenset(sources)
    scope_filter = _Filter(scope)
    board = _Board()

    for failure in failures:
        if failure.source not in wanted_sources:
            continue
        failed = window_start <= failure.started_at <= window_end
        restored_at = failure.restored_at
        # The TTR data point, when the failure was restored in the window.
        ttr = (
            failure.ttr_seconds
            if restored_at is not None and window_start <= restored_at <= window_end
            else None
        )
        board.count_failure(failure, scope_filter, failed=failed, ttr=ttr)

    settings = changes or ChangeSettings()
    listed = list(deployments)
    # Change failures are judged over the whole history (a rollback looks
    # back); what counts in the window is each change once (metrics.once).
    verdicts = judge(listed, settings.rules)
    counted = {
        fact.name
        for fact in counted_deployments(
            listed, deployment_sources, window_start=window_start, window_end=window_end
        )
    }
    wanted = frozenset(DeploymentSource) if deployment_sources is None else deployment_sources
    for deployment in listed:
        if deployment.source not in wanted:
            continue
        in_window = (
            deployment.name in counted and window_start <= deployment.finished_at <= window_end
        )
        verdict = verdicts.get(deployment.name)
        marked = verdict.change_failure if verdict else None
        recovered_at = marked.remediated_at if marked else None
        recovered = (
            marked is not None
            and marked.recovery_seconds is not None
            and recovered_at is not None
            and window_start <= recovered_at <= window_end
        )
        if not in_window and not recovered:
            continue
        single = (deployment.service,)
        if not scope_filter.matches(single, deployment.team, deployment.env):
            continue
        for tally in board.tallies(single, deployment.team, deployment.env):
            if in_window:
                tally.deployments += 1
                _count_change(tally, verdict, settings.lead_times.get(deployment.name, ()))
            if recovered and marked is not None and marked.recovery_seconds is not None:
                tally.recoveries.append(marked.recovery_seconds)

    return board.scoreboard(settings.definition, window_end - window_start)


@dataclass(frozen=True, slots=True)
class ChangeSettings:
    """How deployments become change failures, and the lead times known so
    far, per deployment name (commit lead times in seconds)."""

    definition: ChangeFailureDefinition = ChangeFailureDefinition.FAILURES
    rules: Sequence[CompiledRule] = ()
    lead_times: Mapping[str, Sequence[float]] = field(default_factory=dict)


def shipment_of(fact: DeploymentFact) -> Shipment:
    return Shipment(
        name=fact.name,
        finished_at=fact.finished_at,
        version=fact.version,
        commit=fact.commit,
        custom_tags=fact.custom_tags,
        outcome_failed=fact.outcome_failed,
        marked=fact.marked,
        marked_by_api=fact.marked_by_api,
        remediated_by=fact.remediated_by,
    )


def judge(
    deployments: Iterable[DeploymentFact], rules: Sequence[CompiledRule] = ()
) -> dict[str, Verdict]:
    """Change failure verdicts of every deployment, service and env at a time."""
    groups: dict[tuple[str, str | None], list[Shipment]] = {}
    for fact in deployments:
        groups.setdefault((fact.service, fact.env), []).append(shipment_of(fact))
    verdicts: dict[str, Verdict] = {}
    for shipments in groups.values():
        verdicts.update(detect(shipments, rules))
    return verdicts


def _count_change(tally: _Tally, verdict: Verdict | None, lead_times: Sequence[float]) -> None:
    tally.lead_times.extend(lead_times)
    if verdict is None:
        return
    if verdict.change_failure.failed:
        tally.change_failures += 1
    if verdict.rollback_of is not None:
        tally.rollbacks += 1
