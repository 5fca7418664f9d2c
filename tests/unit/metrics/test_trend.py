"""status.trend on a hand-computed 12-week scenario, sparklines, bounded rows
and bands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubedora.metrics import (
    OTHER,
    Band,
    DeploymentFact,
    FailureFact,
    bound_rows,
    change_failure_rate_band,
    compute,
    compute_trend,
    frequency_band,
    lead_time_band,
    sparkline,
    time_to_restore_band,
)
from kubedora.models import BreakdownRow, Dimension, FailureSource, Scope

API = FailureSource.API
END = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday, midnight
WEEK = timedelta(days=7)
FIRST = END - 12 * WEEK  # 2026-09-07


def at(week: int, days: float = 0, hours: float = 0) -> datetime:
    """A moment in bucket `week` (0 is the oldest)."""
    return FIRST + week * WEEK + timedelta(days=days, hours=hours)


def failure(
    started: datetime,
    restored: datetime | None = None,
    *,
    service: str = "checkout",
    source: FailureSource = API,
) -> FailureFact:
    ttr = (restored - started).total_seconds() if restored is not None else None
    return FailureFact(
        source=source,
        services=(service,),
        team="shop",
        env="prod",
        started_at=started,
        restored_at=restored,
        ttr_seconds=ttr,
    )


def deployment(finished: datetime, service: str = "checkout") -> DeploymentFact:
    return DeploymentFact(service=service, team="shop", env="prod", finished_at=finished)


FAILURES = [
    # Bucket 0: starts and is restored in it (30 minutes).
    failure(at(0, 1), at(0, 1, hours=0.5)),
    # Started before the first bucket, restored in bucket 0: only its TTR counts.
    failure(FIRST - timedelta(days=6), at(0, 2)),
    # Bucket 3: a failure and no deployment; still open.
    failure(at(3, 3), service="payments"),
    # Spans two buckets: counts in 10, where it started; its TTR (4 h) in 11.
    failure(at(11) - timedelta(hours=2), at(11, hours=2)),
    # A source the DoraSource does not count.
    failure(at(11, 1), at(11, 1, hours=1), source=FailureSource.PAGERDUTY),
    # After the end: not counted.
    failure(END + timedelta(minutes=1)),
]
DEPLOYMENTS = [
    deployment(at(0, 0, hours=3)),
    deployment(at(10)),  # exactly on a bucket's start: that bucket, not the one before
    deployment(at(10, 2)),
    deployment(at(10, 3), "payments"),
    deployment(at(10, 6, hours=23.9)),
    deployment(at(11, 1)),
    deployment(at(11, 2)),
    deployment(at(11, 6), "payments"),
    deployment(END),  # the end itself belongs to the last bucket
    deployment(FIRST - timedelta(seconds=1)),  # before the first bucket
]


def wire(point: Any) -> dict[str, Any]:
    data: dict[str, Any] = point.to_wire()
    return data


def start(week: int) -> str:
    return (FIRST + week * WEEK).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_trend() -> list[dict[str, Any]]:
    empty = [{"start": start(week)} for week in range(12)]
    expected: list[dict[str, Any]] = [dict(point) for point in empty]
    expected[0].update(
        deployments=1,
        failures=1,
        restoredFailures=2,
        changeFailureRate=1.0,
        # The median of 1800 s and 6 days + 2 days = 8 days.
        medianTimeToRestoreSeconds=(1800 + 8 * 86400) / 2,
        deploymentsPerDay=1 / 7,
    )
    expected[3].update(deployments=0, failures=1, restoredFailures=0, deploymentsPerDay=0.0)
    expected[10].update(
        deployments=4,
        failures=1,
        restoredFailures=0,
        changeFailureRate=0.25,
        deploymentsPerDay=4 / 7,
    )
    expected[11].update(
        deployments=4,
        failures=0,
        restoredFailures=1,
        changeFailureRate=0.0,
        medianTimeToRestoreSeconds=4 * 3600.0,
        deploymentsPerDay=4 / 7,
    )
    return expected


def test_twelve_weeks_by_hand() -> None:
    trend = compute_trend(FAILURES, DEPLOYMENTS, end=END, bucket=WEEK, buckets=12, sources={API})
    assert [wire(point) for point in trend.points] == expected_trend()


def test_empty_weeks_have_no_figures_not_zero() -> None:
    trend = compute_trend(FAILURES, DEPLOYMENTS, end=END, bucket=WEEK, buckets=12, sources={API})
    for week in (1, 2, 4, 5, 6, 7, 8, 9):
        point = trend.points[week]
        assert point.deployments is None
        assert point.change_failure_rate is None
        assert wire(point) == {"start": start(week)}


def test_buckets_add_up_to_the_window_they_cover() -> None:
    """Over the trend's whole span, the buckets' counts are the window's."""
    trend = compute_trend(FAILURES, DEPLOYMENTS, end=END, bucket=WEEK, buckets=12, sources={API})
    board = compute(FAILURES, DEPLOYMENTS, window_start=FIRST, window_end=END, sources={API})
    assert sum(p.deployments or 0 for p in trend.points) == board.summary.deployments
    assert sum(p.failures or 0 for p in trend.points) == board.summary.failures
    assert sum(p.restored_failures or 0 for p in trend.points) == board.summary.restored_failures


def test_rows_follow_the_same_rules_and_are_bounded() -> None:
    trend = compute_trend(FAILURES, DEPLOYMENTS, end=END, bucket=WEEK, buckets=12, sources={API})
    rows = {(row.dimension, row.key): row for row in trend.rows}
    assert set(rows) == {
        (Dimension.SERVICE, "checkout"),
        (Dimension.SERVICE, "payments"),
        (Dimension.TEAM, "shop"),
        (Dimension.ENV, "prod"),
    }
    payments = rows[Dimension.SERVICE, "payments"].points
    assert [p.deployments for p in payments] == [None, None, None, 0, *[None] * 6, 1, 1]
    assert payments[3].failures == 1
    assert [wire(p) for p in rows[Dimension.TEAM, "shop"].points] == expected_trend()

    many = [deployment(at(11, 1), f"svc-{i:02}") for i in range(30)]
    many += [deployment(at(11, 2), "svc-07")] * 3
    bounded = compute_trend(
        [], many, end=END, bucket=WEEK, buckets=12, sources={API}, rows_per_dimension=5
    )
    services = [row.key for row in bounded.rows if row.dimension == Dimension.SERVICE]
    # The busiest first by volume, then by name; shown in name order.
    assert services == ["svc-00", "svc-01", "svc-02", "svc-03", "svc-07"]


def test_scope_and_off() -> None:
    scoped = compute_trend(
        FAILURES,
        DEPLOYMENTS,
        end=END,
        bucket=WEEK,
        buckets=12,
        sources={API},
        scope=Scope(services=["payments"]),
    )
    assert [p.deployments for p in scoped.points][10:] == [1, 1]
    assert scoped.points[3].failures == 1
    assert scoped.points[0].deployments is None
    off = compute_trend(FAILURES, DEPLOYMENTS, end=END, bucket=WEEK, buckets=0, sources={API})
    assert off.points == []
    assert off.rows == []
    with pytest.raises(ValueError, match="longer than zero"):
        compute_trend([], [], end=END, bucket=timedelta(0), buckets=3, sources={API})


def test_sparkline_scales_and_keeps_gaps() -> None:
    assert sparkline([0.0, 1.0, 2.0, 4.0, None, 8.0]) == "▁▂▃▅·█"
    assert sparkline([None, None]) == "··"
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline([]) == ""


def row(dimension: Dimension, key: str, deployments: int, failures: int) -> BreakdownRow:
    return BreakdownRow(
        dimension=dimension,
        key=key,
        deployments=deployments,
        failures=failures,
        restored_failures=failures,
        change_failure_rate=failures / deployments if deployments else None,
        median_time_to_restore_seconds=60.0 if failures else None,
    )


def test_bound_rows_keeps_the_busiest_and_folds_the_rest() -> None:
    rows = [row(Dimension.SERVICE, f"s{i}", i, i % 2) for i in range(1, 8)]
    rows.append(row(Dimension.ENV, "prod", 28, 4))
    bounded = bound_rows(rows, 3)
    keys = [(r.dimension, r.key) for r in bounded]
    assert keys == [
        (Dimension.SERVICE, "s5"),
        (Dimension.SERVICE, "s6"),
        (Dimension.SERVICE, "s7"),
        (Dimension.SERVICE, OTHER),
        (Dimension.ENV, "prod"),
    ]
    other = bounded[3]
    assert (other.deployments, other.failures, other.restored_failures) == (10, 2, 2)
    assert other.change_failure_rate == 0.2
    assert other.median_time_to_restore_seconds is None


@pytest.mark.parametrize(
    ("function", "value", "band"),
    [
        (frequency_band, 1.0, Band.ELITE),
        (frequency_band, 0.99, Band.HIGH),
        (frequency_band, 1 / 7, Band.HIGH),
        (frequency_band, 1 / 30, Band.MEDIUM),
        (frequency_band, 0.01, Band.LOW),
        (lead_time_band, 3600.0, Band.ELITE),
        (lead_time_band, 86400.0, Band.HIGH),
        (lead_time_band, 8 * 86400.0, Band.MEDIUM),
        (lead_time_band, 31 * 86400.0, Band.LOW),
        (change_failure_rate_band, 0.05, Band.ELITE),
        (change_failure_rate_band, 0.1, Band.HIGH),
        (change_failure_rate_band, 0.15, Band.MEDIUM),
        (change_failure_rate_band, 0.151, Band.LOW),
        (time_to_restore_band, 3599.0, Band.ELITE),
        (time_to_restore_band, 3600.0, Band.HIGH),
        (time_to_restore_band, 86400.0, Band.MEDIUM),
        (time_to_restore_band, 7 * 86400.0, Band.LOW),
        (time_to_restore_band, None, None),
    ],
)
def test_bands(function: Any, value: float | None, band: Band | None) -> None:
    assert function(value) == band
