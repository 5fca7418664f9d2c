"""`kubedora metrics`: the scoreboard as a table and as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping

from kubedora.report import SourceReport, render_json, render_table


def board(name: str, summary: Mapping[str, object] | None, **status: object) -> SourceReport:
    return SourceReport.model_validate(
        {
            "namespace": "kubedora",
            "name": name,
            "spec": {"window": "7d"},
            "status": {**({"summary": summary} if summary else {}), **status},
        }
    )


FIGURES = {
    "deployments": 40,
    "failures": 3,
    "restoredFailures": 2,
    "changeFailureRate": 0.075,
    "medianTimeToRestoreSeconds": 1830.0,
    "medianLeadTimeSeconds": 7260.0,
    "rollbacks": 1,
    "changeFailures": 2,
    "deploymentsPerDay": 40 / 7,
    "deploymentFrequency": "elite",
}
READY = [
    {
        "type": "Ready",
        "status": "True",
        "reason": "Computed",
        "lastTransitionTime": "2026-11-26T10:00:00Z",
    }
]


def test_the_table_shows_each_figure_formatted() -> None:
    table = render_table([board("prod", FIGURES, conditions=READY), board("fresh", None)])
    header, prod, fresh = table.splitlines()
    assert header.split() == [
        "NAMESPACE", "NAME", "WINDOW", "DEPLOYMENTS", "FAILURES", "RESTORED", "CFR",
        "MEDIAN", "TTR", "DEPLOYS", "FREQUENCY", "LEAD", "TIME", "ROLLBACKS", "CHANGE",
        "FAILURES", "READY",
    ]  # fmt: skip
    assert prod.split() == [
        "kubedora", "prod", "7d", "40", "3", "2", "7.5%", "30m30s", "5.7/day", "elite", "2h1m",
        "1", "2", "True",
    ]  # fmt: skip
    assert fresh.split() == ["kubedora", "fresh", "7d", *["-"] * 10, "Unknown"]


def test_no_rate_is_a_dash_not_zero() -> None:
    summary = {"deployments": 0, "failures": 2, "restoredFailures": 0}
    row = render_table([board("b", summary)]).splitlines()[1].split()
    assert row[3:8] == ["0", "2", "0", "-", "-"]


def test_the_breakdown_lists_rows_per_board() -> None:
    rows = [{"dimension": "service", "key": "checkout", **FIGURES}]
    table = render_table([board("prod", FIGURES, breakdown=rows)], breakdown=True)
    assert "kubedora/prod by service, team and env:" in table
    assert table.splitlines()[-1].split()[:3] == ["service", "checkout", "40"]


def test_json_keeps_the_machine_figures() -> None:
    parsed = json.loads(render_json([board("prod", FIGURES, conditions=READY)]))
    assert parsed[0]["summary"]["changeFailureRate"] == 0.075
    assert parsed[0]["window"] == "7d"
    assert parsed[0]["name"] == "prod"


def test_nothing_found_says_so() -> None:
    assert render_table([]) == "No DoraSources found."


def test_a_running_backfill_prints_its_progress_and_eta() -> None:
    from datetime import UTC, datetime, timedelta

    from kubedora.models import BackfillPhase, BackfillStatus
    from kubedora.report import backfill_line

    start = datetime(2026, 1, 1, tzinfo=UTC)
    status = BackfillStatus(
        phase=BackfillPhase.RUNNING,
        from_=start - timedelta(days=100),
        to=start,
        covered_until=start - timedelta(days=75),
        incidents=2500,
        requests=30,
        throttled=1,
        started_at=start,
    )
    line = backfill_line("ns", "prod", status, now=start + timedelta(minutes=5))
    assert line == (
        "ns/prod: PagerDuty backfill Running 25% (2500 incidents, 30 requests, 1 throttled), "
        "ETA 15m"
    )
    done = status.model_copy(update={"phase": BackfillPhase.SUCCEEDED})
    assert backfill_line("ns", "prod", done) is None
