"""What matching needs of the catalog: three lookups, each O(1) in the
catalog's size. The operator answers them from its informer-fed indexes
(kubedora.catalog.view); tests and benchmarks from :class:`StaticCatalog`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from kubedora.matching.keys import PAGERDUTY_URL, CatalogKey, service_key, team_key, url_key
from kubedora.models import CatalogEntry


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


class StaticCatalog:
    """A catalog held in plain dicts."""

    def __init__(self, entries: Iterable[CatalogEntry] = ()) -> None:
        self._by_key: dict[CatalogKey, list[CatalogEntry]] = defaultdict(list)
        for entry in entries:
            for key in entry_keys(entry):
                self._by_key[key].append(entry)
        for found in self._by_key.values():
            found.sort(key=entry_order)

    def _get(self, key: CatalogKey | None) -> tuple[CatalogEntry, ...]:
        if key is None or key not in self._by_key:
            return ()
        return tuple(self._by_key[key])

    def by_service(self, name: str) -> tuple[CatalogEntry, ...]:
        return self._get(service_key(name))

    def by_pagerduty_url(self, url: str) -> tuple[CatalogEntry, ...]:
        return self._get(url_key(url))

    def team(self, name: str) -> str | None:
        found = self._get(team_key(name))
        return found[0].team if found else None


EMPTY_CATALOG = StaticCatalog()
