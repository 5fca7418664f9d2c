"""A Failure's status, computed from its spec and what was observed before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedora.handlers import reconcile
from kubedora.handlers.reconcile import transition
from kubedora.matching import EMPTY_CATALOG
from kubedora.models import FailureSpec, FailureState, FailureStatus

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def next_status(
    spec: FailureSpec, previous: FailureStatus, generation: int | None, now: datetime
) -> FailureStatus:
    return reconcile.failure_status(spec, previous, generation, now, catalog=EMPTY_CATALOG)


def spec(**fields: object) -> FailureSpec:
    return FailureSpec.model_validate({"services": ["checkout"], "startedAt": T0, **fields})


def test_a_new_open_failure_is_active_without_time_to_restore() -> None:
    status = next_status(spec(), FailureStatus(), 1, T0 + timedelta(minutes=5))
    assert status.state is FailureState.ACTIVE
    assert status.time_to_restore_seconds is None
    assert [(e.state, e.at) for e in status.timeline] == [(FailureState.ACTIVE, T0)]


def test_finished_at_alone_is_one_active_period() -> None:
    status = next_status(
        spec(finishedAt=T0 + timedelta(minutes=42)), FailureStatus(), 1, T0 + timedelta(days=1)
    )
    assert status.state is FailureState.RESOLVED
    assert status.time_to_restore_seconds == 42 * 60
    assert status.restored_at == T0 + timedelta(minutes=42)


def test_state_edits_extend_the_observed_timeline() -> None:
    first = next_status(spec(state="active"), FailureStatus(), 1, T0 + timedelta(minutes=1))
    stable = next_status(spec(state="stable"), first, 2, T0 + timedelta(minutes=10))
    assert stable.time_to_restore_seconds == 600
    reopened = next_status(spec(state="active"), stable, 3, T0 + timedelta(minutes=20))
    assert reopened.time_to_restore_seconds is None
    assert [e.state for e in reopened.timeline] == ["active", "stable", "active"]


def test_a_sender_timeline_is_not_copied_into_status() -> None:
    given = spec(
        timeline=[
            {"state": "active", "at": T0},
            {"state": "resolved", "at": T0 + timedelta(seconds=90)},
        ]
    )
    status = next_status(given, FailureStatus(), 1, T0 + timedelta(days=1))
    assert status.timeline == []
    assert status.time_to_restore_seconds == 90
    assert status.state is FailureState.RESOLVED


def test_attribution_is_the_spec_until_matching_says_otherwise() -> None:
    status = next_status(
        spec(team="shop", env="prod", severity="SEV-1", customTags=["region:eu"]),
        FailureStatus(),
        1,
        T0,
    )
    assert status.attribution is not None
    assert status.attribution.model_dump() == {
        "services": ["checkout"],
        "team": "shop",
        "env": "prod",
        "severity": "SEV-1",
        "custom_tags": ["region:eu"],
        "matched_by": "spec",
    }


def test_ready_condition_keeps_its_transition_time_while_unchanged() -> None:
    first = next_status(spec(), FailureStatus(), 1, T0)
    later = next_status(spec(), first, 2, T0 + timedelta(hours=1))
    assert later.conditions[0].last_transition_time == T0
    assert later.conditions[0].observed_generation == 2
    assert later.observed_generation == 2


def test_restoring_and_reopening_are_notable_transitions() -> None:
    active = next_status(spec(state="active"), FailureStatus(), 1, T0)
    resolved = next_status(spec(state="resolved"), active, 2, T0 + timedelta(minutes=3))
    reopened = next_status(spec(state="active"), resolved, 3, T0 + timedelta(minutes=9))

    restored = transition(active, resolved)
    assert restored is not None
    assert restored.reason == "Restored"
    assert "3m" in restored.message
    again = transition(resolved, reopened)
    assert again is not None
    assert again.reason == "Reopened"
    assert transition(FailureStatus(), active) is None
    assert transition(active, active) is None
