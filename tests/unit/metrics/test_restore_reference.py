"""restore_of and observed_timeline against a naive reference that walks time second by second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kubedora.metrics import Restore, effective_state, observed_timeline, restore_of
from kubedora.models import FailureSpec, FailureState, TimelineEntry

ACTIVE = FailureState.ACTIVE
STABLE = FailureState.STABLE
RESOLVED = FailureState.RESOLVED
T0 = datetime(2024, 5, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, database=None)

Step = tuple[FailureState, int]

steps_strategy = st.lists(
    st.tuples(st.sampled_from(list(FailureState)), st.integers(min_value=0, max_value=400)),
    max_size=10,
)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reference_shown(prefix: list[Step]) -> bool:
    """The rule as written: restored state, and no reactivation-after-resolved
    that is still waiting for a resolution."""
    if not prefix or prefix[-1][0] == ACTIVE:
        return False
    for i, (state, _) in enumerate(prefix):
        resolved_before = any(s == RESOLVED for s, _ in prefix[:i])
        resolved_after = any(s == RESOLVED for s, _ in prefix[i + 1 :])
        if state == ACTIVE and resolved_before and not resolved_after:
            return False
    return True


def reference_restore(steps: list[Step]) -> Restore:
    ordered = sorted(steps, key=lambda step: step[1])
    if not ordered:
        return Restore(state=ACTIVE, ttr_seconds=None, restored_at=None)

    def state_during(second: int) -> FailureState:
        return [state for state, start in ordered if start <= second][-1]

    first, last = ordered[0][1], ordered[-1][1]
    active = sum(1 for second in range(first, last) if state_during(second) == ACTIVE)
    if not reference_shown(ordered):
        return Restore(state=ordered[-1][0], ttr_seconds=None, restored_at=None)
    turned_shown = [
        ordered[p][1]
        for p in range(len(ordered))
        if reference_shown(ordered[: p + 1]) and not reference_shown(ordered[:p])
    ]
    return Restore(
        state=ordered[-1][0], ttr_seconds=float(active), restored_at=at(turned_shown[-1])
    )


@SETTINGS
@given(steps_strategy)
def test_restore_of_matches_the_reference(steps: list[Step]) -> None:
    entries = [TimelineEntry(state=state, at=at(second)) for state, second in steps]
    assert restore_of(entries) == reference_restore(steps)


@SETTINGS
@given(
    steps_strategy,
    st.one_of(st.none(), st.sampled_from(list(FailureState))),
    st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
    st.integers(min_value=0, max_value=400),
)
def test_observe_keeps_history_and_ends_in_the_effective_state(
    steps: list[Step], state: FailureState | None, finished: int | None, now: int
) -> None:
    seen = [
        TimelineEntry(state=s, at=at(second)) for s, second in sorted(steps, key=lambda x: x[1])
    ]
    spec = FailureSpec(
        services=["checkout"],
        started_at=T0,
        state=state,
        finished_at=None if finished is None else at(finished),
    )
    result = observed_timeline(seen, spec, at(now))

    assert result[: len(seen)] == seen
    assert len(result) - len(seen) in (0, 1, 2)
    assert result[-1].state == effective_state(spec)
    assert [entry.at for entry in result] == sorted(entry.at for entry in result)
    # Nothing is appended that repeats the state before it.
    for index in range(max(len(seen), 1), len(result)):
        assert result[index - 1].state != result[index].state
