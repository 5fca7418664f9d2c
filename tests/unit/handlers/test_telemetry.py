"""The operator's /metrics: scoreboard gauges, bounded rows, health."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kubedora.handlers.telemetry import InformerState, PeeringState, Telemetry
from kubedora.models import (
    BreakdownRow,
    Dimension,
    DoraSourceSpec,
    DoraSourceStatus,
    Figures,
    TrendPoint,
)

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def samples(telemetry: Telemetry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(telemetry.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def status(rows: int) -> DoraSourceStatus:
    return DoraSourceStatus(
        summary=Figures(
            deployments=30,
            failures=3,
            restored_failures=1,
            change_failure_rate=0.1,
            deployments_per_day=1.0,
            deployment_frequency="elite",
        ),
        breakdown=[
            BreakdownRow(dimension=Dimension.SERVICE, key=f"s{i:03}", deployments=i, failures=1)
            for i in range(1, rows + 1)
        ],
        trend=[TrendPoint(start=NOW), TrendPoint(start=NOW, deployments=4, failures=0)],
    )


def make(rows_per_dimension: int = 20) -> Telemetry:
    return Telemetry.create(
        lambda: [InformerState("failures.kubedora.io", "", lambda: True)],
        worker_limit=64,
        rows_per_dimension=rows_per_dimension,
    )


def test_summary_rows_and_trend_as_gauges() -> None:
    telemetry = make(rows_per_dimension=3)
    telemetry.boards.put("shop", "production", DoraSourceSpec(), status(rows=10), {})
    got = samples(telemetry)
    summary = (("dimension", ""), ("dorasource", "production"), ("key", ""), ("namespace", "shop"))
    assert got["kubedora_dora_deployments", summary] == 30
    assert got["kubedora_dora_change_failure_rate", summary] == 0.1
    assert got["kubedora_dora_deployments_per_day", summary] == 1.0  # 30 in 30d
    # Absent figures have no sample: no median TTR, no lead time.
    assert ("kubedora_dora_time_to_restore_median_seconds", summary) not in got
    keys = {
        dict(labels)["key"]
        for name, labels in got
        if name == "kubedora_dora_deployments" and dict(labels).get("dimension") == "service"
    }
    assert keys == {"s010", "s009", "s008", "__other__"}
    other = (("dimension", "service"), ("dorasource", "production"), ("key", "__other__"),
             ("namespace", "shop"))  # fmt: skip
    assert got["kubedora_dora_deployments", other] == sum(range(1, 8))
    trend = (("bucket", "0"), ("dorasource", "production"), ("namespace", "shop"))
    assert got["kubedora_dora_trend_deployments", trend] == 4
    empty = (("bucket", "1"), ("dorasource", "production"), ("namespace", "shop"))
    assert ("kubedora_dora_trend_deployments", empty) not in got
    assert (
        got["kubedora_backfill_failed", (("dorasource", "production"), ("namespace", "shop"))] == 0
    )


def test_dropped_boards_export_nothing() -> None:
    telemetry = make()
    telemetry.boards.put("shop", "production", DoraSourceSpec(), status(rows=1), {})
    telemetry.boards.drop("shop", "production")
    assert not [name for name, _ in samples(telemetry) if name.startswith("kubedora_dora_")]


def test_backfill_failed_from_status() -> None:
    telemetry = make()
    telemetry.boards.put(
        "shop", "production", DoraSourceSpec(), status(rows=1), {"backfill": {"phase": "Failed"}}
    )
    got = samples(telemetry)
    assert (
        got["kubedora_backfill_failed", (("dorasource", "production"), ("namespace", "shop"))] == 1
    )


def test_health() -> None:
    telemetry = make()
    got = samples(telemetry)
    assert got["kubedora_operator_active", ()] == 1
    assert got["kubedora_operator_worker_limit", ()] == 64
    synced = (("namespace", ""), ("resource", "failures.kubedora.io"))
    assert got["kubedora_operator_informer_synced", synced] == 1
    assert got["kubedora_operator_reconcile_errors_total", (("kind", "Failure"),)] == 0
    with pytest.raises(RuntimeError), telemetry.reconciling("Failure"):
        raise RuntimeError("boom")
    got = samples(telemetry)
    assert got["kubedora_operator_reconciles_total", (("kind", "Failure"),)] == 1
    assert got["kubedora_operator_reconcile_errors_total", (("kind", "Failure"),)] == 1
    assert got["kubedora_operator_handlers_in_flight", (("kind", "Failure"),)] == 0


def test_peering_state_follows_kopfs_messages() -> None:
    import logging

    state = PeeringState()
    record = logging.LogRecord(
        "kopf", logging.INFO, "", 0, "Pausing operations in favour of x", (), None
    )
    state.emit(record)
    assert state.active is False
    record.msg = "Resuming operations after the pause."
    state.emit(record)
    assert state.active is True


async def test_writers_wait_while_the_replica_is_a_standby() -> None:
    import asyncio
    import logging

    state = PeeringState()
    await asyncio.wait_for(state.wait_active(), 1)  # active from the start
    pause = logging.LogRecord(
        "kopf", logging.INFO, "", 0, "Pausing operations in favour of x", (), None
    )
    state.emit(pause)
    waiting = asyncio.create_task(state.wait_active())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    pause.msg = "Resuming operations after the pause."
    state.emit(pause)
    await asyncio.wait_for(waiting, 1)


async def test_a_replica_with_peering_starts_as_a_standby_until_kopf_resumes() -> None:
    import asyncio
    import logging

    # kopf starts a peering replica paused and logs nothing while a peer of
    # higher priority is alive; it says "Resuming" once it may work.
    state = PeeringState(active=False)
    waiting = asyncio.create_task(state.wait_active())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert state.active is False
    resume = logging.LogRecord(
        "kopf", logging.INFO, "", 0, "Resuming operations after the pause.", (), None
    )
    state.emit(resume)
    await asyncio.wait_for(waiting, 1)
