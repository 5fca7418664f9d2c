"""Commits shipped between two commits, and their lead times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubedora.metrics import (
    MAX_COMMITS,
    Commit,
    commit_lead_times,
    previous_too_old,
    shipped,
    summarize,
    too_many,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def graph(*commits: tuple[str, int, tuple[str, ...]]) -> dict[str, Commit]:
    return {
        sha: Commit(sha=sha, committed_at=T0 + timedelta(hours=hours), parents=parents)
        for sha, hours, parents in commits
    }


# a ← b ← c ←──── m (merge) ← e
#       ↖ f ← g ↙
HISTORY = graph(
    ("a", 0, ()),
    ("b", 1, ("a",)),
    ("c", 2, ("b",)),
    ("f", 3, ("b",)),
    ("g", 4, ("f",)),
    ("m", 5, ("c", "g")),
    ("e", 6, ("m",)),
)


def shas(commits: list[Commit]) -> list[str]:
    return [commit.sha for commit in commits]


def test_shipped_excludes_merges_and_what_the_base_already_had() -> None:
    assert shas(shipped(HISTORY, "e", "b")) == ["e", "g", "f", "c"]
    assert shas(shipped(HISTORY, "e", "c")) == ["e", "g", "f"]
    assert shas(shipped(HISTORY, "c", "c")) == []
    assert shas(shipped(HISTORY, "b", None)) == ["b", "a"]


def test_a_shallow_history_ends_the_walk_where_parents_are_missing() -> None:
    shallow = {sha: c for sha, c in HISTORY.items() if sha not in ("a", "b")}
    assert shas(shipped(shallow, "e", "a")) == ["e", "g", "f", "c"]


def test_lead_times_run_to_the_finish_and_never_go_negative() -> None:
    finished = T0 + timedelta(hours=10)
    times = [T0 + timedelta(hours=h) for h in (9, 4, 11)]
    assert commit_lead_times(times, finished) == [3600.0, 6 * 3600.0, 0.0]
    lead = summarize([3600.0, 6 * 3600.0, 0.0])
    assert lead is not None
    assert (lead.first_commit_seconds, lead.median_seconds) == (6 * 3600.0, 3600.0)
    assert summarize([]) is None


def test_the_60_day_and_5000_commit_rules() -> None:
    finished = T0 + timedelta(days=60)
    assert not previous_too_old(T0, finished)
    assert previous_too_old(T0 - timedelta(seconds=1), finished)
    assert MAX_COMMITS == 5000
    assert not too_many(5000)
    assert too_many(5001)
