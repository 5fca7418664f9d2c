"""The chaos suite's own parts: what the load generator expects of each
incident, that it retries like PagerDuty, and that the check finds a
delivery that was answered 2xx and then lost."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.chaos import _failure_problems, _lost
from tests.support.load import (
    ACK,
    REOPEN,
    RESOLVE,
    TRIGGER,
    Backoff,
    IncidentPlan,
    PagerDuty,
    Step,
    expected_figures,
    plan_incidents,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def plan(*steps: tuple[str, float]) -> IncidentPlan:
    return IncidentPlan(
        "PX1",
        T0,
        tuple(
            Step(kind, T0 + timedelta(seconds=offset), f"e{n}")
            for n, (kind, offset) in enumerate(steps)
        ),
    )


def test_ttr_is_the_time_active_over_every_active_period() -> None:
    simple = plan((TRIGGER, 0), (ACK, 60), (RESOLVE, 600.5))
    assert (simple.final_state, simple.ttr_seconds) == ("resolved", 600.5)
    reopened = plan((TRIGGER, 0), (RESOLVE, 100), (REOPEN, 1000), (ACK, 1010), (RESOLVE, 1050))
    assert (reopened.final_state, reopened.ttr_seconds) == ("resolved", 150)
    still_open = plan((TRIGGER, 0), (ACK, 60))
    assert (still_open.final_state, still_open.ttr_seconds) == ("active", None)
    assert expected_figures([simple, reopened, still_open], 6) == {
        "deployments": 6,
        "failures": 3,
        "restoredFailures": 2,
        "changeFailureRate": 0.5,
        "medianTimeToRestoreSeconds": (600.5 + 150) / 2,
    }


def test_planned_incidents_are_ordered_and_in_the_past() -> None:
    now = datetime.now(UTC)
    plans = plan_incidents("pq", 200, now=now)
    assert len({p.incident_id for p in plans}) == 200
    for each in plans:
        times = [step.at for step in each.steps]
        assert times == sorted(times)
        assert times[-1] < now
    assert {p.final_state for p in plans} == {"active", "resolved"}
    assert any(step.kind == REOPEN for p in plans for step in p.steps)


def stored_of(incident: IncidentPlan) -> dict[str, Any]:
    """The Failure kubedora stores when it applied every event of `incident`."""
    moves = {TRIGGER: "active", REOPEN: "active", RESOLVE: "resolved"}
    last = incident.steps[-1]
    return {
        "metadata": {
            "name": incident.failure_name,
            "annotations": {
                "kubedora.io/pagerduty-context": f"{last.at.isoformat()} {last.event_id}"
            },
        },
        "spec": {
            "timeline": [
                {"state": moves[s.kind], "at": s.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
                for s in incident.steps
                if s.kind in moves
            ]
        },
        "status": {"state": incident.final_state, "timeToRestoreSeconds": incident.ttr_seconds},
    }


def test_the_check_finds_an_answered_delivery_that_was_lost() -> None:
    incident = plan((TRIGGER, 0), (ACK, 60), (RESOLVE, 600))
    every = {step.event_id for step in incident.steps}
    whole = stored_of(incident)
    assert _lost(incident, whole, every) == []
    assert _failure_problems(incident, whole) == []

    without_resolve = copy.deepcopy(whole)
    without_resolve["spec"]["timeline"].pop()
    assert _lost(incident, without_resolve, every) == ["e2"]
    # Not answered 2xx: the sender still owes it, nothing was lost.
    assert _lost(incident, without_resolve, every - {"e2"}) == []

    stale_context = copy.deepcopy(whole)
    stale_context["metadata"]["annotations"]["kubedora.io/pagerduty-context"] = (
        f"{incident.steps[1].at.isoformat()} e1"
    )
    assert _lost(incident, stale_context, every) == ["e2"]
    assert _lost(incident, None, every) == ["e0", "e1", "e2"]

    wrong = copy.deepcopy(whole)
    wrong["status"]["timeToRestoreSeconds"] = 599.0
    assert _failure_problems(incident, wrong) == ["pd-px1: TTR 599.0 != 600.0"]


async def test_the_generator_retries_5xx_and_429_in_order_and_drops_other_4xx() -> None:
    answers = iter([503, 429, 202, 202, 400, 202])
    seen: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body["event"]["event_type"])
        return web.json_response({}, status=next(answers))

    app = web.Application()
    app.router.add_post("/api/v2/webhook", webhook)
    async with TestServer(app) as server:
        generator = PagerDuty(
            str(server.make_url("")).rstrip("/"),
            concurrency=1,
            backoff=Backoff(first=0.01, cap=0.02),
        )
        tally = await generator.run([plan((TRIGGER, 0), (ACK, 60), (RESOLVE, 600), (ACK, 700))])
    # The trigger until it got a 2xx, then the rest in order; the 400 is
    # dropped as PagerDuty drops it, and the next event goes out.
    assert seen == [TRIGGER, TRIGGER, TRIGGER, ACK, RESOLVE, ACK]
    assert (tally.deliveries, tally.sent, tally.ok, tally.unavailable) == (4, 6, 3, 1)
    assert (tally.retries, tally.other, tally.gave_up) == (2, 2, 0)
    assert tally.acked == {"e0", "e1", "e3"}
