"""What matching needs of the catalog: three lookups, independent of the
catalog's size (a team lookup reads that team's entries once). The operator
answers them from its informer-fed indexes through :class:`Catalog`, the one
implementation; tests may wrap it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from kubedora.matching.keys import PAGERDUTY_URL, CatalogKey, service_key, team_key, url_key
from kubedora.models import CatalogEntry

CatalogIndex = Mapping[CatalogKey, Collection[CatalogEntry]]


class CatalogLookup(Protocol):
    def by_service(self, name: str) -> tuple[CatalogEntry, ...]:
        """The entries of the catalog service `name` (compared as in keys)."""
        ...

    def by_pagerduty_url(self, url: str) -> tuple[CatalogEntry, ...]:
        """The entries annotated with this PagerDuty service URL (normalised)."""
        ...

    def team(self, name: str) -> str | None:
        """The catalog's spelling of team `name`, when any entry has that team."""
        ...


def entry_order(entry: CatalogEntry) -> tuple[str, str, str]:
    """A stable order for entries of one key, so results do not depend on
    the order in which the operator happened to see the objects."""
    source = entry.source
    return (source.kind, source.namespace or "", source.name)


def entry_keys(entry: CatalogEntry) -> list[CatalogKey]:
    """Every key an entry is found by."""
    keys = [service_key(entry.service)]
    if entry.team:
        keys.append(team_key(entry.team))
    if entry.pagerduty_service_url:
        # Held normalised already: the entry's own string is the key.
        keys.append((PAGERDUTY_URL, entry.pagerduty_service_url))
    return keys


class Catalog:
    """The catalog as matching reads it: key -> entries maps, either the
    operator's informer-fed indexes (one per annotated kind) or plain dicts
    (`Catalog.of`, for tests and benchmarks).

    Each lookup is one dict access per index; the entries under one service
    or URL key are few (an object or two), so ordering them is cheap."""

    __slots__ = ("_indexes",)

    def __init__(self, indexes: Iterable[CatalogIndex]) -> None:
        self._indexes: Sequence[CatalogIndex] = tuple(indexes)

    @classmethod
    def of(cls, entries: Iterable[CatalogEntry]) -> Catalog:
        by_key: dict[CatalogKey, list[CatalogEntry]] = defaultdict(list)
        for entry in entries:
            for key in entry_keys(entry):
                by_key[key].append(entry)
        return cls([by_key])

    def _found(self, key: CatalogKey | None) -> Iterator[CatalogEntry]:
        if key is None:
            return
        for index in self._indexes:
            if key in index:
                yield from index[key]

    def by_service(self, name: str) -> tuple[CatalogEntry, ...]:
        return tuple(sorted(self._found(service_key(name)), key=entry_order))

    def by_pagerduty_url(self, url: str) -> tuple[CatalogEntry, ...]:
        return tuple(sorted(self._found(url_key(url)), key=entry_order))

    def team(self, name: str) -> str | None:
        """The spelling of the first entry in entry_order, so the answer does
        not depend on the order in which the operator saw the objects. A
        team's entries can be many: one pass, no sort."""
        first = min(self._found(team_key(name)), key=entry_order, default=None)
        return first.team if first is not None else None


EMPTY_CATALOG = Catalog(())
