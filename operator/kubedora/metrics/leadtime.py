"""Lead time for changes, pure: which commits a deployment shipped, and how
long each took from commit to production.

A deployment ships `git log --no-merges <previous deployment's commit>..<its
commit>`: the commits reachable from its commit and not from the previous
one's, merge commits left out. Each commit's lead time runs from its
committer time (when it landed on the branch, not when it was first
written: a rebased or cherry-picked commit keeps its author time) to the
deployment's finish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kubedora.metrics.dora import median
from kubedora.models import LeadTime

# As Datadog: no lead time past these bounds.
MAX_COMMITS = 5000
MAX_PREVIOUS_AGE = timedelta(days=60)


class Unavailable(StrEnum):
    """Why a deployment has no lead time (reason of LeadTimeUnavailable)."""

    NO_GIT_DATA = "NoGitData"
    NO_PREVIOUS_DEPLOYMENT = "NoPreviousDeployment"
    HOST_NOT_ALLOWED = "HostNotAllowed"
    PREVIOUS_TOO_OLD = "PreviousTooOld"
    TOO_MANY_COMMITS = "TooManyCommits"
    REPOSITORY_UNREACHABLE = "RepositoryUnreachable"
    COMMIT_NOT_FOUND = "CommitNotFound"
    PREVIOUS_COMMIT_MISSING = "PreviousCommitMissing"
    NO_COMMITS = "NoCommits"
    PENDING = "Pending"


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    committed_at: datetime
    parents: tuple[str, ...] = ()


def shipped(graph: Mapping[str, Commit], head: str, base: str | None) -> list[Commit]:
    """`git rev-list --no-merges base..head` over a commit graph held in
    memory, newest first by committer time. Parents missing from the graph
    (a shallow history) end the walk there, as in git."""
    excluded = _ancestors(graph, base) if base is not None else set()
    found = [graph[sha] for sha in _ancestors(graph, head) - excluded]
    return sorted(
        (commit for commit in found if len(commit.parents) < 2),
        key=lambda commit: (commit.committed_at, commit.sha),
        reverse=True,
    )


def _ancestors(graph: Mapping[str, Commit], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in graph:
            continue
        seen.add(sha)
        stack.extend(graph[sha].parents)
    return seen


def previous_too_old(previous_finished_at: datetime, finished_at: datetime) -> bool:
    """More than 60 days between the previous deployment and this one."""
    return finished_at - previous_finished_at > MAX_PREVIOUS_AGE


def commit_lead_times(committed: Sequence[datetime], finished_at: datetime) -> list[float]:
    """Seconds from each commit to the finish. A commit dated after the
    finish (a skewed clock) counts as 0, never negative."""
    return [max(0.0, (finished_at - at).total_seconds()) for at in committed]


def summarize(lead_times: Sequence[float]) -> LeadTime | None:
    """First-commit (the longest) and median lead time; None without commits."""
    middle = median(lead_times)
    if middle is None:
        return None
    return LeadTime(first_commit_seconds=max(lead_times), median_seconds=middle)


def too_many(count: int) -> bool:
    return count > MAX_COMMITS
