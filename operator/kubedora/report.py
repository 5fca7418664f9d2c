"""What `kubedora metrics` prints: each DoraSource's scoreboard, read from its
status, as a table or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import Field

from kubedora.metrics import format_duration, format_rate, format_ratio_percent
from kubedora.models import BreakdownRow, DoraSourceSpec, DoraSourceStatus, Figures, KubeModel


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
                    if key in ("windowStart", "windowEnd", "summary", "breakdown", "conditions")
                },
            }
            for b in boards
        ],
        indent=2,
    )
