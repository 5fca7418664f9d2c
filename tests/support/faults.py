"""The chaos scenarios: load like PagerDuty's and datadog-ci's through a
real receiver and operator, a fault in the middle of it, then the check
(tests.support.chaos.verify). The tests run short ones; `make chaos`
(tests/benchmarks/chaos.py) runs longer ones and prints the table."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.support.chaos import Outcome, Stack, verify
from tests.support.kube import unique_name
from tests.support.load import (
    Backoff,
    DatadogCI,
    PagerDuty,
    plan_deployments,
    plan_incidents,
)


@dataclass(frozen=True)
class Size:
    incidents: int
    deployments: int
    concurrency: int = 8
    outage_seconds: float = 30.0
    # How long kubedora gets to settle once the load is delivered.
    settle_seconds: float = 120.0


Fault = Callable[[Stack, Size], Awaitable[None]]


async def _receiver_kill(stack: Stack, size: Size) -> None:
    assert stack.receiver is not None
    stack.receiver.kill()
    await asyncio.sleep(1.0)
    await asyncio.to_thread(stack.receiver.start)


async def _operator_kill(stack: Stack, size: Size) -> None:
    (running,) = stack.operators
    running.process.kill()
    await asyncio.to_thread(running.process.wait)
    stack.operators.remove(running)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(stack.start_operator)


async def _active_replica_kill(stack: Stack, size: Size) -> None:
    # The first replica has the higher priority: it is the active one.
    active = stack.operators[0]
    active.process.kill()
    await asyncio.to_thread(active.process.wait)


async def _api_server_outage(stack: Stack, size: Size) -> None:
    await asyncio.to_thread(stack.stop_api_server)
    await asyncio.sleep(size.outage_seconds)
    await asyncio.to_thread(stack.start_api_server)


async def _nothing(stack: Stack, size: Size) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    title: str
    fault: Fault
    replicas: int = 1
    duplicate_and_shuffle: bool = False


SCENARIOS = {
    "receiver-kill": Scenario("receiver kill -9, restart", _receiver_kill),
    "operator-kill": Scenario("operator kill -9, restart", _operator_kill),
    "replica-kill": Scenario("2 replicas, active kill -9", _active_replica_kill, replicas=2),
    "api-server-outage": Scenario("API server down, --keep-data", _api_server_outage),
    "duplicates": Scenario("every delivery 3x, shuffled", _nothing, duplicate_and_shuffle=True),
}


def run(stack: Stack, key: str, size: Size) -> Outcome:
    """One scenario in a namespace of its own on the stack's control plane."""
    scenario = SCENARIOS[key]
    title = scenario.title
    if key == "api-server-outage":
        title = f"API server down {size.outage_seconds:.0f} s, --keep-data"
    stack.serve(unique_name(key))
    if scenario.replicas > 1:
        stack.create_peering()
        for n in range(scenario.replicas):
            stack.start_operator(priority=200 - n)
    else:
        stack.start_operator()
    assert stack.receiver is not None
    plans = plan_incidents(key.replace("-", "")[:6], size.incidents, seed=len(key))
    deployments = plan_deployments(size.deployments)
    # Retries of PagerDuty's kind, sooner: the outage lasts seconds, not hours.
    backoff = Backoff(first=0.2, cap=4.0, give_up_after=size.outage_seconds + 120)
    pagerduty = PagerDuty(
        stack.receiver.url,
        concurrency=size.concurrency,
        duplicate_and_shuffle=scenario.duplicate_and_shuffle,
        backoff=backoff,
    )
    datadog = DatadogCI(stack.receiver.url, backoff=backoff)
    outcome = Outcome(title, pagerduty, datadog)
    events = sum(len(plan.steps) for plan in plans) * (3 if scenario.duplicate_and_shuffle else 1)
    started = time.monotonic()

    async def fault_midway() -> None:
        # Mid-load: a third of the events are in.
        await pagerduty.tally.answered(events // 3).wait()
        await scenario.fault(stack, size)

    async def load() -> None:
        await asyncio.gather(pagerduty.run(plans), datadog.run(deployments), fault_midway())

    asyncio.run(load())
    verify(stack, outcome, plans, timeout=size.settle_seconds)
    if scenario.replicas > 1:
        survivor = stack.operators[-1]
        if survivor.metric('kubedora_operator_reconciles_total{kind="Failure"}') == 0:
            outcome.mismatches.append("the standby replica never reconciled a Failure")
    outcome.seconds = time.monotonic() - started
    stack.down_services()
    return outcome
