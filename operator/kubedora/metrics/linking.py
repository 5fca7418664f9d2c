"""Which deployment a failure most likely followed, pure.

The last deployment of one of the failure's services, in the failure's env,
that finished before the failure started and at most the attribution window
before it. Nothing outside that bound, and never a deployment of a service
the failure does not name: no link is better than a guess."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_ATTRIBUTION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Finished:
    """A deployment of one service and env, by when it finished."""

    finished_at: datetime
    name: str


Group = tuple[str, str | None]


def timelines(
    deployments: Iterable[tuple[str, str | None, Finished]],
) -> dict[Group, list[Finished]]:
    """Deployments grouped by (service, env), each group in finishing order."""
    groups: dict[Group, list[Finished]] = {}
    for service, env, finished in deployments:
        groups.setdefault((service, env), []).append(finished)
    for group in groups.values():
        group.sort(key=lambda f: (f.finished_at, f.name))
    return groups


def linked_deployment(
    services: Sequence[str],
    env: str | None,
    started_at: datetime,
    groups: Mapping[Group, Sequence[Finished]],
    window: timedelta = DEFAULT_ATTRIBUTION_WINDOW,
) -> str | None:
    """The name of the deployment the failure most likely followed, or None."""
    best: Finished | None = None
    for service in dict.fromkeys(services):
        group = groups.get((service, env))
        if not group:
            continue
        # The last one finished at or before the start.
        at = bisect.bisect_right(group, started_at, key=lambda f: f.finished_at) - 1
        if at < 0:
            continue
        candidate = group[at]
        if started_at - candidate.finished_at > window:
            continue
        if best is None or (candidate.finished_at, candidate.name) > (best.finished_at, best.name):
            best = candidate
    return best.name if best else None
