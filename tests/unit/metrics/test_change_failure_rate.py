"""Both change failure rate families on a hand-computed scenario."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedora.metrics import ChangeSettings, DeploymentFact, FailureFact, compute
from kubedora.models import ChangeFailureDefinition, Dimension, FailureSource

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=30)


def at(hours: float) -> datetime:
    return START + timedelta(days=1, hours=hours)


def deployment(name: str, service: str, version: str, hours: float) -> DeploymentFact:
    return DeploymentFact(
        service=service, team="shop", env="prod", finished_at=at(hours), name=name, version=version
    )


# checkout: 1 → 2 → 3 → 1 (rollback marks 2; 4 deployments, 1 rollback).
# search: 7 → 8 (no change failure). One failure event of checkout.
DEPLOYMENTS = [
    deployment("c1", "checkout", "1", 0),
    deployment("c2", "checkout", "2", 1),
    deployment("c3", "checkout", "3", 2),
    deployment("c1b", "checkout", "1", 3.5),
    deployment("s7", "search", "7", 0),
    deployment("s8", "search", "8", 1),
]
FAILURES = [
    FailureFact(
        source=FailureSource.API,
        services=("checkout",),
        team="shop",
        env="prod",
        started_at=at(1.5),
        restored_at=at(2),
        ttr_seconds=1800.0,
    )
]
LEAD_TIMES = {"c2": [3600.0, 7200.0], "c3": [60.0], "s8": [600.0]}


def scoreboard(definition: ChangeFailureDefinition) -> dict[str, object]:
    board = compute(
        FAILURES,
        DEPLOYMENTS,
        window_start=START,
        window_end=END,
        sources=frozenset(FailureSource),
        changes=ChangeSettings(definition=definition, lead_times=LEAD_TIMES),
    )
    rows = {(r.dimension, r.key): r for r in board.breakdown}
    return {
        "summary": board.summary.model_dump(),
        "checkout": rows[(Dimension.SERVICE, "checkout")].model_dump(),
        "search": rows[(Dimension.SERVICE, "search")].model_dump(),
    }


def test_both_families_by_hand() -> None:
    figures = scoreboard(ChangeFailureDefinition.FAILURES)
    summary = figures["summary"]
    assert isinstance(summary, dict)
    assert summary["deployments"] == 6
    assert summary["failures"] == 1
    assert summary["failure_event_rate"] == 1 / 6
    assert summary["change_failures"] == 1
    assert summary["rollbacks"] == 1
    # 1 change failure ÷ (6 deployments - 1 rollback).
    assert summary["deployment_change_failure_rate"] == 1 / 5
    assert summary["change_failure_rate"] == 1 / 6
    # c2 finished at +1h, its rollback at +3.5h.
    assert summary["median_failed_deployment_recovery_seconds"] == 2.5 * 3600
    # Over all commits: 60, 600, 3600, 7200.
    assert summary["median_lead_time_seconds"] == (600 + 3600) / 2
    checkout, search = figures["checkout"], figures["search"]
    assert isinstance(checkout, dict)
    assert isinstance(search, dict)
    assert checkout["deployment_change_failure_rate"] == 1 / 3
    assert checkout["failure_event_rate"] == 1 / 4
    assert checkout["median_lead_time_seconds"] == 3600.0
    assert search["deployment_change_failure_rate"] == 0.0
    assert search["failure_event_rate"] == 0.0
    assert search["median_failed_deployment_recovery_seconds"] is None


def test_switching_the_definition_changes_change_failure_rate_and_nothing_else() -> None:
    by_failures = scoreboard(ChangeFailureDefinition.FAILURES)
    by_deployments = scoreboard(ChangeFailureDefinition.DEPLOYMENTS)
    for part in ("summary", "checkout", "search"):
        left, right = by_failures[part], by_deployments[part]
        assert isinstance(left, dict)
        assert isinstance(right, dict)
        assert left["change_failure_rate"] == left["failure_event_rate"]
        assert right["change_failure_rate"] == right["deployment_change_failure_rate"]
        assert {k: v for k, v in left.items() if k != "change_failure_rate"} == {
            k: v for k, v in right.items() if k != "change_failure_rate"
        }
    summary = by_deployments["summary"]
    assert isinstance(summary, dict)
    assert summary["change_failure_rate"] == 1 / 5


def test_a_recovery_counts_when_remediated_in_the_window() -> None:
    board = compute(
        [],
        DEPLOYMENTS,
        window_start=at(3),
        window_end=END,
        sources=frozenset(FailureSource),
    )
    # c2 failed before the window; its rollback (+3.5h) is in it.
    assert board.summary.deployments == 1
    assert board.summary.rollbacks == 1
    assert board.summary.change_failures == 0
    assert board.summary.median_failed_deployment_recovery_seconds == 2.5 * 3600
    # 0 change failures ÷ (1 - 1): no data.
    assert board.summary.deployment_change_failure_rate is None
