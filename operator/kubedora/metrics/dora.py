"""The scoreboard: change failure rate and median time to restore over a window."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kubedora.metrics.bands import frequency_band
from kubedora.metrics.once import counted_deployments
from kubedora.metrics.window import deployments_per_day
from kubedora.models import (
    BreakdownRow,
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
    # Which source reported it, and what tells two reports of one change apart.
    source: DeploymentSource = DeploymentSource.API
    commit_sha: str | None = None
    version: str | None = None
    outcome: DeploymentOutcome = DeploymentOutcome.SUCCEEDED
    name: str = ""


@dataclass(frozen=True, slots=True)
class Scoreboard:
    summary: Figures
    breakdown: list[BreakdownRow]


@dataclass(slots=True)
class _Tally:
    deployments: int = 0
    failures: int = 0
    ttrs: list[float] = field(default_factory=list)

    @property
    def change_failure_rate(self) -> float | None:
        # No deployments is no data: None, never 0 and never infinity.
        return self.failures / self.deployments if self.deployments else None

    def figures(self, window: timedelta | None = None) -> Figures:
        """The tally's figures; the deployment frequency over `window` (a
        trend bucket fills in its own rate: None here)."""
        per_day = None if window is None else deployments_per_day(self.deployments, window)
        return Figures(
            deployments=self.deployments,
            failures=self.failures,
            restored_failures=len(self.ttrs),
            change_failure_rate=self.change_failure_rate,
            median_time_to_restore_seconds=median(self.ttrs),
            deployments_per_day=per_day,
            deployment_frequency=frequency_band(per_day),
        )

    def row(self, dimension: Dimension, key: str, window: timedelta) -> BreakdownRow:
        return BreakdownRow(dimension=dimension, key=key, **self.figures(window).model_dump())


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

    def scoreboard(self, window: timedelta) -> Scoreboard:
        breakdown = [
            tally.row(dimension, key, window)
            for dimension, rows in self.rows.items()
            for key, tally in rows.items()
        ]
        breakdown.sort(key=lambda row: (_DIMENSION_ORDER[row.dimension], row.key))
        return Scoreboard(
            summary=self.summary.figures(window),
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

    for deployment in counted_deployments(
        deployments, deployment_sources, window_start=window_start, window_end=window_end
    ):
        if window_start <= deployment.finished_at <= window_end:
            board.count_deployment(deployment, scope_filter)

    return board.scoreboard(window_end - window_start)
