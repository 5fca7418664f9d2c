"""Bounding what comes from users' data: breakdown keys are service, team and
env names, so a Prometheus label or a status trend per key would grow
without limit. Keep the busiest keys of each dimension; fold the rest into
one row, `OTHER`, that carries their counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubedora.models import BreakdownRow, Dimension

# The key of the folded row. Not a valid catalog name, so it never collides.
OTHER = "__other__"


def busiest(volume: Mapping[str, int], limit: int) -> list[str]:
    """The `limit` keys with the largest volume; ties go to the smaller key,
    so the choice is stable from one recompute to the next."""
    if limit <= 0:
        return []
    ordered = sorted(volume.items(), key=lambda item: (-item[1], item[0]))
    return [key for key, _ in ordered[:limit]]


def _volume(row: BreakdownRow) -> int:
    return row.deployments + row.failures + row.restored_failures


def bound_rows(rows: Iterable[BreakdownRow], per_dimension: int) -> list[BreakdownRow]:
    """At most `per_dimension` rows of each dimension, by volume (deployments,
    failures and restores), and one `OTHER` row per dimension for the rest.

    The OTHER row sums deployments, failures and restored failures, and its
    change failure rate is their ratio; it has no median time to restore
    (a median of medians is not the median), and no figure derived from one."""
    by_dimension: dict[Dimension, list[BreakdownRow]] = {dimension: [] for dimension in Dimension}
    for row in rows:
        by_dimension[row.dimension].append(row)
    bounded: list[BreakdownRow] = []
    for dimension, members in by_dimension.items():
        keep = set(busiest({row.key: _volume(row) for row in members}, per_dimension))
        bounded.extend(row for row in members if row.key in keep)
        rest = [row for row in members if row.key not in keep]
        if not rest:
            continue
        deployments = sum(row.deployments for row in rest)
        failures = sum(row.failures for row in rest)
        bounded.append(
            BreakdownRow(
                dimension=dimension,
                key=OTHER,
                deployments=deployments,
                failures=failures,
                restored_failures=sum(row.restored_failures for row in rest),
                change_failure_rate=failures / deployments if deployments else None,
            )
        )
    return bounded
