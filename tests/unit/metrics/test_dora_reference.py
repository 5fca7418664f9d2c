"""compute against a brute-force reference that filters every fact for every row."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kubedora.metrics import Band as DeploymentFrequency
from kubedora.metrics import DeploymentFact, FailureFact, Scoreboard, compute
from kubedora.models import (
    BreakdownRow,
    Dimension,
    FailureSource,
    Figures,
    Scope,
)

BASE = datetime(2024, 5, 1, tzinfo=UTC)
SERVICES = ["api", "db", "web"]
TEAMS = ["red", "blue"]
ENVS = ["prod", "dev"]
SETTINGS = settings(max_examples=200, deadline=None, database=None)


def minute(n: int) -> datetime:
    return BASE + timedelta(minutes=n)


# Times from before the window to after it, on a coarse grid so that the
# window edges are hit often.
times = st.integers(min_value=-5, max_value=25).map(minute)
optional_team = st.one_of(st.none(), st.sampled_from(TEAMS))
optional_env = st.one_of(st.none(), st.sampled_from(ENVS))

failure_facts = st.builds(
    FailureFact,
    source=st.sampled_from(list(FailureSource)),
    services=st.lists(st.sampled_from(SERVICES), max_size=3).map(tuple),
    team=optional_team,
    env=optional_env,
    started_at=times,
    restored_at=st.one_of(st.none(), times),
    ttr_seconds=st.one_of(st.none(), st.integers(min_value=0, max_value=5000).map(float)),
)
deployment_facts = st.builds(
    DeploymentFact,
    service=st.sampled_from(SERVICES),
    team=optional_team,
    env=optional_env,
    finished_at=times,
)
scopes = st.one_of(
    st.none(),
    st.builds(
        Scope,
        services=st.lists(st.sampled_from(SERVICES), max_size=2, unique=True),
        # Often empty, so that a service scope alone is exercised too.
        teams=st.one_of(st.just([]), st.lists(st.sampled_from(TEAMS), max_size=1)),
        envs=st.one_of(st.just([]), st.lists(st.sampled_from(ENVS), max_size=1)),
    ),
)


def reference(
    failures: list[FailureFact],
    deployments: list[DeploymentFact],
    start: datetime,
    end: datetime,
    sources: set[FailureSource],
    scope: Scope,
) -> Scoreboard:
    def in_window(moment: datetime | None) -> bool:
        return moment is not None and start <= moment <= end

    def failure_in_scope(fact: FailureFact) -> bool:
        return (
            fact.source in sources
            and (not scope.services or any(s in scope.services for s in fact.services))
            and (not scope.teams or fact.team in scope.teams)
            and (not scope.envs or fact.env in scope.envs)
        )

    def deployment_in_scope(fact: DeploymentFact) -> bool:
        return (
            (not scope.services or fact.service in scope.services)
            and (not scope.teams or fact.team in scope.teams)
            and (not scope.envs or fact.env in scope.envs)
        )

    days = (end - start).total_seconds() / 86400

    def band(per_day: float | None) -> DeploymentFrequency | None:
        if per_day is None:
            return None
        if per_day >= 1:
            return DeploymentFrequency.ELITE
        if per_day * 7 >= 1:
            return DeploymentFrequency.HIGH
        if per_day * 30 >= 1:
            return DeploymentFrequency.MEDIUM
        return DeploymentFrequency.LOW

    kept_failures = [f for f in failures if failure_in_scope(f)]
    kept_deployments = [d for d in deployments if deployment_in_scope(d)]

    def figures(
        chosen_failures: list[FailureFact], chosen_deployments: list[DeploymentFact]
    ) -> Figures:
        failed = sum(1 for f in chosen_failures if in_window(f.started_at))
        points = [
            f.ttr_seconds
            for f in chosen_failures
            if f.ttr_seconds is not None and in_window(f.restored_at)
        ]
        deployed = sum(1 for d in chosen_deployments if in_window(d.finished_at))
        per_day = deployed / days if days > 0 else None
        return Figures(
            deployments_per_day=per_day,
            deployment_frequency=band(per_day),
            deployments=deployed,
            failures=failed,
            restored_failures=len(points),
            change_failure_rate=failed / deployed if deployed else None,
            median_time_to_restore_seconds=statistics.median(points) if points else None,
            failure_event_rate=failed / deployed if deployed else None,
            # No versions or commits here: no deployment is a change failure.
            deployment_change_failure_rate=0.0 if deployed else None,
        )

    breakdown = []
    dimensions = [
        (Dimension.SERVICE, SERVICES, scope.services),
        (Dimension.TEAM, TEAMS, scope.teams),
        (Dimension.ENV, ENVS, scope.envs),
    ]
    for dimension, keys, scoped_keys in dimensions:
        for key in sorted(keys):
            if scoped_keys and key not in scoped_keys:
                continue
            if dimension == Dimension.SERVICE:
                row_failures = [f for f in kept_failures if key in f.services]
                row_deployments = [d for d in kept_deployments if d.service == key]
            elif dimension == Dimension.TEAM:
                row_failures = [f for f in kept_failures if f.team == key]
                row_deployments = [d for d in kept_deployments if d.team == key]
            else:
                row_failures = [f for f in kept_failures if f.env == key]
                row_deployments = [d for d in kept_deployments if d.env == key]
            row = figures(row_failures, row_deployments)
            if row.deployments or row.failures or row.restored_failures:
                breakdown.append(BreakdownRow(dimension=dimension, key=key, **row.model_dump()))

    return Scoreboard(summary=figures(kept_failures, kept_deployments), breakdown=breakdown)


@SETTINGS
@given(
    failures=st.lists(failure_facts, max_size=25),
    deployments=st.lists(deployment_facts, max_size=25),
    start=st.integers(min_value=0, max_value=10),
    length=st.integers(min_value=0, max_value=15),
    sources=st.one_of(st.just(set(FailureSource)), st.sets(st.sampled_from(list(FailureSource)))),
    scope=scopes,
)
def test_compute_matches_the_reference(
    failures: list[FailureFact],
    deployments: list[DeploymentFact],
    start: int,
    length: int,
    sources: set[FailureSource],
    scope: Scope | None,
) -> None:
    window_start, window_end = minute(start), minute(start + length)
    result = compute(
        failures,
        deployments,
        window_start=window_start,
        window_end=window_end,
        sources=sources,
        scope=scope,
    )
    expected = reference(failures, deployments, window_start, window_end, sources, scope or Scope())
    assert result == expected


@SETTINGS
@given(
    failures=st.lists(failure_facts, max_size=25),
    deployments=st.lists(deployment_facts, max_size=25),
)
def test_order_of_facts_does_not_matter(
    failures: list[FailureFact], deployments: list[DeploymentFact]
) -> None:
    def board(these: list[FailureFact], those: list[DeploymentFact]) -> Scoreboard:
        return compute(
            these,
            those,
            window_start=minute(0),
            window_end=minute(20),
            sources=list(FailureSource),
        )

    assert board(failures, deployments) == board(failures[::-1], deployments[::-1])
