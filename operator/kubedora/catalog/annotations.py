"""Read a catalog entry from an object's `kubedora.io/` annotations.

A malformed part (a tag without a colon, a URL that is not a URL) is left
out of the entry and reported as a problem, so that one typo costs that part
only, never the entry or the operator."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from kubedora.matching import normalize_pagerduty_url
from kubedora.models import PREFIX, TAG_PATTERN, CatalogEntry, CatalogSource

SERVICE: Final = f"{PREFIX}service"
TEAM: Final = f"{PREFIX}team"
PAGERDUTY_SERVICE_URL: Final = f"{PREFIX}pagerduty-service-url"
LANGUAGES: Final = f"{PREFIX}languages"
TAGS: Final = f"{PREFIX}tags"

_TAG = re.compile(TAG_PATTERN)


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    entry: CatalogEntry
    problems: tuple[str, ...]


def is_annotated(annotations: Mapping[str, str]) -> bool:
    return SERVICE in annotations


def parse_entry(
    kind: str, namespace: str | None, name: str, annotations: Mapping[str, str]
) -> ParsedEntry | None:
    """The entry of an object, or None when it does not carry `kubedora.io/service`."""
    if not is_annotated(annotations):
        return None
    problems: list[str] = []
    url = _pagerduty_url(annotations.get(PAGERDUTY_SERVICE_URL, ""), problems)
    entry = CatalogEntry(
        # An empty service annotation means "named like the object".
        service=annotations[SERVICE].strip() or name,
        team=_shared(annotations.get(TEAM, "").strip()) or None,
        pagerduty_service_url=url,
        languages=_languages(annotations.get(LANGUAGES, "")),
        tags=_tags(annotations.get(TAGS, ""), problems),
        source=CatalogSource(kind=kind, namespace=namespace, name=name),
    )
    return ParsedEntry(entry, tuple(problems))


def _shared(value: str) -> str:
    # Teams, languages and tags repeat across many entries: one string each.
    return sys.intern(value)


def _items(value: str) -> list[str]:
    # Empty items (a trailing comma, ", ,") are not worth a warning.
    return [_shared(item.strip()) for item in value.split(",") if item.strip()]


def _languages(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_shared(item.lower()) for item in _items(value)))


def _tags(value: str, problems: list[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for item in _items(value):
        if _TAG.match(item):
            tags.append(item)
        else:
            problems.append(f"{TAGS}: {item!r} is not key:value; skipped it")
    return tuple(dict.fromkeys(tags))


def _pagerduty_url(value: str, problems: list[str]) -> str | None:
    if not value.strip():
        return None
    normalized = normalize_pagerduty_url(value)
    if normalized is None:
        problems.append(
            f"{PAGERDUTY_SERVICE_URL}: {value.strip()!r} is not an http(s) URL; skipped it"
        )
    return normalized
