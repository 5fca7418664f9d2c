"""One change reported by several sources counts once.

A Flux reconcile and the rollout it causes, or a CI call and the Argo CD
sync it triggered, are one deployment: same service and env, the same
commit (or, when either lacks a commit, the same version), finishing within
SAME_CHANGE_WITHIN of each other, reported by different sources. Two
records of one source are always two deployments (a rollout and its quick
undo-redo are real deployments).

Of a group, the record closest to the running pods wins: kubernetes (it
saw the new pods available), then argocd, then flux, then api; among equals
the earliest finish, then the name. The winner's finish time, team and
outcome are what the scoreboard counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Final, Protocol, TypeVar

from kubedora.metrics.changes import same_change
from kubedora.models import DeploymentSource

SAME_CHANGE_WITHIN: Final = timedelta(minutes=10)

PRECEDENCE: Final = {
    DeploymentSource.KUBERNETES: 0,
    DeploymentSource.ARGOCD: 1,
    DeploymentSource.FLUX: 2,
    DeploymentSource.API: 3,
}


class Reported(Protocol):
    """What the rule reads of a deployment (metrics.DeploymentFact has it)."""

    @property
    def service(self) -> str: ...
    @property
    def env(self) -> str | None: ...
    @property
    def source(self) -> DeploymentSource: ...
    @property
    def commit(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def finished_at(self) -> datetime: ...


F = TypeVar("F", bound=Reported)


def winner_key(fact: Reported) -> tuple[int, datetime, str]:
    return (PRECEDENCE[fact.source], fact.finished_at, fact.name)


def counted_deployments(
    deployments: Iterable[F],
    sources: Collection[DeploymentSource] | None,
    *,
    window_start: datetime,
    window_end: datetime,
) -> list[F]:
    """The deployments a scoreboard counts over [window_start, window_end]:
    reported by one of `sources` (None: all), once per change. Reports up
    to SAME_CHANGE_WITHIN outside the window take part, as one of them may
    win the group of one inside; callers still keep winners in their window."""
    wanted = frozenset(DeploymentSource) if sources is None else frozenset(sources)
    near_start, near_end = window_start - SAME_CHANGE_WITHIN, window_end + SAME_CHANGE_WITHIN
    return once(
        fact
        for fact in deployments
        if fact.source in wanted and near_start <= fact.finished_at <= near_end
    )


def once(deployments: Iterable[F]) -> list[F]:
    """The deployments that count: one winner per group of reports of the
    same change (see the module's docstring), every other one as it is."""
    by_target: dict[tuple[str, str | None], list[F]] = defaultdict(list)
    for fact in deployments:
        by_target[(fact.service.strip().lower(), fact.env)].append(fact)
    kept: list[F] = []
    for facts in by_target.values():
        if len({fact.source for fact in facts}) == 1:
            kept.extend(facts)  # one source: nothing to merge
            continue
        kept.extend(min(group, key=winner_key) for group in _grouped(facts))
    return kept


def _keys(fact: Reported) -> list[tuple[str, str]]:
    # Two reports of one change share one of these: the first 7 hex digits
    # of the commit (the shortest sha we take), or the version.
    keys = []
    if fact.commit:
        keys.append(("commit", fact.commit[:7].lower()))
    if fact.version:
        keys.append(("version", fact.version))
    return keys


def _grouped(facts: list[F]) -> list[list[F]]:
    """Facts of one service and env, in groups; linear but for the
    candidates that share a key and a 10-minute stretch."""
    facts.sort(key=lambda f: (f.finished_at, f.name))
    groups: list[list[F]] = []
    open_by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fact in facts:
        chosen = None
        for key in _keys(fact):
            candidates = open_by_key[key]
            # Drop the groups that began too long ago for anything later.
            while candidates and (
                fact.finished_at - groups[candidates[0]][0].finished_at > SAME_CHANGE_WITHIN
            ):
                candidates.pop(0)
            for index in candidates:
                group = groups[index]
                if all(member.source != fact.source for member in group) and any(
                    same_change(member, fact) for member in group
                ):
                    chosen = index
                    break
            if chosen is not None:
                break
        if chosen is None:
            chosen = len(groups)
            groups.append([fact])
        else:
            groups[chosen].append(fact)
        for key in _keys(fact):
            if chosen not in open_by_key[key]:
                open_by_key[key].append(chosen)
    return groups
