"""Time to restore of one failure: the timeline rules, one behaviour per test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from kubedora.metrics import Restore, effective_state, observed_timeline, restore_of, timeline_of
from kubedora.models import FailureSpec, FailureState, TimelineEntry

ACTIVE = FailureState.ACTIVE
STABLE = FailureState.STABLE
RESOLVED = FailureState.RESOLVED
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def timeline(*steps: tuple[FailureState, float]) -> list[TimelineEntry]:
    return [TimelineEntry(state=state, at=at(seconds)) for state, seconds in steps]


def spec(
    *,
    state: FailureState | None = None,
    finished: float | None = None,
    steps: Sequence[tuple[FailureState, float]] = (),
) -> FailureSpec:
    return FailureSpec(
        services=["checkout"],
        started_at=T0,
        finished_at=None if finished is None else at(finished),
        state=state,
        timeline=timeline(*steps),
    )


class TestOpenFailures:
    def test_empty_timeline_is_active_without_ttr(self) -> None:
        assert restore_of([]) == Restore(state=ACTIVE, ttr_seconds=None, restored_at=None)

    def test_open_failure_has_no_ttr_not_zero(self) -> None:
        result = restore_of(timeline((ACTIVE, 0)))
        assert result.state == ACTIVE
        assert result.ttr_seconds is None
        assert result.restored_at is None

    def test_acknowledging_is_not_restoring(self) -> None:
        # PagerDuty's acknowledgement arrives as a second `active`.
        result = restore_of(timeline((ACTIVE, 0), (ACTIVE, 300)))
        assert result.ttr_seconds is None

    def test_active_again_after_stable_hides_ttr(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (STABLE, 10), (ACTIVE, 20)))
        assert result == Restore(state=ACTIVE, ttr_seconds=None, restored_at=None)


class TestActiveTime:
    def test_resolved_failure_ttr_is_its_active_time(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (RESOLVED, 600)))
        assert result == Restore(state=RESOLVED, ttr_seconds=600.0, restored_at=at(600))

    def test_consecutive_active_entries_do_not_restart_the_period(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (ACTIVE, 30), (ACTIVE, 40), (RESOLVED, 50)))
        assert result.ttr_seconds == 50.0

    def test_time_in_stable_does_not_count(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (STABLE, 10), (RESOLVED, 100)))
        assert result.ttr_seconds == 10.0

    def test_all_active_periods_add_up(self) -> None:
        steps = timeline((ACTIVE, 0), (STABLE, 10), (ACTIVE, 20), (STABLE, 25), (RESOLVED, 90))
        assert restore_of(steps).ttr_seconds == 15.0

    def test_sub_second_precision(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (RESOLVED, 0.25)))
        assert result.ttr_seconds == 0.25

    def test_timezones_are_compared_as_instants(self) -> None:
        plus_one = timezone(timedelta(hours=1))
        entries = [
            TimelineEntry(state=ACTIVE, at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
            TimelineEntry(state=RESOLVED, at=datetime(2024, 5, 1, 13, 30, tzinfo=plus_one)),
        ]
        assert restore_of(entries).ttr_seconds == 1800.0

    def test_unsorted_timeline_is_read_in_time_order(self) -> None:
        shuffled = timeline((RESOLVED, 50), (ACTIVE, 0), (STABLE, 20))
        assert restore_of(shuffled) == restore_of(
            timeline((ACTIVE, 0), (STABLE, 20), (RESOLVED, 50))
        )

    def test_failure_never_active_restores_in_no_time(self) -> None:
        assert restore_of(timeline((STABLE, 5))) == Restore(
            state=STABLE, ttr_seconds=0.0, restored_at=at(5)
        )


class TestShownWhileRestored:
    def test_stable_shows_ttr(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (STABLE, 10)))
        assert result == Restore(state=STABLE, ttr_seconds=10.0, restored_at=at(10))

    def test_restored_at_is_when_ttr_became_shown_not_the_resolution(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (STABLE, 10), (RESOLVED, 20)))
        assert result.restored_at == at(10)

    def test_restored_at_moves_when_stable_again_after_active(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (STABLE, 10), (ACTIVE, 20), (STABLE, 25)))
        assert result == Restore(state=STABLE, ttr_seconds=15.0, restored_at=at(25))

    def test_stable_after_resolved_keeps_ttr_shown(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (RESOLVED, 10), (STABLE, 15)))
        assert result == Restore(state=STABLE, ttr_seconds=10.0, restored_at=at(10))


class TestReactivation:
    def test_reactivated_failure_hides_ttr(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (RESOLVED, 10), (ACTIVE, 20)))
        assert result == Restore(state=ACTIVE, ttr_seconds=None, restored_at=None)

    def test_stable_does_not_show_ttr_of_a_reactivated_failure(self) -> None:
        result = restore_of(timeline((ACTIVE, 0), (RESOLVED, 10), (ACTIVE, 20), (STABLE, 30)))
        assert result == Restore(state=STABLE, ttr_seconds=None, restored_at=None)

    def test_resolving_again_shows_the_total_over_both_periods(self) -> None:
        steps = timeline((ACTIVE, 0), (RESOLVED, 10), (ACTIVE, 20), (STABLE, 30), (RESOLVED, 40))
        assert restore_of(steps) == Restore(state=RESOLVED, ttr_seconds=20.0, restored_at=at(40))

    def test_only_the_latest_reactivation_matters(self) -> None:
        steps = [(ACTIVE, 0), (RESOLVED, 10), (ACTIVE, 20), (RESOLVED, 30), (ACTIVE, 40)]
        assert restore_of(timeline(*steps)).ttr_seconds is None
        resolved = restore_of(timeline(*steps, (STABLE, 45), (RESOLVED, 60)))
        assert resolved == Restore(state=RESOLVED, ttr_seconds=25.0, restored_at=at(60))

    def test_stable_before_any_resolution_is_not_a_reactivation(self) -> None:
        steps = timeline((ACTIVE, 0), (STABLE, 10), (ACTIVE, 20), (STABLE, 30))
        assert restore_of(steps).ttr_seconds == 20.0


class TestEffectiveState:
    def test_explicit_state_wins(self) -> None:
        given = spec(state=ACTIVE, finished=10, steps=[(ACTIVE, 0), (RESOLVED, 10)])
        assert effective_state(given) == ACTIVE

    def test_latest_timeline_entry_by_time(self) -> None:
        given = spec(steps=[(STABLE, 20), (ACTIVE, 0), (RESOLVED, 10)])
        assert effective_state(given) == STABLE

    def test_finished_at_means_resolved(self) -> None:
        assert effective_state(spec(finished=10)) == RESOLVED

    def test_otherwise_active(self) -> None:
        assert effective_state(spec()) == ACTIVE


class TestObserve:
    def test_first_sight_of_an_open_failure_starts_active_at_started_at(self) -> None:
        assert observed_timeline([], spec(), at(100)) == timeline((ACTIVE, 0))

    def test_first_sight_of_a_finished_failure_resolves_at_finished_at(self) -> None:
        assert observed_timeline([], spec(finished=60), at(100)) == timeline(
            (ACTIVE, 0), (RESOLVED, 60)
        )

    def test_finished_at_equal_to_started_at_restores_in_no_time(self) -> None:
        assert observed_timeline([], spec(finished=0), at(100)) == timeline(
            (ACTIVE, 0), (RESOLVED, 0)
        )

    def test_other_changes_are_recorded_when_seen(self) -> None:
        assert observed_timeline([], spec(state=STABLE), at(100)) == timeline(
            (ACTIVE, 0), (STABLE, 100)
        )

    def test_same_state_appends_nothing(self) -> None:
        seen = timeline((ACTIVE, 0), (RESOLVED, 60))
        assert observed_timeline(seen, spec(finished=60), at(100)) == seen

    def test_reactivation_is_recorded_at_now(self) -> None:
        seen = timeline((ACTIVE, 0), (RESOLVED, 60))
        result = observed_timeline(seen, spec(state=ACTIVE, finished=60), at(100))
        assert result == timeline((ACTIVE, 0), (RESOLVED, 60), (ACTIVE, 100))

    def test_stale_finished_at_does_not_go_back_in_time(self) -> None:
        seen = timeline((ACTIVE, 0), (RESOLVED, 60), (ACTIVE, 100))
        result = observed_timeline(seen, spec(finished=60), at(150))
        assert result[-1] == TimelineEntry(state=RESOLVED, at=at(150))

    def test_later_finished_at_is_used_even_when_seen_later(self) -> None:
        seen = timeline((ACTIVE, 0), (RESOLVED, 60), (ACTIVE, 100))
        result = observed_timeline(seen, spec(finished=120), at(150))
        assert result[-1] == TimelineEntry(state=RESOLVED, at=at(120))

    def test_clock_behind_the_last_entry_keeps_the_order(self) -> None:
        seen = timeline((ACTIVE, 0), (RESOLVED, 60))
        result = observed_timeline(seen, spec(state=ACTIVE), at(30))
        assert result[-1] == TimelineEntry(state=ACTIVE, at=at(60))

    def test_returns_a_new_list(self) -> None:
        seen = timeline((ACTIVE, 0))
        result = observed_timeline(seen, spec(finished=60), at(100))
        assert result is not seen
        assert seen == timeline((ACTIVE, 0))
        unchanged = observed_timeline(seen, spec(), at(100))
        assert unchanged is not seen

    def test_observed_lifecycle_gives_the_expected_ttr(self) -> None:
        # Started, acknowledged, resolved, reopened, resolved: as seen by the operator.
        seen: list[TimelineEntry] = []
        seen = observed_timeline(seen, spec(), at(5))
        seen = observed_timeline(seen, spec(state=ACTIVE), at(30))
        seen = observed_timeline(seen, spec(finished=100), at(110))
        assert restore_of(seen).ttr_seconds == 100.0
        seen = observed_timeline(seen, spec(state=ACTIVE, finished=100), at(200))
        assert restore_of(seen).ttr_seconds is None
        seen = observed_timeline(seen, spec(state=RESOLVED, finished=100), at(260))
        assert restore_of(seen) == Restore(state=RESOLVED, ttr_seconds=160.0, restored_at=at(260))


class TestTimelineOf:
    def test_sender_timeline_wins_sorted_by_time(self) -> None:
        given = spec(steps=[(RESOLVED, 30), (ACTIVE, 0)])
        observed = timeline((ACTIVE, 0))
        assert timeline_of(given, observed) == timeline((ACTIVE, 0), (RESOLVED, 30))

    def test_entries_at_the_same_time_keep_the_sender_order(self) -> None:
        given = spec(steps=[(STABLE, 10), (ACTIVE, 0), (RESOLVED, 10)])
        assert timeline_of(given, []) == timeline((ACTIVE, 0), (STABLE, 10), (RESOLVED, 10))

    def test_observed_timeline_without_a_sender_timeline(self) -> None:
        observed = timeline((ACTIVE, 0), (STABLE, 10))
        result = timeline_of(spec(), observed)
        assert result == observed
        assert result is not observed
