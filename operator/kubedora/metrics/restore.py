"""Time to restore of one failure, from its timeline of states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kubedora.models import FailureSpec, FailureState, TimelineEntry

_RESTORED_STATES = frozenset({FailureState.STABLE, FailureState.RESOLVED})


def _by_time(timeline: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    # Stable: entries sharing a timestamp keep the sender's order.
    return sorted(timeline, key=lambda entry: entry.at)


def effective_state(spec: FailureSpec) -> FailureState:
    """The state the sender means: explicit, else from its timeline, else from finishedAt."""
    if spec.state is not None:
        return spec.state
    if spec.timeline:
        return _by_time(spec.timeline)[-1].state
    if spec.finished_at is not None:
        return FailureState.RESOLVED
    return FailureState.ACTIVE


def observed_timeline(
    observed: Sequence[TimelineEntry], spec: FailureSpec, now: datetime
) -> list[TimelineEntry]:
    """Extend the operator's own timeline with the spec's current state.

    Used when the sender gives no timeline: each change of state the operator
    sees is recorded at the time it sees it, except that a resolution uses the
    sender's finishedAt when that does not go back in time."""
    timeline = list(observed)
    if not timeline:
        timeline.append(TimelineEntry(state=FailureState.ACTIVE, at=spec.started_at))
    state = effective_state(spec)
    last = timeline[-1]
    if state == last.state:
        return timeline
    if (
        state == FailureState.RESOLVED
        and spec.finished_at is not None
        and spec.finished_at >= last.at
    ):
        at = spec.finished_at
    else:
        at = max(now, last.at)
    timeline.append(TimelineEntry(state=state, at=at))
    return timeline


def timeline_of(spec: FailureSpec, observed: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """The sender's timeline when it gave one, otherwise the operator's."""
    if spec.timeline:
        return _by_time(spec.timeline)
    return list(observed)


def restore_from(
    spec: FailureSpec, observed: Sequence[TimelineEntry], now: datetime
) -> tuple[list[TimelineEntry], Restore]:
    """A failure's restore, from its spec and the timeline the operator
    observed so far (`status.timeline`), with that timeline brought up to
    date. The operator keeps its own timeline only when the sender gave none."""
    timeline = [] if spec.timeline else observed_timeline(observed, spec, now)
    return timeline, restore_of(timeline_of(spec, timeline))


@dataclass(frozen=True, slots=True)
class Restore:
    state: FailureState
    # None while the failure is not restored: an open failure has no TTR, not 0.
    ttr_seconds: float | None
    restored_at: datetime | None


def restore_of(timeline: Sequence[TimelineEntry]) -> Restore:
    """TTR: the total time spent active, shown only once the failure is restored.

    Restored means the state is stable or resolved, except that a failure
    reactivated after being resolved stays unrestored until it is resolved
    again, whatever it passes through on the way."""
    active_since: datetime | None = None
    active_total = timedelta()
    ever_resolved = False
    # Reactivated after a resolution and not yet resolved again.
    awaiting_resolution = False
    shown = False
    restored_at: datetime | None = None
    state = FailureState.ACTIVE

    for entry in _by_time(timeline):
        state = entry.state
        if state == FailureState.ACTIVE:
            # A repeated `active` continues the current period.
            if active_since is None:
                active_since = entry.at
            awaiting_resolution = awaiting_resolution or ever_resolved
        else:
            if active_since is not None:
                active_total += entry.at - active_since
                active_since = None
            if state == FailureState.RESOLVED:
                ever_resolved = True
                awaiting_resolution = False
        now_shown = state in _RESTORED_STATES and not awaiting_resolution
        if now_shown and not shown:
            restored_at = entry.at
        shown = now_shown

    if not shown:
        return Restore(state=state, ttr_seconds=None, restored_at=None)
    return Restore(state=state, ttr_seconds=active_total.total_seconds(), restored_at=restored_at)
