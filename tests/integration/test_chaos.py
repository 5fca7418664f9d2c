"""Chaos, short: PagerDuty-like and datadog-ci-like load through `kubedora
receiver` and `kubedora operator` processes while something breaks. After
each, every incident is exactly one Failure in its planned final state
with its planned time to restore, the scoreboard equals the figures the
load generators' own record makes, and nothing answered 2xx is missing.

The control plane is this module's own (a fixed port: one scenario stops
it and starts it again on its data). `make chaos` runs the same scenarios
longer and prints their figures (tests/benchmarks/chaos.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.chaos import Outcome, Stack
from tests.support.faults import Size, run

SHORT = Size(incidents=60, deployments=12, concurrency=8, settle_seconds=90.0)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack.up(tmp_path_factory.mktemp("chaos"))
    yield running
    running.down()


def assert_whole(outcome: Outcome, incidents: int) -> None:
    print(f"\n{Outcome.HEADER}\n{outcome.row()}")
    assert outcome.lost == []
    assert outcome.mismatches == []
    assert outcome.failures == incidents
    assert outcome.pagerduty.tally.gave_up == 0
    assert outcome.datadog.tally.gave_up == 0
    assert len(outcome.datadog.names) == SHORT.deployments


def test_receiver_killed_and_restarted_mid_load(stack: Stack) -> None:
    outcome = run(stack, "receiver-kill", SHORT)
    assert_whole(outcome, SHORT.incidents)
    # The senders saw the receiver go: refused or cut connections, retried.
    assert outcome.pagerduty.tally.errors + outcome.datadog.tally.errors > 0
    assert stack.receiver is not None
    assert stack.receiver.starts == 2


def test_operator_killed_and_restarted_mid_burst(stack: Stack) -> None:
    before = stack.operator_starts
    outcome = run(stack, "operator-kill", SHORT)
    assert_whole(outcome, SHORT.incidents)
    assert stack.operator_starts - before == 2


def test_the_active_replica_killed_the_standby_takes_over(stack: Stack) -> None:
    outcome = run(stack, "replica-kill", SHORT)
    assert_whole(outcome, SHORT.incidents)


def test_every_delivery_three_times_shuffled_within_its_incident(stack: Stack) -> None:
    outcome = run(stack, "duplicates", SHORT)
    assert_whole(outcome, SHORT.incidents)
    planned = outcome.pagerduty.tally.deliveries
    assert planned == 3 * len(outcome.pagerduty.tally.acked)


# Last: it stops this module's control plane and starts it again. The outage
# alone is 30 s, the figure; the timeout leaves room for a slow machine.
@pytest.mark.timeout(240)
def test_api_server_down_30s_mid_ingest_restarted_on_its_data(stack: Stack) -> None:
    outcome = run(stack, "api-server-outage", SHORT)
    assert_whole(outcome, SHORT.incidents)
    # The receiver answered 503 while the API server was down, and the
    # senders retried until it was back.
    assert outcome.pagerduty.tally.unavailable + outcome.datadog.tally.unavailable > 0
