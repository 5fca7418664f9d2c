"""Service catalog entries: what an annotated Service or workload says about a service.

Validated pydantic dataclasses, frozen and slotted rather than BaseModels:
the operator holds one per annotated object, and a BaseModel's per-instance
dict and fields-set would triple what 10,000 of them cost."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass

Name = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """The annotated object an entry was read from."""

    kind: Name
    namespace: str | None
    name: Name

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One catalog entry. Values are as annotated (trimmed); the PagerDuty
    service URL is held normalised (matching.keys), so equal URLs compare equal."""

    service: Name
    source: CatalogSource
    team: str | None = None
    pagerduty_service_url: str | None = None
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
