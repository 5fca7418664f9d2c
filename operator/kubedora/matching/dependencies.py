"""Which catalog keys an attribution can depend on.

When the catalog changes under one of these keys, the object's attribution
may change, so the operator matches it again; under any other key it cannot
(rules.py consults no other key: a test checks it)."""

from __future__ import annotations

from kubedora.matching.keys import CatalogKey, service_key, team_key, url_key
from kubedora.matching.rules import MONITOR
from kubedora.matching.tags import monitor_evidence
from kubedora.models import Attribution, DeploymentSpec, FailureSource, FailureSpec


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
