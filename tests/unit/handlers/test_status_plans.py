"""What the status controller plans for an object as the informer passes it:
nothing for a current status, only the fields that changed otherwise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubedora.handlers import statuses
from kubedora.handlers.packed import unpack
from kubedora.handlers.statuses import StatusController, deployment_planner, failure_planner
from kubedora.handlers.telemetry import InformerState, Telemetry
from kubedora.matching import EMPTY_CATALOG
from kubedora.models import DEPLOYMENTS, FAILURES

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def controller() -> StatusController:
    telemetry = Telemetry.create(
        lambda: [InformerState("failures.kubedora.io", "", lambda: True)],
        worker_limit=4,
        rows_per_dimension=5,
    )
    return StatusController(api=None, telemetry=telemetry, workers=4)  # type: ignore[arg-type]


def failure(uid: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": f"f-{uid}", "namespace": "shop", "uid": uid, "generation": 1},
        "spec": {"services": ["checkout"], "startedAt": T0.isoformat(), **spec},
    }
    if status is not None:
        body["status"] = status
    return body


def planned_patch(control: StatusController, uid: str) -> dict[str, Any]:
    work = control._pending[uid]
    assert work.patch is not None
    status: dict[str, Any] = unpack(work.patch)
    return status


def settle(control: StatusController, body: dict[str, Any]) -> dict[str, Any]:
    """The body as it comes back once the planned patch is written."""
    uid = body["metadata"]["uid"]
    status = {**(body.get("status") or {}), **planned_patch(control, uid)}
    return {**body, "status": {k: v for k, v in status.items() if v is not None}}


def test_a_new_failure_needs_its_whole_status_and_a_current_one_nothing() -> None:
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))
    body = failure("a", {"finishedAt": (T0 + timedelta(minutes=30)).isoformat()})
    feed.upsert("a", body, listed=True)
    patch = planned_patch(control, "a")
    assert (patch["state"], patch["timeToRestoreSeconds"], patch["observedGeneration"]) == (
        "resolved",
        1800.0,
        1,
    )
    assert control.waiting == 1
    # The write comes back through the watch: nothing more to do.
    feed.upsert("a", settle(control, body), listed=False)
    assert control.waiting == 0


def test_a_reopened_failure_removes_its_time_to_restore() -> None:
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))
    resolved = failure("a", {"finishedAt": (T0 + timedelta(minutes=30)).isoformat()})
    feed.upsert("a", resolved, listed=True)
    current = settle(control, resolved)
    feed.upsert("a", current, listed=False)
    reopened = {**current, "spec": {**current["spec"], "finishedAt": None, "state": "active"}}
    reopened["metadata"] = {**current["metadata"], "generation": 2}
    feed.upsert("a", reopened, listed=False)
    patch = planned_patch(control, "a")
    # A merge patch removes a field with null; leaving it out would keep it.
    assert patch["timeToRestoreSeconds"] is None
    assert patch["state"] == "active"
    work = control._pending["a"]
    assert work.transition is not None
    assert work.transition.reason == "Reopened"


def test_fields_the_history_worker_owns_are_never_in_the_patch() -> None:
    control = controller()
    feed = control.feed(DEPLOYMENTS, deployment_planner(EMPTY_CATALOG))
    body = {
        "metadata": {"name": "d", "namespace": "shop", "uid": "d", "generation": 3},
        "spec": {
            "service": "checkout",
            "team": "shop",
            "startedAt": T0.isoformat(),
            "finishedAt": T0.isoformat(),
        },
        # Written by the history worker after this body was read.
        "status": {
            "commits": 4,
            "leadTime": {"firstCommitSeconds": 7200.0, "medianSeconds": 3600.0},
        },
    }
    feed.upsert("d", body, listed=True)
    patch = planned_patch(control, "d")
    assert (patch["team"], patch["observedGeneration"]) == ("shop", 3)
    assert not {"commits", "leadTime"} & set(patch)


def test_an_invalid_spec_is_reported_on_the_object() -> None:
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))
    feed.upsert("a", failure("a", {"startedAt": "yesterday"}), listed=True)
    (condition,) = planned_patch(control, "a")["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")


def test_deleted_and_vanished_objects_leave_nothing_waiting() -> None:
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))
    for uid in ("a", "b", "c"):
        feed.upsert(uid, failure(uid, {}), listed=True)
    feed.delete("a", failure("a", {}))
    feed.retain({"b"})
    assert set(control._pending) == {"b"}


def test_a_status_that_does_not_parse_is_skipped_not_fatal_to_the_informer() -> None:
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))
    feed.upsert("a", failure("a", {}, status={"timeline": "not a list"}), listed=True)
    feed.upsert("b", failure("b", {}), listed=True)
    assert set(control._pending) == {"b"}


def test_a_listing_forgets_only_what_its_own_namespace_no_longer_has() -> None:
    control = controller()
    shop = control.feed(FAILURES, failure_planner(EMPTY_CATALOG), "shop")
    other = control.feed(FAILURES, failure_planner(EMPTY_CATALOG), "other")
    shop.upsert("a", failure("a", {}), listed=True)
    elsewhere = failure("b", {})
    elsewhere["metadata"]["namespace"] = "other"
    other.upsert("b", elsewhere, listed=True)
    shop.retain(set())
    assert set(control._pending) == {"b"}


def test_a_transition_seen_again_in_a_late_body_is_announced_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posted: list[str] = []

    async def post_event(api: object, **event: Any) -> None:
        posted.append(event["reason"])

    async def patch_status(*args: object) -> bool:
        return True

    monkeypatch.setattr(statuses, "post_event", post_event)
    monkeypatch.setattr(statuses, "patch_status", patch_status)
    control = controller()
    feed = control.feed(FAILURES, failure_planner(EMPTY_CATALOG))

    def written(body: dict[str, Any]) -> dict[str, Any]:
        """Plan the body, write what it needs; the body as it is then."""
        feed.upsert("a", body, listed=False)
        current = settle(control, body)
        asyncio.run(control._write(control._pending.pop("a")))
        return current

    active = written(failure("a", {"state": "active"}))
    resolved_spec = {**active["spec"], "state": "resolved"}
    resolved = written({**active, "spec": resolved_spec})
    assert posted == ["Restored"]
    # The watch delivers an earlier change of the object after the write:
    # its status is still the one before, so the same plan is made again.
    written({**active, "spec": resolved_spec})
    assert posted == ["Restored"]

    written({**resolved, "spec": {**resolved_spec, "finishedAt": None, "state": "active"}})
    assert posted == ["Restored", "Reopened"]
