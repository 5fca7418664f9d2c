"""The catalog as matching sees it (CatalogLookup), read from the operator's
indexes: one per annotated kind, each a mapping of key -> entries."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from kubedora.matching import CatalogKey, entry_order, service_key, team_key, url_key
from kubedora.models import CatalogEntry

CatalogIndex = Mapping[CatalogKey, Collection[CatalogEntry]]


class IndexedCatalog:
    """Each lookup is one dict access per index; the entries under one
    service or URL key are few (an object or two), so ordering them is cheap.
    A team's entries can be many: `team()` reads one of them, never all."""

    __slots__ = ("_indexes",)

    def __init__(self, indexes: Iterable[CatalogIndex]) -> None:
        self._indexes: Sequence[CatalogIndex] = tuple(indexes)

    def _entries(self, key: CatalogKey | None) -> tuple[CatalogEntry, ...]:
        if key is None:
            return ()
        found = [entry for index in self._indexes if key in index for entry in index[key]]
        found.sort(key=entry_order)
        return tuple(found)

    def by_service(self, name: str) -> tuple[CatalogEntry, ...]:
        return self._entries(service_key(name))

    def by_pagerduty_url(self, url: str) -> tuple[CatalogEntry, ...]:
        return self._entries(url_key(url))

    def team(self, name: str) -> str | None:
        key = team_key(name)
        for index in self._indexes:
            if key in index:
                for entry in index[key]:
                    return entry.team
        return None
