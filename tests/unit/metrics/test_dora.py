"""The scoreboard: window, CFR, median TTR, breakdown, scope and sources."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from kubedora.metrics import (
    DeploymentFact,
    FailureFact,
    Scoreboard,
    compute,
    frequency_band,
    median,
)
from kubedora.models import BreakdownRow, Dimension, FailureSource, Figures, Scope

START = datetime(2024, 5, 1, tzinfo=UTC)
END = START + timedelta(days=30)
INSIDE = START + timedelta(days=10)
BEFORE = START - timedelta(days=1)
AFTER = END + timedelta(days=1)
TICK = timedelta(microseconds=1)
ALL_SOURCES = frozenset(FailureSource)


def failure(
    *services: str,
    team: str | None = None,
    env: str | None = None,
    started: datetime = INSIDE,
    restored: datetime | None = None,
    ttr: float | None = None,
    source: FailureSource = FailureSource.API,
) -> FailureFact:
    return FailureFact(
        source=source,
        services=services,
        team=team,
        env=env,
        started_at=started,
        restored_at=restored,
        ttr_seconds=ttr,
    )


def deployment(
    service: str,
    *,
    team: str | None = None,
    env: str | None = None,
    finished: datetime = INSIDE,
) -> DeploymentFact:
    return DeploymentFact(service=service, team=team, env=env, finished_at=finished)


def board(
    failures: Iterable[FailureFact] = (),
    deployments: Iterable[DeploymentFact] = (),
    *,
    sources: Collection[FailureSource] = ALL_SOURCES,
    scope: Scope | None = None,
) -> Scoreboard:
    return compute(
        failures, deployments, window_start=START, window_end=END, sources=sources, scope=scope
    )


def figures(**values: object) -> Figures:
    """Figures over the 30-day window; the deployment frequency follows
    from the deployments (its bands are pinned in test_frequency.py)."""
    deployments = values.get("deployments", 0)
    assert isinstance(deployments, int)
    per_day = deployments / 30
    return Figures.model_validate(
        {"deployments_per_day": per_day, "deployment_frequency": frequency_band(per_day), **values}
    )


def rows(result: Scoreboard, dimension: Dimension) -> dict[str, BreakdownRow]:
    return {row.key: row for row in result.breakdown if row.dimension == dimension}


class TestMedian:
    def test_empty_is_none(self) -> None:
        assert median([]) is None

    def test_odd_count_is_the_middle_value(self) -> None:
        assert median([50.0, 10.0, 30.0]) == 30.0

    def test_even_count_is_the_mean_of_the_two_middle_values(self) -> None:
        assert median([100.0, 1.0, 3.0, 2.0]) == 2.5

    def test_single_value(self) -> None:
        assert median([7]) == 7.0
        assert isinstance(median([7]), float)

    def test_does_not_reorder_its_input(self) -> None:
        values = [3.0, 1.0, 2.0]
        median(values)
        assert values == [3.0, 1.0, 2.0]


class TestEmpty:
    def test_nothing_in_the_window_gives_empty_figures(self) -> None:
        result = board(
            [failure("a", started=BEFORE), failure("a", started=AFTER)],
            [deployment("a", finished=AFTER)],
        )
        assert result == Scoreboard(summary=figures(), breakdown=[])
        assert result.summary.change_failure_rate is None
        assert result.summary.median_time_to_restore_seconds is None

    def test_window_ending_before_it_starts_is_refused(self) -> None:
        with pytest.raises(ValueError, match="window"):
            compute([], [], window_start=END, window_end=START, sources=ALL_SOURCES)


class TestChangeFailureRate:
    def test_no_deployments_is_no_rate_not_zero_nor_infinite(self) -> None:
        result = board([failure("a"), failure("a")])
        assert result.summary.failures == 2
        assert result.summary.change_failure_rate is None

    def test_zero_failures_over_deployments_is_zero(self) -> None:
        result = board([], [deployment("a") for _ in range(5)])
        assert result.summary.change_failure_rate == 0.0
        assert result.summary.change_failure_rate is not None

    def test_rate_is_a_fraction(self) -> None:
        assert board([failure("a")], [deployment("a")] * 4).summary.change_failure_rate == 0.25

    def test_rate_can_exceed_one(self) -> None:
        rate = board([failure("a")] * 3, [deployment("a")] * 2).summary.change_failure_rate
        assert rate == 1.5


class TestWindow:
    def test_failures_count_by_start(self) -> None:
        result = board([failure("a", started=BEFORE), failure("a"), failure("a", started=AFTER)])
        assert result.summary.failures == 1

    def test_edges_are_inclusive(self) -> None:
        result = board(
            [failure("a", started=START), failure("a", started=END)],
            [deployment("a", finished=START), deployment("a", finished=END)],
        )
        assert (result.summary.failures, result.summary.deployments) == (2, 2)

    def test_just_outside_the_edges_does_not_count(self) -> None:
        result = board(
            [
                failure("a", started=START - TICK),
                failure("a", started=END + TICK),
                failure("a", started=BEFORE, restored=START - TICK, ttr=60),
                failure("a", started=BEFORE, restored=END + TICK, ttr=60),
            ],
            [deployment("a", finished=START - TICK), deployment("a", finished=END + TICK)],
        )
        assert result == Scoreboard(summary=figures(), breakdown=[])

    def test_restore_on_the_edges_counts(self) -> None:
        result = board(
            [
                failure("a", started=BEFORE, restored=START, ttr=10),
                failure("a", started=BEFORE, restored=END, ttr=30),
            ]
        )
        assert result.summary.restored_failures == 2
        assert result.summary.median_time_to_restore_seconds == 20.0

    def test_restored_in_window_after_starting_before_gives_ttr_not_a_failure(self) -> None:
        result = board([failure("a", started=BEFORE, restored=INSIDE, ttr=3600)])
        assert result.summary == figures(
            failures=0, restored_failures=1, median_time_to_restore_seconds=3600.0
        )
        assert rows(result, Dimension.SERVICE)["a"].restored_failures == 1

    def test_started_in_window_restored_after_it_is_a_failure_without_ttr(self) -> None:
        result = board([failure("a", started=INSIDE, restored=AFTER, ttr=60)])
        assert result.summary == figures(failures=1)

    def test_restored_before_the_window_counts_nothing(self) -> None:
        result = board([failure("a", started=BEFORE - timedelta(days=1), restored=BEFORE, ttr=60)])
        assert result == Scoreboard(summary=figures(), breakdown=[])

    def test_open_failure_gives_no_ttr_point(self) -> None:
        result = board([failure("a", ttr=None), failure("a", restored=INSIDE, ttr=None)])
        assert result.summary.restored_failures == 0
        assert result.summary.median_time_to_restore_seconds is None

    def test_median_of_points_restored_in_the_window(self) -> None:
        ttrs = [600.0, 60.0, 6000.0, 120.0]
        result = board([failure("a", restored=INSIDE, ttr=ttr) for ttr in ttrs])
        assert result.summary.median_time_to_restore_seconds == 360.0
        assert result.summary.restored_failures == 4


class TestBreakdown:
    def test_two_services_count_in_both_rows_and_once_in_the_summary(self) -> None:
        result = board([failure("a", "b", restored=INSIDE, ttr=60)], [deployment("a")])
        assert result.summary == figures(
            deployments=1,
            failures=1,
            restored_failures=1,
            change_failure_rate=1.0,
            median_time_to_restore_seconds=60.0,
            failure_event_rate=1.0,
            deployment_change_failure_rate=0.0,
        )
        service_rows = rows(result, Dimension.SERVICE)
        assert set(service_rows) == {"a", "b"}
        assert service_rows["a"].change_failure_rate == 1.0
        assert service_rows["b"].failures == 1
        assert service_rows["b"].change_failure_rate is None

    def test_a_service_listed_twice_counts_once(self) -> None:
        result = board([failure("a", "a")])
        assert rows(result, Dimension.SERVICE)["a"].failures == 1

    def test_rows_count_only_items_carrying_their_key(self) -> None:
        result = board(
            [failure("a", team="red", env="prod"), failure("b", team="blue", env="prod")],
            [
                deployment("a", team="red", env="prod"),
                deployment("a", team="red", env="staging"),
                deployment("b", team="blue", env="prod"),
            ],
        )
        assert rows(result, Dimension.SERVICE)["a"].change_failure_rate == 0.5
        assert rows(result, Dimension.TEAM)["blue"].change_failure_rate == 1.0
        assert rows(result, Dimension.ENV)["prod"].change_failure_rate == 1.0
        assert rows(result, Dimension.ENV)["staging"] == BreakdownRow(
            dimension=Dimension.ENV,
            key="staging",
            **figures(
                deployments=1,
                change_failure_rate=0.0,
                failure_event_rate=0.0,
                deployment_change_failure_rate=0.0,
            ).model_dump(),
        )

    def test_missing_team_or_env_makes_no_row(self) -> None:
        result = board([failure("a")], [deployment("a")])
        assert [(row.dimension, row.key) for row in result.breakdown] == [(Dimension.SERVICE, "a")]

    def test_failure_without_services_counts_for_its_team(self) -> None:
        result = board([failure(team="red")])
        assert [(row.dimension, row.key) for row in result.breakdown] == [(Dimension.TEAM, "red")]
        assert result.summary.failures == 1

    def test_rows_sorted_by_dimension_then_key(self) -> None:
        result = board(
            [failure("zeta", "alpha", team="red", env="prod")],
            [deployment("mid", team="blue", env="dev")],
        )
        assert [(row.dimension, row.key) for row in result.breakdown] == [
            (Dimension.SERVICE, "alpha"),
            (Dimension.SERVICE, "mid"),
            (Dimension.SERVICE, "zeta"),
            (Dimension.TEAM, "blue"),
            (Dimension.TEAM, "red"),
            (Dimension.ENV, "dev"),
            (Dimension.ENV, "prod"),
        ]

    def test_items_outside_the_window_make_no_row(self) -> None:
        result = board([failure("old", started=BEFORE)], [deployment("new")])
        assert set(rows(result, Dimension.SERVICE)) == {"new"}


class TestScope:
    def test_empty_scope_lists_mean_all(self) -> None:
        assert board([failure("a")], scope=Scope()) == board([failure("a")])

    def test_services_scope_keeps_failures_touching_a_scoped_service(self) -> None:
        result = board(
            [failure("a", "b"), failure("b")],
            [deployment("a"), deployment("b")],
            scope=Scope(services=["a"]),
        )
        assert (result.summary.failures, result.summary.deployments) == (1, 1)
        assert set(rows(result, Dimension.SERVICE)) == {"a"}

    def test_teams_scope_drops_failures_without_a_team(self) -> None:
        result = board(
            [failure("a", team="red"), failure("a", team="blue"), failure("a")],
            [deployment("a", team="red"), deployment("a")],
            scope=Scope(teams=["red"]),
        )
        assert (result.summary.failures, result.summary.deployments) == (1, 1)
        assert set(rows(result, Dimension.TEAM)) == {"red"}

    def test_envs_scope_drops_items_without_an_env(self) -> None:
        result = board(
            [failure("a", env="prod"), failure("a", env="dev"), failure("a")],
            [deployment("a", env="prod"), deployment("a")],
            scope=Scope(envs=["prod"]),
        )
        assert (result.summary.failures, result.summary.deployments) == (1, 1)
        assert set(rows(result, Dimension.ENV)) == {"prod"}

    def test_every_non_empty_list_must_match(self) -> None:
        scope = Scope(services=["a"], teams=["red"], envs=["prod"])
        result = board(
            [
                failure("a", team="red", env="prod"),
                failure("a", team="red", env="dev"),
                failure("a", team="blue", env="prod"),
                failure("b", team="red", env="prod"),
            ],
            scope=scope,
        )
        assert result.summary.failures == 1

    def test_scope_applies_to_ttr_points(self) -> None:
        result = board(
            [failure("b", started=BEFORE, restored=INSIDE, ttr=60)], scope=Scope(services=["a"])
        )
        assert result.summary.restored_failures == 0


class TestSources:
    def test_failures_from_other_sources_are_ignored_with_their_ttr(self) -> None:
        result = board(
            [
                failure("a", source=FailureSource.PAGERDUTY, restored=INSIDE, ttr=60),
                failure("a", source=FailureSource.INCIDENT),
            ],
            [deployment("a")],
            sources=[FailureSource.INCIDENT],
        )
        assert result.summary == figures(
            deployments=1,
            failures=1,
            change_failure_rate=1.0,
            failure_event_rate=1.0,
            deployment_change_failure_rate=0.0,
        )

    def test_no_sources_still_counts_deployments(self) -> None:
        result = board([failure("a")], [deployment("a")], sources=[])
        assert result.summary == figures(
            deployments=1,
            change_failure_rate=0.0,
            failure_event_rate=0.0,
            deployment_change_failure_rate=0.0,
        )


class TestInputs:
    def test_single_pass_iterables_are_enough(self) -> None:
        result = board((failure("a") for _ in range(3)), (deployment("a") for _ in range(6)))
        assert result.summary.change_failure_rate == 0.5

    def test_a_hundred_thousand_facts_are_all_counted(self) -> None:
        # How long it takes is tests/benchmarks/recompute.py's business, not a
        # unit test's: a timed assertion fails on a busy machine, not on a bug.
        services = [f"svc-{n}" for n in range(200)]
        failures = [
            failure(
                services[n % 200],
                services[(n + 1) % 200],
                team=f"team-{n % 20}",
                env="prod",
                started=START + timedelta(minutes=n % 40000),
                restored=START + timedelta(minutes=n % 40000 + 30),
                ttr=float(n % 3600),
            )
            for n in range(100_000)
        ]
        deployments = [
            deployment(services[n % 200], team=f"team-{n % 20}", env="prod") for n in range(100_000)
        ]
        result = board(failures, deployments)
        assert result.summary.failures == 100_000
        assert result.summary.deployments == 100_000
        assert len(result.breakdown) == 200 + 20 + 1
