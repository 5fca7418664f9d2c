"""Attribute a failure to catalog services and a team, and say how.

For a PagerDuty failure the first rule that applies decides:

1. ``monitor``: the triggering monitor's tags (`spec.pagerduty.monitorTags`)
   name one or more services or exactly one team. Without such tags (a
   manual resolve), an attribution earlier obtained by this rule is kept.
2. ``service-url``: the incident's PagerDuty service URL is a catalog
   entry's; one catalog service gives it and its team, several give their
   team when they agree on one (otherwise the rule does not apply).
3. ``service-name``: the PagerDuty service name is a catalog service.
4. ``team-name``: a PagerDuty team name is a catalog team (first in order).
5. ``service-name-as-team``: the PagerDuty service name is a catalog team.
6. ``pagerduty``: the PagerDuty service and first team as they are.

Rules 2-5 that give only a team give no services. A rule that gives a
service takes its team from the catalog when its entries agree on one.
Other failures keep their spec (``spec``), with the catalog team of their
services when the spec has no team, as deployments do.

For every failure the matched entries' languages and tags are added to its
custom tags (see tags.merge_tags). Env is a single `env:` monitor tag, else
the spec's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from kubedora.matching.keys import CatalogKey, service_key, team_key, url_key
from kubedora.matching.lookup import CatalogLookup
from kubedora.matching.tags import MonitorEvidence, distinct, merge_tags, monitor_evidence
from kubedora.models import (
    Attribution,
    CatalogEntry,
    DeploymentSpec,
    FailureSource,
    FailureSpec,
    PagerDutyContext,
)

SPEC: Final = "spec"
MONITOR: Final = "monitor"
SERVICE_URL: Final = "service-url"
SERVICE_NAME: Final = "service-name"
TEAM_NAME: Final = "team-name"
SERVICE_NAME_AS_TEAM: Final = "service-name-as-team"
PAGERDUTY: Final = "pagerduty"


@dataclass(frozen=True, slots=True)
class Decision:
    services: tuple[str, ...]
    team: str | None
    env: str | None
    matched_by: str
    entries: tuple[CatalogEntry, ...] = ()


def agreed_team(entries: Iterable[CatalogEntry]) -> str | None:
    """The team of these entries when those that name one all name the same."""
    teams = distinct(entry.team for entry in entries if entry.team)
    return teams[0] if len(teams) == 1 else None


def attribute_failure(
    spec: FailureSpec, previous: Attribution | None, catalog: CatalogLookup
) -> Attribution:
    """Where a failure counts. `previous` is the attribution in its status:
    the memory that keeps rule 1's answer when a later event lacks tags."""
    pagerduty = spec.pagerduty
    if spec.source == FailureSource.PAGERDUTY and pagerduty is not None:
        decision = _pagerduty(spec, pagerduty, previous, catalog)
    else:
        decision = _from_spec(spec, catalog)
    return Attribution(
        services=list(decision.services),
        team=decision.team,
        env=decision.env,
        severity=spec.severity,
        custom_tags=merge_tags(spec.custom_tags, decision.entries),
        matched_by=decision.matched_by,
    )


@dataclass(frozen=True, slots=True)
class Counted:
    """Where the scoreboard counts a failure."""

    services: tuple[str, ...]
    team: str | None
    env: str | None


def where_failure_counts(spec: FailureSpec, attribution: Attribution | None) -> Counted:
    """The one rule for where a failure counts: where its attribution says
    once matching filed it under the catalog; otherwise its spec's own
    values as they are now (the status may lag an edit), with the team the
    catalog filled in, as deployments have, until the spec names one."""
    if attribution is not None and attribution.matched_by != SPEC:
        return Counted(tuple(attribution.services), attribution.team, attribution.env)
    catalog_team = attribution.team if attribution is not None else None
    return Counted(tuple(spec.services), spec.team or catalog_team, spec.env)


def deployment_team(spec: DeploymentSpec, catalog: CatalogLookup) -> str | None:
    """A deployment's own team, else the catalog team of its service."""
    return spec.team or agreed_team(catalog.by_service(spec.service))


def _from_spec(spec: FailureSpec, catalog: CatalogLookup) -> Decision:
    entries = _entries_of(spec.services, catalog)
    return Decision(
        services=tuple(spec.services),
        team=spec.team or agreed_team(entries),
        env=spec.env,
        matched_by=SPEC,
        entries=entries,
    )


@dataclass(frozen=True, slots=True)
class _Incident:
    """What the rules read of a PagerDuty failure."""

    spec: FailureSpec
    pagerduty: PagerDutyContext
    previous: Attribution | None
    evidence: MonitorEvidence

    @property
    def env(self) -> str | None:
        return self.evidence.env or self.spec.env


@dataclass(frozen=True, slots=True)
class _Found:
    services: tuple[str, ...]
    team: str | None
    env: str | None
    entries: tuple[CatalogEntry, ...] = ()


_Rule = Callable[[_Incident, CatalogLookup], "_Found | None"]


def _pagerduty(
    spec: FailureSpec,
    pagerduty: PagerDutyContext,
    previous: Attribution | None,
    catalog: CatalogLookup,
) -> Decision:
    incident = _Incident(spec, pagerduty, previous, monitor_evidence(pagerduty.monitor_tags))
    for name, rule in _RULE_TABLE:
        found = rule(incident, catalog)
        if found is not None:
            return Decision(
                services=found.services,
                team=found.team,
                env=found.env,
                matched_by=name,
                entries=found.entries,
            )
    raise AssertionError("the last rule always applies")


def _by_monitor(incident: _Incident, catalog: CatalogLookup) -> _Found | None:
    evidence, previous = incident.evidence, incident.previous
    if not evidence.decides:
        if previous is not None and previous.matched_by == MONITOR:
            # Sticky: an event without monitor tags (a manual resolve) is
            # weaker evidence than the trigger that had them.
            return _Found(
                services=tuple(previous.services),
                team=previous.team,
                env=previous.env,
                entries=_entries_of(previous.services, catalog),
            )
        return None
    services: list[str] = []
    entries: list[CatalogEntry] = []
    for name in evidence.services:
        found = catalog.by_service(name)
        # The catalog's spelling, so that rows of one service do not split.
        services.append(found[0].service if found else name)
        entries.extend(found)
    team: str | None = agreed_team(entries)
    if evidence.team is not None:
        team = catalog.team(evidence.team) or evidence.team
    return _Found(
        services=tuple(distinct(services)), team=team, env=incident.env, entries=_unique(entries)
    )


def _by_url(incident: _Incident, catalog: CatalogLookup) -> _Found | None:
    url = incident.pagerduty.service_url
    entries = catalog.by_pagerduty_url(url) if url else ()
    if not entries:
        return None
    services = distinct(entry.service for entry in entries)
    team = agreed_team(entries)
    if len(services) == 1:
        return _Found(services=(services[0],), team=team, env=incident.env, entries=entries)
    if team is None:
        # Several services of several teams: the URL does not say whose it is.
        return None
    return _Found(services=(), team=team, env=incident.env, entries=entries)


def _by_service_name(incident: _Incident, catalog: CatalogLookup) -> _Found | None:
    name = incident.pagerduty.service_name
    entries = catalog.by_service(name) if name else ()
    if not entries:
        return None
    return _Found(
        services=(entries[0].service,),
        team=agreed_team(entries),
        env=incident.env,
        entries=entries,
    )


def _by_team_name(incident: _Incident, catalog: CatalogLookup) -> _Found | None:
    for name in incident.pagerduty.teams:
        team = catalog.team(name)
        if team is not None:
            return _Found(services=(), team=team, env=incident.env)
    return None


def _by_service_name_as_team(incident: _Incident, catalog: CatalogLookup) -> _Found | None:
    name = incident.pagerduty.service_name
    team = catalog.team(name) if name else None
    return None if team is None else _Found(services=(), team=team, env=incident.env)


def _as_is(incident: _Incident, catalog: CatalogLookup) -> _Found:
    pagerduty, spec = incident.pagerduty, incident.spec
    services = (pagerduty.service_name,) if pagerduty.service_name else tuple(spec.services)
    team = pagerduty.teams[0] if pagerduty.teams else spec.team
    return _Found(services=services, team=team, env=incident.env)


# The rules in the order they are tried: the first that applies decides.
_RULE_TABLE: Final[tuple[tuple[str, _Rule], ...]] = (
    (MONITOR, _by_monitor),
    (SERVICE_URL, _by_url),
    (SERVICE_NAME, _by_service_name),
    (TEAM_NAME, _by_team_name),
    (SERVICE_NAME_AS_TEAM, _by_service_name_as_team),
    (PAGERDUTY, _as_is),
)
RULES: Final = tuple(name for name, _ in _RULE_TABLE)


def _entries_of(services: Sequence[str], catalog: CatalogLookup) -> tuple[CatalogEntry, ...]:
    return _unique(entry for name in services for entry in catalog.by_service(name))


def _unique(entries: Iterable[CatalogEntry]) -> tuple[CatalogEntry, ...]:
    # One object can be found twice, e.g. by `service:Checkout` and `service:checkout`.
    return tuple({entry.source: entry for entry in entries}.values())


# Which catalog keys an attribution can depend on: when the catalog changes
# under one of these keys, the object's attribution may change, so the
# operator matches it again; under any other key it cannot (the rules above
# consult no other key: a test checks it).


def failure_dependencies(spec: FailureSpec, previous: Attribution | None) -> frozenset[CatalogKey]:
    pagerduty = spec.pagerduty
    if spec.source != FailureSource.PAGERDUTY or pagerduty is None:
        return frozenset(service_key(name) for name in spec.services)
    evidence = monitor_evidence(pagerduty.monitor_tags)
    if evidence.decides:
        keys = {service_key(name) for name in evidence.services}
        if evidence.team is not None:
            keys.add(team_key(evidence.team))
        return frozenset(keys)
    if previous is not None and previous.matched_by == MONITOR:
        return frozenset(service_key(name) for name in previous.services)
    keys = {team_key(name) for name in pagerduty.teams}
    if pagerduty.service_name:
        keys |= {service_key(pagerduty.service_name), team_key(pagerduty.service_name)}
    if pagerduty.service_url and (url := url_key(pagerduty.service_url)) is not None:
        keys.add(url)
    return frozenset(keys)


def deployment_dependencies(spec: DeploymentSpec) -> frozenset[CatalogKey]:
    # A deployment's own team wins: the catalog cannot change it then.
    return frozenset() if spec.team else frozenset({service_key(spec.service)})
