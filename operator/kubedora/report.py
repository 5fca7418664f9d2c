"""What `kubedora metrics` prints: each DoraSource's scoreboard, read from its
status, as a table or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import Field

from kubedora.metrics import ABSENT, format_duration, format_rate, format_ratio_percent, sparkline
from kubedora.models import (
    BackfillPhase,
    BackfillStatus,
    BreakdownRow,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    KubeModel,
    TrendPoint,
)


class SourceReport(KubeModel):
    namespace: str
    name: str
    spec: DoraSourceSpec
    status: DoraSourceStatus = Field(default_factory=DoraSourceStatus)


def _figures(figures: Figures | None) -> list[str]:
    if figures is None:
        return ["-"] * len(FIGURE_HEADERS)
    return [
        str(figures.deployments),
        str(figures.failures),
        str(figures.restored_failures),
        format_ratio_percent(figures.change_failure_rate),
        format_duration(figures.median_time_to_restore_seconds),
        format_rate(figures.deployments_per_day),
        figures.deployment_frequency or "-",
        # Lead time and deployment-side change failures.
        format_duration(figures.median_lead_time_seconds),
        str(figures.rollbacks),
        str(figures.change_failures),
    ]


def _ready(status: DoraSourceStatus) -> str:
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    return ready.status.value if ready else "Unknown"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


FIGURE_HEADERS = [
    "DEPLOYMENTS",
    "FAILURES",
    "RESTORED",
    "CFR",
    "MEDIAN TTR",
    "DEPLOYS",
    "FREQUENCY",
    "LEAD TIME",
    "ROLLBACKS",
    "CHANGE FAILURES",
]


def render_table(boards: Sequence[SourceReport], *, breakdown: bool = False) -> str:
    if not boards:
        return "No DoraSources found."
    rows = [["NAMESPACE", "NAME", "WINDOW", *FIGURE_HEADERS, "READY"]]
    rows += [
        [b.namespace, b.name, b.spec.window, *_figures(b.status.summary), _ready(b.status)]
        for b in boards
    ]
    parts = [_table(rows)]
    parts += [
        line
        for b in boards
        if b.status.backfill is not None
        and (line := backfill_line(b.namespace, b.name, b.status.backfill)) is not None
    ]
    if breakdown:
        for board in boards:
            parts.append(f"\n{board.namespace}/{board.name} by service, team and env:")
            parts.append(_breakdown_table(board.status.breakdown))
    return "\n".join(parts)


def _breakdown_table(rows: Sequence[BreakdownRow]) -> str:
    if not rows:
        return "  (nothing in the window)"
    table = [["DIMENSION", "KEY", *FIGURE_HEADERS]]
    table += [[row.dimension.value, row.key, *_figures(row)] for row in rows]
    return _table(table)


def render_json(boards: Sequence[SourceReport]) -> str:
    return json.dumps(
        [
            {
                "namespace": b.namespace,
                "name": b.name,
                "window": b.spec.window,
                **{
                    key: value
                    for key, value in b.status.to_wire().items()
                    if key
                    in (
                        "windowStart",
                        "windowEnd",
                        "summary",
                        "breakdown",
                        "trend",
                        "conditions",
                        "backfill",
                    )
                },
            }
            for b in boards
        ],
        indent=2,
    )


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# How the newest value of a trend figure reads; counts otherwise.
_SHOWN = {
    "change_failure_rate": format_ratio_percent,
    "median_time_to_restore_seconds": format_duration,
    "median_lead_time_seconds": format_duration,
    "deployments_per_day": _per_day,
}
_LABELS = {
    "change_failure_rate": "CFR",
    "median_time_to_restore_seconds": "median TTR",
    "median_lead_time_seconds": "median lead time",
    "restored_failures": "restored",
}
TREND_FIGURES = [name for name in TrendPoint.model_fields if name != "start"]


def _series(points: Sequence[TrendPoint], figure: str) -> list[float | None]:
    values: list[float | None] = []
    for point in points:
        value = getattr(point, figure)
        values.append(None if value is None else float(value))
    return values


def _trend_rows(label: str, points: Sequence[TrendPoint]) -> list[list[str]]:
    rows = []
    for figure in TREND_FIGURES:
        values = _series(points, figure)
        if all(value is None for value in values) and figure == "median_lead_time_seconds":
            continue  # not measured by this operator yet
        newest = values[-1] if values else None
        shown = _SHOWN.get(figure, _count)
        label_of = _LABELS.get(figure, figure.replace("_", " "))
        rows.append([label, label_of, sparkline(values), shown(newest)])
    return rows


def render_trends(boards: Sequence[SourceReport], *, breakdown: bool = False) -> str:
    """Each figure of status.trend as a sparkline, oldest bucket first; with
    `breakdown`, also the trends of the busiest breakdown rows."""
    if not boards:
        return "No DoraSources found."
    parts = []
    for board in boards:
        points = board.status.trend
        bucket = board.spec.trend.bucket if board.spec.trend else "7d"
        if not points:
            parts.append(f"{board.namespace}/{board.name}: no trend (not computed, or turned off)")
            continue
        parts.append(
            f"{board.namespace}/{board.name}: {len(points)} buckets of {bucket} from "
            f"{points[0].start:%Y-%m-%d}, oldest first ({ABSENT} no data):"
        )
        rows = [["ROW", "FIGURE", "TREND", "NEWEST"], *_trend_rows("summary", points)]
        if breakdown:
            for row in board.status.breakdown_trend:
                rows += _trend_rows(f"{row.dimension.value}: {row.key}", row.points)
        parts.append(_table(rows))
    return "\n".join(parts)


def backfill_line(
    namespace: str, name: str, backfill: BackfillStatus, now: datetime | None = None
) -> str | None:
    """One line on a backfill that is not done: how far, and when it should end."""
    if backfill.phase == BackfillPhase.SUCCEEDED:
        return None
    where = f"{namespace}/{name}: PagerDuty backfill {backfill.phase.value}"
    if backfill.phase == BackfillPhase.FAILED:
        return f"{where}: {backfill.message}"
    done = backfill.progress() or 0.0
    counts = (
        f"{done:.0%} ({backfill.incidents} incidents, {backfill.requests} requests, "
        f"{backfill.throttled} throttled)"
    )
    return f"{where} {counts}, ETA {_eta(backfill, done, now or datetime.now(UTC))}"


def _eta(backfill: BackfillStatus, done: float, now: datetime) -> str:
    if backfill.started_at is None or done <= 0:
        return "unknown"
    elapsed = (now - backfill.started_at).total_seconds()
    return format_duration(max(0.0, elapsed / done * (1 - done)))
