"""Trends: the scoreboard's figures per time bucket, oldest first, counted by
the same tallies as the window (dora._Board), and drawn as text sparklines."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kubedora.metrics.bounds import busiest
from kubedora.metrics.dora import DeploymentFact, FailureFact, _Board, _Filter, _Tally
from kubedora.metrics.once import counted_deployments
from kubedora.models import (
    ChangeFailureDefinition,
    DeploymentSource,
    Dimension,
    FailureSource,
    RowTrend,
    Scope,
    TrendPoint,
)

# The busiest rows of each dimension get a trend in status; every row would
# make status grow with the number of services (etcd stores at most 1.5 MiB).
TREND_ROWS_PER_DIMENSION = 10
_DAY = timedelta(days=1)
_BLOCKS = "▁▂▃▄▅▆▇█"
ABSENT = "·"


@dataclass(frozen=True, slots=True)
class Trend:
    points: list[TrendPoint]
    rows: list[RowTrend]


def _point(start: datetime, tally: _Tally | None, days: float) -> TrendPoint:
    # Buckets count failures and deployments, not deployment-side change
    # failures: their change failure rate is the failure-event one.
    figures = tally.figures(ChangeFailureDefinition.FAILURES) if tally is not None else None
    if figures is None or not (
        figures.deployments or figures.failures or figures.restored_failures
    ):
        return TrendPoint(start=start)
    # Every figure the scoreboard has and a trend point names, so that a new
    # summary figure shows in trends once both models carry it.
    shared = figures.model_dump(include=set(TrendPoint.model_fields))
    point = TrendPoint.model_validate({**shared, "start": start})
    if point.deployments_per_day is None:
        point.deployments_per_day = figures.deployments / days
    return point


def compute_trend(
    failures: Iterable[FailureFact],
    deployments: Iterable[DeploymentFact],
    *,
    end: datetime,
    bucket: timedelta,
    buckets: int,
    sources: Collection[FailureSource],
    scope: Scope | None = None,
    rows_per_dimension: int = TREND_ROWS_PER_DIMENSION,
    deployment_sources: Collection[DeploymentSource] | None = None,
) -> Trend:
    """`buckets` buckets of length `bucket`, the last ending at `end`.

    Bucket i covers [start_i, start_i + bucket); the last also holds `end`
    itself. A failure counts in the bucket where it started, its TTR in the
    bucket where it was restored, a deployment where it finished; which
    deployments count (their sources, one change once) as in the window."""
    if buckets <= 0:
        return Trend(points=[], rows=[])
    if bucket <= timedelta(0):
        raise ValueError(f"a trend bucket must be longer than zero, not {bucket}")
    first = end - bucket * buckets
    boards = [_Board() for _ in range(buckets)]
    wanted_sources = frozenset(sources)
    scope_filter = _Filter(scope)

    # The starts of buckets 1 … n-1: bisect on datetimes is many times
    # cheaper than timedelta arithmetic per fact.
    edges = [first + bucket * i for i in range(1, buckets)]

    def index(moment: datetime) -> int | None:
        if moment < first or moment > end:
            return None
        return bisect_right(edges, moment)

    for failure in failures:
        if failure.source not in wanted_sources:
            continue
        started = index(failure.started_at)
        restored = (
            index(failure.restored_at)
            if failure.restored_at is not None and failure.ttr_seconds is not None
            else None
        )
        if started is not None and started == restored:
            boards[started].count_failure(
                failure, scope_filter, failed=True, ttr=failure.ttr_seconds
            )
            continue
        if started is not None:
            boards[started].count_failure(failure, scope_filter, failed=True, ttr=None)
        if restored is not None:
            boards[restored].count_failure(
                failure, scope_filter, failed=False, ttr=failure.ttr_seconds
            )

    for deployment in counted_deployments(
        deployments, deployment_sources, window_start=first, window_end=end
    ):
        at = index(deployment.finished_at)
        if at is not None:
            boards[at].count_deployment(deployment, scope_filter)

    days = bucket / _DAY
    starts = [first + bucket * i for i in range(buckets)]
    points = [
        _point(start, board.summary, days) for start, board in zip(starts, boards, strict=True)
    ]
    return Trend(points=points, rows=_row_trends(boards, starts, days, rows_per_dimension))


def _row_trends(
    boards: Sequence[_Board], starts: Sequence[datetime], days: float, limit: int
) -> list[RowTrend]:
    rows: list[RowTrend] = []
    for dimension in Dimension:
        volume: dict[str, int] = {}
        for board in boards:
            for key, tally in board.rows[dimension].items():
                volume[key] = volume.get(key, 0) + tally.deployments + tally.failures
        for key in sorted(busiest(volume, limit)):
            points = [
                _point(start, board.rows[dimension].get(key), days)
                for start, board in zip(starts, boards, strict=True)
            ]
            rows.append(RowTrend(dimension=dimension, key=key, points=points))
    return rows


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled from 0 to the largest value;
    an absent value is a dot, so that no data never reads as zero."""
    present = [value for value in values if value is not None]
    top = max(present, default=0.0)
    line = []
    for value in values:
        if value is None:
            line.append(ABSENT)
        elif top <= 0:
            line.append(_BLOCKS[0])
        else:
            line.append(_BLOCKS[min(int(value / top * (len(_BLOCKS) - 1) + 0.5), len(_BLOCKS) - 1)])
    return "".join(line)
