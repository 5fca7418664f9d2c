"""Tell what changed in the catalog when an annotated object changes.

The indexes hold the current entries but not the previous ones, and a
watch event carries only the new object; so the last entry seen of every
annotated object is remembered here, by uid, to know which keys an edit or
a removal affects."""

from __future__ import annotations

from dataclasses import dataclass

from kubedora.catalog.annotations import ParsedEntry
from kubedora.matching import CatalogKey, entry_keys
from kubedora.models import CatalogEntry


@dataclass(frozen=True, slots=True)
class Change:
    # Objects attributed under these keys may be attributed differently now.
    keys: frozenset[CatalogKey] = frozenset()
    # Annotation problems to report: the object's are new, or changed.
    problems: tuple[str, ...] = ()


NO_CHANGE = Change()


@dataclass(frozen=True, slots=True)
class _Seen:
    entry: CatalogEntry
    problems: tuple[str, ...]


class CatalogMemory:
    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def knows(self, uid: str) -> bool:
        return uid in self._seen

    def known(self) -> list[str]:
        return list(self._seen)

    def update(self, uid: str, parsed: ParsedEntry | None, *, listed: bool) -> Change:
        """An object as a watch event shows it; `parsed` is None when it is
        not (or no longer) annotated. `listed`: seen in the operator's
        initial listing, when every failure and deployment is matched anyway."""
        if parsed is None:
            return self.forget(uid)
        previous = self._seen.get(uid)
        seen = _Seen(parsed.entry, parsed.problems)
        if previous == seen:
            return NO_CHANGE
        self._seen[uid] = seen
        # Problems are reported when they first show, or change.
        problems = (
            () if previous is not None and previous.problems == seen.problems else seen.problems
        )
        if previous is None:
            keys = frozenset() if listed else frozenset(entry_keys(parsed.entry))
        elif previous.entry == parsed.entry:
            keys = frozenset()
        else:
            keys = frozenset(entry_keys(previous.entry)) | frozenset(entry_keys(parsed.entry))
        return Change(keys, problems)

    def forget(self, uid: str) -> Change:
        """The object is gone, or no longer annotated."""
        previous = self._seen.pop(uid, None)
        if previous is None:
            return NO_CHANGE
        return Change(frozenset(entry_keys(previous.entry)))
