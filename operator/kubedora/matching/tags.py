"""`key:value` tags: reading a monitor's, and adding the catalog's to a failure's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubedora.models import CatalogEntry

LANGUAGE_KEY = "language"


def tag_key(tag: str) -> str:
    """The key of a tag, compared case-insensitively; a tag without a colon is all key."""
    return tag.split(":", 1)[0].strip().casefold()


def tag_value(tag: str) -> str:
    return tag.split(":", 1)[1].strip() if ":" in tag else ""


def distinct(values: Iterable[str]) -> list[str]:
    """Values in first-seen order, each once (compared case-insensitively)."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class MonitorEvidence:
    """What the triggering monitor's (or alert's) tags say.

    `services` has every `service:` value; `team` and `env` are set only when
    the tags name exactly one (two different teams are no evidence of either)."""

    services: tuple[str, ...] = ()
    team: str | None = None
    env: str | None = None

    @property
    def decides(self) -> bool:
        """Rule 1 applies: the tags name a service or a single team. An env
        alone does not say whose failure it is."""
        return bool(self.services) or self.team is not None


def monitor_evidence(tags: Sequence[str]) -> MonitorEvidence:
    values: dict[str, list[str]] = {"service": [], "team": [], "env": []}
    for tag in tags:
        key, value = tag_key(tag), tag_value(tag)
        if key in values and value:
            values[key].append(value)
    teams, envs = distinct(values["team"]), distinct(values["env"])
    return MonitorEvidence(
        services=tuple(distinct(values["service"])),
        team=teams[0] if len(teams) == 1 else None,
        env=envs[0] if len(envs) == 1 else None,
    )


def catalog_tags(entry: CatalogEntry) -> list[str]:
    """An entry's tags as a failure carries them: ``language:<name>`` for each
    language (lower case, as annotated), then the entry's own tags as written."""
    return [f"{LANGUAGE_KEY}:{language}" for language in entry.languages] + list(entry.tags)


def merge_tags(own: Sequence[str], entries: Iterable[CatalogEntry]) -> list[str]:
    """The failure's own tags, then the matched entries' tags whose key the
    failure does not set itself: on a key conflict the failure wins. Exact
    duplicates are dropped; entries that disagree with each other are all kept."""
    own_keys = {tag_key(tag) for tag in own}
    merged = dict.fromkeys(own)
    for entry in entries:
        for tag in catalog_tags(entry):
            if tag_key(tag) not in own_keys:
                merged.setdefault(tag)
    return list(merged)
